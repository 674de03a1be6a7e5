//! What a backend remembers across the connections of one stream.

use std::any::{Any, TypeId};
use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

/// Values a backend keeps across the connections of one stream — for example which physical
/// camera a source resolved to on the first connection, so that a reconnection opens the same
/// one. Reached through [`OpenRequest::memory`](crate::raw::OpenRequest::memory); it lives as long
/// as the stream, across reconnections and `stop()`/`start()`.
///
/// One value per type: a backend keys its values by a private type of its own. Calls lock an
/// internal mutex only for the copy in or out, never across a backend's blocking call.
#[derive(Default)]
pub struct StreamMemory {
    values: Mutex<HashMap<TypeId, Box<dyn Any + Send + Sync>>>,
}

impl StreamMemory {
    /// A copy of the value of type `T`, if one was stored.
    pub fn get<T: Clone + Send + Sync + 'static>(&self) -> Option<T> {
        self.values
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&TypeId::of::<T>())
            .and_then(|v| v.downcast_ref::<T>())
            .cloned()
    }

    /// Stores `value`, replacing any earlier value of its type.
    pub fn set<T: Send + Sync + 'static>(&self, value: T) {
        self.values
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(TypeId::of::<T>(), Box::new(value));
    }

    /// Forgets the value of type `T`.
    pub fn forget<T: 'static>(&self) {
        self.values
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(&TypeId::of::<T>());
    }
}

impl std::fmt::Debug for StreamMemory {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The values may be anything a backend keeps; only their number is shown.
        let n = self
            .values
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len();
        f.debug_struct("StreamMemory").field("values", &n).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Clone, Debug, PartialEq)]
    struct Camera(String);

    #[test]
    fn values_are_kept_by_type() {
        let memory = StreamMemory::default();
        assert_eq!(memory.get::<Camera>(), None);
        memory.set(Camera("usb-1".into()));
        memory.set(7u32);
        assert_eq!(memory.get::<Camera>(), Some(Camera("usb-1".into())));
        assert_eq!(memory.get::<u32>(), Some(7));
        memory.forget::<Camera>();
        assert_eq!(memory.get::<Camera>(), None);
        assert_eq!(memory.get::<u32>(), Some(7));
    }
}
