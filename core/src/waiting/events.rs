//! Events as an async stream: a bounded queue per subscriber.

use crate::event::Event;
use std::collections::VecDeque;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, Weak};
use std::task::{Context, Poll, Waker};

/// Events an [`EventStream`] dropped because its consumer fell more than
/// [`EventStream::CAPACITY`] events behind: yielded once, in place of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lagged(pub u64);

impl std::fmt::Display for Lagged {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} event(s) dropped: the consumer fell behind", self.0)
    }
}

impl std::error::Error for Lagged {}

/// The stream's [`Event`]s as an async [`Stream`](futures_core::Stream), from
/// [`VideoStream::events`](crate::VideoStream::events).
///
/// Items come in the order the events happen, the same ones the `on_event` callback sees. Each
/// subscriber keeps at most [`CAPACITY`](Self::CAPACITY) events: when it falls further behind,
/// the oldest are dropped and it yields one `Err(Lagged(n))` before the ones it kept, instead of
/// growing. The stream ends (`None`) after the last event of the first run that ends once it
/// exists — stopped, given up or finished — so a subscription made before `start()` covers
/// that run. Dropping it unsubscribes.
#[must_use = "streams do nothing unless polled"]
pub struct EventStream {
    subscriber: Arc<Subscriber>,
}

impl EventStream {
    /// Events kept per subscriber before the oldest are dropped.
    pub const CAPACITY: usize = 256;
}

impl futures_core::Stream for EventStream {
    type Item = Result<Event, Lagged>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let mut queue = self.subscriber.lock();
        if queue.lagged > 0 {
            let lagged = std::mem::take(&mut queue.lagged);
            return Poll::Ready(Some(Err(Lagged(lagged))));
        }
        if let Some(event) = queue.events.pop_front() {
            return Poll::Ready(Some(Ok(event)));
        }
        if queue.closed {
            queue.waker = None;
            return Poll::Ready(None);
        }
        if !queue
            .waker
            .as_ref()
            .is_some_and(|w| w.will_wake(cx.waker()))
        {
            queue.waker = Some(cx.waker().clone());
        }
        Poll::Pending
    }
}

impl std::fmt::Debug for EventStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let queue = self.subscriber.lock();
        f.debug_struct("EventStream")
            .field("queued", &queue.events.len())
            .field("closed", &queue.closed)
            .finish()
    }
}

struct Subscriber {
    queue: Mutex<Queue>,
}

struct Queue {
    events: VecDeque<Event>,
    lagged: u64,
    closed: bool,
    waker: Option<Waker>,
}

impl Subscriber {
    fn lock(&self) -> MutexGuard<'_, Queue> {
        self.queue.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Every live [`EventStream`] of one video stream. Held weakly: a dropped stream is pruned at
/// the next event.
#[derive(Default)]
pub(crate) struct Subscribers {
    list: Mutex<Vec<Weak<Subscriber>>>,
}

impl Subscribers {
    fn lock(&self) -> MutexGuard<'_, Vec<Weak<Subscriber>>> {
        self.list.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn subscribe(&self) -> EventStream {
        let subscriber = Arc::new(Subscriber {
            queue: Mutex::new(Queue {
                events: VecDeque::new(),
                lagged: 0,
                closed: false,
                waker: None,
            }),
        });
        self.lock().push(Arc::downgrade(&subscriber));
        EventStream { subscriber }
    }

    /// Queues `event` for every subscriber (on the supervising thread).
    pub(crate) fn publish(&self, event: &Event) {
        let mut list = self.lock();
        if list.is_empty() {
            return;
        }
        list.retain(|weak| {
            let Some(subscriber) = weak.upgrade() else {
                return false;
            };
            let mut queue = subscriber.lock();
            if queue.closed {
                return true;
            }
            if queue.events.len() == EventStream::CAPACITY {
                queue.events.pop_front();
                queue.lagged += 1;
            }
            queue.events.push_back(event.clone());
            if let Some(waker) = &queue.waker {
                waker.wake_by_ref();
            }
            true
        });
    }

    /// Ends every current subscription after the events it has queued (the run ended).
    pub(crate) fn close_all(&self) {
        let list = std::mem::take(&mut *self.lock());
        for subscriber in list.iter().filter_map(Weak::upgrade) {
            let mut queue = subscriber.lock();
            queue.closed = true;
            if let Some(waker) = queue.waker.take() {
                waker.wake();
            }
        }
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.lock().len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures_core::Stream;
    use std::task::Waker;

    fn poll(stream: &mut EventStream) -> Poll<Option<Result<Event, Lagged>>> {
        Pin::new(stream).poll_next(&mut Context::from_waker(Waker::noop()))
    }

    fn connecting(attempt: u32) -> Event {
        Event::Connecting { attempt }
    }

    #[test]
    fn a_consumer_that_falls_behind_gets_one_lagged_item_then_the_newest_events() {
        let subscribers = Subscribers::default();
        let mut stream = subscribers.subscribe();
        let total = EventStream::CAPACITY as u32 + 10;
        for attempt in 1..=total {
            subscribers.publish(&connecting(attempt));
        }
        assert!(matches!(
            poll(&mut stream),
            Poll::Ready(Some(Err(Lagged(10))))
        ));
        for attempt in 11..=total {
            match poll(&mut stream) {
                Poll::Ready(Some(Ok(Event::Connecting { attempt: got }))) => {
                    assert_eq!(got, attempt)
                }
                other => panic!("expected Connecting {attempt}, got {other:?}"),
            }
        }
        assert!(poll(&mut stream).is_pending());
        subscribers.close_all();
        assert!(matches!(poll(&mut stream), Poll::Ready(None)));
    }

    #[test]
    fn closing_delivers_what_is_queued_first_and_dropped_subscribers_are_pruned() {
        let subscribers = Subscribers::default();
        let mut kept = subscribers.subscribe();
        let dropped = subscribers.subscribe();
        drop(dropped);
        subscribers.publish(&Event::Stopped);
        assert_eq!(subscribers.len(), 1);
        subscribers.close_all();
        assert!(matches!(
            poll(&mut kept),
            Poll::Ready(Some(Ok(Event::Stopped)))
        ));
        assert!(matches!(poll(&mut kept), Poll::Ready(None)));
        // A subscription made after the close belongs to the next run.
        let mut next = subscribers.subscribe();
        assert!(poll(&mut next).is_pending());
    }
}
