//! The wakers of pending futures, each under a key its future removes on drop.

use std::task::Waker;

/// Registered wakers. A future keeps its key while it is pending and removes it when it
/// completes or is dropped, so a dropped future leaves nothing behind; the owner's lock guards
/// the slab.
#[derive(Default)]
pub(crate) struct WakerSlab {
    slots: Vec<Option<Waker>>,
    free: Vec<usize>,
    len: usize,
}

impl WakerSlab {
    /// Stores `waker` under `key`, taking a new key if `key` is `None`. A waker that would wake
    /// the same task as the stored one is not cloned again.
    pub(crate) fn register(&mut self, key: &mut Option<usize>, waker: &Waker) {
        match *key {
            Some(k) => {
                let slot = &mut self.slots[k];
                if !slot.as_ref().is_some_and(|w| w.will_wake(waker)) {
                    *slot = Some(waker.clone());
                }
            }
            None => {
                let k = self.free.pop().unwrap_or_else(|| {
                    self.slots.push(None);
                    self.slots.len() - 1
                });
                self.slots[k] = Some(waker.clone());
                self.len += 1;
                *key = Some(k);
            }
        }
    }

    /// Removes the waker under `key`, if any, and clears the key.
    pub(crate) fn remove(&mut self, key: &mut Option<usize>) {
        if let Some(k) = key.take() {
            if self.slots[k].take().is_some() {
                self.len -= 1;
            }
            self.free.push(k);
        }
    }

    /// Wakes every registered task, keeping the wakers: a woken future that is still pending
    /// when polled again keeps its key. Allocation-free.
    pub(crate) fn wake_all(&self) {
        if self.len == 0 {
            return;
        }
        for waker in self.slots.iter().flatten() {
            waker.wake_by_ref();
        }
    }

    /// How many wakers are registered.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.len
    }
}
