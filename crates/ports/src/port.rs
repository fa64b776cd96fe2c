//! One object behind one receive right: its make-send count, its no-senders request and
//! how a no-senders notification is judged (libports' `ports_get_right` and
//! `ports_no_senders`).

use std::any::Any;
use std::fmt;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, Weak};

use herd_runtime::{Errno, PortArg, PortName, ReceiveRight, SendRight};

use crate::bucket::BucketInner;
use crate::class::{Class, ClassInner};
use crate::gate::Gate;

/// A port's mutable state, behind its lock (first in the lock order).
struct PortState {
    /// The receive right; `None` once destroyed.
    receive: Option<ReceiveRight>,
    /// Send rights made through the library (Mach's make-send count, as far as it knows).
    mscount: u32,
    /// Whether a no-senders request is registered.
    ns_requested: bool,
    /// Whether the bucket's map holds the port (it does while send rights may exist).
    in_map: bool,
}

/// An object and its port.
pub(crate) struct Port<T> {
    name: PortName,
    object: T,
    class: Arc<ClassInner<T>>,
    bucket: Weak<BucketInner>,
    state: Mutex<PortState>,
}

/// What the bucket's map needs of a port of any class.
pub(crate) trait AnyPort: Send + Sync {
    /// Judges a no-senders notification with `mscount`; returns the map's reference if
    /// the port left the map (for the caller to drop once no lock is held).
    fn no_senders(&self, mscount: u32) -> Option<Arc<dyn AnyPort>>;
    /// The port's class's gate.
    fn class_gate(&self) -> &Arc<Gate>;
    /// Destroys the receive right now.
    fn destroy(&self);
    /// The port as `Any`, to recover its type.
    fn into_any(self: Arc<Self>) -> Arc<dyn Any + Send + Sync>;
}

impl<T: Send + Sync + 'static> Port<T> {
    /// A new port object; the caller puts `receive` in the bucket's set first.
    pub(crate) fn new(
        class: &Class<T>,
        bucket: Weak<BucketInner>,
        receive: ReceiveRight,
        object: T,
    ) -> Arc<Port<T>> {
        class.inner.live.fetch_add(1, Ordering::AcqRel);
        Arc::new(Port {
            name: receive.name(),
            object,
            class: Arc::clone(&class.inner),
            bucket,
            state: Mutex::new(PortState {
                receive: Some(receive),
                mscount: 0,
                ns_requested: false,
                in_map: false,
            }),
        })
    }

    fn lock(&self) -> MutexGuard<'_, PortState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Re-arms the no-senders request with the library's count.
    fn rearm(&self, state: &mut PortState) {
        let Some(receive) = state.receive.as_ref() else {
            return;
        };
        match receive.request_no_senders(state.mscount, receive) {
            // A replaced request's send-once right drops here: the kernel sends a
            // send-once notification to the port, which the bucket ignores.
            Ok(_previous) => state.ns_requested = true,
            Err(e) => tracing::warn!(port = %self.name, error = %e, "cannot request no-senders"),
        }
    }
}

impl<T: Send + Sync + 'static> AnyPort for Port<T> {
    fn no_senders(&self, mscount: u32) -> Option<Arc<dyn AnyPort>> {
        let mut state = self.lock();
        state.ns_requested = false;
        let receive = state.receive.as_ref()?;
        if mscount < state.mscount {
            tracing::trace!(port = %self.name, mscount, ours = state.mscount, "stale no-senders");
            self.rearm(&mut state);
            return None;
        }
        // Believe the kernel, not the message: anyone holding a send right can send one.
        match receive.status() {
            Ok(status) if !status.srights => {}
            Ok(status) => {
                tracing::debug!(port = %self.name, mscount, "no-senders while send rights exist");
                state.mscount = state.mscount.max(status.mscount);
                self.rearm(&mut state);
                return None;
            }
            Err(e) => {
                tracing::debug!(port = %self.name, error = %e, "no status for a no-senders port");
                return None;
            }
        }
        if !state.in_map {
            return None;
        }
        state.in_map = false;
        tracing::trace!(port = %self.name, class = %self.class.name, "no senders: port leaves");
        self.bucket.upgrade().and_then(|b| b.remove(self.name))
    }

    fn class_gate(&self) -> &Arc<Gate> {
        &self.class.gate
    }

    fn destroy(&self) {
        destroy(self);
    }

    fn into_any(self: Arc<Self>) -> Arc<dyn Any + Send + Sync> {
        self
    }
}

impl<T> Drop for Port<T> {
    fn drop(&mut self) {
        let receive = self
            .state
            .get_mut()
            .unwrap_or_else(PoisonError::into_inner)
            .receive
            .take();
        drop(receive);
        self.class.live.fetch_sub(1, Ordering::AcqRel);
        self.class.clean(&self.object);
    }
}

/// A counted reference to a port's object (libports' `port_info` reference). The object
/// lives while its port may have senders or any `PortRef` is held; derefs to the object.
pub struct PortRef<T> {
    pub(crate) port: Arc<Port<T>>,
}

impl<T> Clone for PortRef<T> {
    fn clone(&self) -> Self {
        PortRef {
            port: Arc::clone(&self.port),
        }
    }
}

impl<T> std::ops::Deref for PortRef<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.port.object
    }
}

impl<T> fmt::Debug for PortRef<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PortRef({} of {})", self.port.name, self.port.class.name)
    }
}

impl<T: Send + Sync + 'static> PortRef<T> {
    /// The receive right's name in the server's space (what requests arrive on).
    pub fn name(&self) -> PortName {
        self.port.name
    }

    /// The object.
    pub fn object(&self) -> &T {
        &self.port.object
    }

    /// Whether two references are to the same port.
    pub fn same(&self, other: &PortRef<T>) -> bool {
        Arc::ptr_eq(&self.port, &other.port)
    }

    /// A new send right to the port, counted: the port joins its bucket's map (so
    /// requests to it find the object) and a no-senders request makes sure it leaves
    /// when the last send right goes. Hand send rights out only this way (not with
    /// `PortArg::MakeSend`), so that every port with senders is watched. `EBADF` once the
    /// port was destroyed.
    pub fn make_send(&self) -> Result<SendRight, Errno> {
        let port = &self.port;
        let mut state = port.lock();
        let receive = state.receive.as_ref().ok_or(Errno::EBADF)?;
        let right = receive.make_send().map_err(Errno::from)?;
        state.mscount = state.mscount.wrapping_add(1);
        if !state.ns_requested {
            port.rearm(&mut state);
        }
        if !state.in_map {
            let bucket = port.bucket.upgrade().ok_or(Errno::EBADF)?;
            let entry: Arc<dyn AnyPort> = Arc::clone(port) as Arc<dyn AnyPort>;
            bucket.insert(port.name, entry);
            state.in_map = true;
        }
        Ok(right)
    }

    /// [`PortRef::make_send`] as a message argument (moving the new right).
    pub fn make_send_arg(&self) -> Result<PortArg, Errno> {
        self.make_send().map(PortArg::MoveSend)
    }

    /// Destroys the receive right now (libports' `ports_destroy_right`): holders of send
    /// rights see a dead port. The object goes when the last `PortRef` does.
    pub fn destroy_right(&self) {
        destroy(&self.port);
    }

    /// The make-send count as the library knows it.
    pub fn mscount(&self) -> u32 {
        self.port.lock().mscount
    }
}

/// Takes a port's receive right and map entry, and drops them once no lock is held.
fn destroy<T: Send + Sync + 'static>(port: &Port<T>) {
    let (receive, removed) = {
        let mut state = port.lock();
        let removed = if std::mem::take(&mut state.in_map) {
            port.bucket.upgrade().and_then(|b| b.remove(port.name))
        } else {
            None
        };
        (state.receive.take(), removed)
    };
    drop(receive);
    drop(removed);
}
