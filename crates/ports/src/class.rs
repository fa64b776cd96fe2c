//! Port classes: the ports of one kind of object, what happens when one of them goes, and
//! inhibiting RPCs on all of them at once.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use herd_runtime::Errno;

use crate::gate::{Gate, Inhibited};

/// The clean routine: runs once per object, when its port is gone and no reference is left.
type Clean<T> = Box<dyn Fn(&T) + Send + Sync>;

/// What the ports of one class share.
pub(crate) struct ClassInner<T> {
    pub(crate) name: String,
    clean: Option<Clean<T>>,
    pub(crate) gate: Arc<Gate>,
    /// Live ports (created and not yet dropped).
    pub(crate) live: AtomicUsize,
}

impl<T> ClassInner<T> {
    /// Runs the clean routine on an object that is going.
    pub(crate) fn clean(&self, object: &T) {
        if let Some(clean) = &self.clean {
            clean(object);
        }
    }
}

/// A class of ports whose objects are `T`s (libports' `port_class`). Cloning gives another
/// handle to the same class.
pub struct Class<T> {
    pub(crate) inner: Arc<ClassInner<T>>,
}

impl<T> Clone for Class<T> {
    fn clone(&self) -> Self {
        Class {
            inner: Arc::clone(&self.inner),
        }
    }
}

impl<T> std::fmt::Debug for Class<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Class")
            .field("name", &self.inner.name)
            .field("live", &self.count())
            .finish()
    }
}

impl<T: Send + Sync + 'static> Class<T> {
    /// A class with no clean routine (objects simply drop).
    pub fn new(name: &str) -> Self {
        Self::build(name, None)
    }

    /// A class whose `clean` runs once for each object, after its port is destroyed (its
    /// last send right went, or [`PortRef::destroy_right`](crate::PortRef::destroy_right))
    /// and the last [`PortRef`](crate::PortRef) to it dropped.
    pub fn with_clean(name: &str, clean: impl Fn(&T) + Send + Sync + 'static) -> Self {
        Self::build(name, Some(Box::new(clean)))
    }

    fn build(name: &str, clean: Option<Clean<T>>) -> Self {
        Class {
            inner: Arc::new(ClassInner {
                name: name.to_string(),
                clean,
                gate: Gate::new(),
                live: AtomicUsize::new(0),
            }),
        }
    }
}

impl<T> Class<T> {
    /// The class's name (for logs).
    pub fn name(&self) -> &str {
        &self.inner.name
    }

    /// How many of its ports are alive (created, and not yet cleaned).
    pub fn count(&self) -> usize {
        self.inner.live.load(Ordering::Acquire)
    }

    /// RPCs in progress on its ports.
    pub fn in_flight(&self) -> usize {
        self.inner.gate.in_flight()
    }

    /// Refuses new RPCs on the class's ports (`EBUSY`) and waits, at most `timeout`, for
    /// those in progress (other than the caller's own) to finish; `EBUSY` if they do not,
    /// or if the class is already inhibited. Dropping the answer lets RPCs in again.
    pub fn inhibit(&self, timeout: Duration) -> Result<Inhibited, Errno> {
        self.inner.gate.inhibit(timeout)
    }
}
