//! Buckets: a port set, the map from its members' names to their objects, and the pool
//! of threads serving it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::Duration;

use herd_interfaces::notify;
use herd_interfaces::support::error_reply;
use herd_runtime::server::ServeError;
use herd_runtime::{
    notify_id, Errno, OutMessage, PortName, PortSet, Received, Right, ServeOptions, Task,
};

use crate::class::Class;
use crate::demux::Demuxer;
use crate::gate::{Gate, Inhibited, RpcGuard};
use crate::port::{AnyPort, Port, PortRef};

/// What a bucket's handles and its ports share.
pub(crate) struct BucketInner {
    task: Task,
    set_name: PortName,
    /// The port set; taken (destroyed) by `shutdown`.
    set: Mutex<Option<PortSet>>,
    /// Ports that may have senders, by receive name.
    ports: RwLock<HashMap<PortName, Arc<dyn AnyPort>>>,
    gate: Arc<Gate>,
}

impl BucketInner {
    pub(crate) fn insert(&self, name: PortName, port: Arc<dyn AnyPort>) {
        self.ports
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(name, port);
    }

    /// Takes a port out of the map; the caller drops the answer once it holds no lock.
    pub(crate) fn remove(&self, name: PortName) -> Option<Arc<dyn AnyPort>> {
        self.ports
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(&name)
    }

    fn get(&self, name: PortName) -> Option<Arc<dyn AnyPort>> {
        self.ports
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&name)
            .cloned()
    }

    /// Serves one message: no-senders notifications here, everything else through the
    /// gates to `demux`.
    fn handle(&self, demux: &Demuxer, msg: Received) -> Option<OutMessage> {
        let port = self.get(msg.dest);
        if msg.id == notify_id::NO_SENDERS {
            let mscount = match notify::codec::decode_no_senders_request(msg) {
                Ok(m) => m,
                Err(e) => {
                    tracing::debug!(error = %e, "malformed no-senders message");
                    return None;
                }
            };
            // Dropped here, with no lock held: this may run the clean routine.
            drop(port.and_then(|p| p.no_senders(mscount)));
            return None;
        }
        if is_notification(msg.id) {
            // Not gated: notifications must always get through. One no interface takes
            // (a send-once notification from re-arming no-senders, say) is dropped.
            return demux.try_dispatch(msg).unwrap_or(None);
        }
        let Some(port) = port else {
            tracing::debug!(dest = %msg.dest, id = msg.id, "message to a port with no object");
            return error_reply(msg, Errno::EOPNOTSUPP);
        };
        let guard = match RpcGuard::enter(&[&self.gate, port.class_gate()]) {
            Ok(g) => g,
            Err(e) => return error_reply(msg, e),
        };
        drop(port);
        let reply = demux.dispatch(msg);
        drop(guard);
        reply
    }
}

/// Whether `id` is one of the notify interface's (64..=72).
fn is_notification(id: u32) -> bool {
    (notify::BASE..notify::BASE + 9).contains(&id)
}

/// A bucket of ports (libports' `port_bucket`): a port set served by a pool of threads.
/// Cloning gives another handle to the same bucket.
#[derive(Clone)]
pub struct Bucket {
    inner: Arc<BucketInner>,
}

impl std::fmt::Debug for Bucket {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Bucket")
            .field("set", &self.inner.set_name)
            .field("ports", &self.len())
            .finish()
    }
}

impl Bucket {
    /// A new, empty bucket of `task`'s.
    pub fn new(task: &Task) -> Result<Bucket, Errno> {
        let set = task.allocate_port_set().map_err(Errno::from)?;
        Ok(Bucket {
            inner: Arc::new(BucketInner {
                task: task.clone(),
                set_name: set.name(),
                set: Mutex::new(Some(set)),
                ports: RwLock::new(HashMap::new()),
                gate: Gate::new(),
            }),
        })
    }

    /// The task whose ports these are.
    pub fn task(&self) -> &Task {
        &self.inner.task
    }

    /// The port set's name.
    pub fn set_name(&self) -> PortName {
        self.inner.set_name
    }

    /// A new port in this bucket for `object`, of `class`. It has no send rights yet:
    /// make them with [`PortRef::make_send`]. If none is ever made, the port and object
    /// go with the last `PortRef`.
    pub fn create_port<T: Send + Sync + 'static>(
        &self,
        class: &Class<T>,
        object: T,
    ) -> Result<PortRef<T>, Errno> {
        let receive = self.inner.task.allocate_port().map_err(Errno::from)?;
        {
            let set = self
                .inner
                .set
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            let set = set.as_ref().ok_or(Errno::EBADF)?;
            set.insert(&receive).map_err(Errno::from)?;
        }
        let port = Port::new(class, Arc::downgrade(&self.inner), receive, object);
        Ok(PortRef { port })
    }

    /// The object of type `T` whose port is named `name` here (a request's
    /// `Request::dest`), if it has senders and is of that type.
    pub fn lookup<T: Send + Sync + 'static>(&self, name: PortName) -> Option<PortRef<T>> {
        let any = self.inner.get(name)?.into_any();
        any.downcast::<Port<T>>().ok().map(|port| PortRef { port })
    }

    /// The object behind a right received in a message, if the right is to one of this
    /// bucket's ports (a send right to a port of one's own arrives under the receive
    /// right's name).
    pub fn lookup_right<T: Send + Sync + 'static>(&self, right: &Right) -> Option<PortRef<T>> {
        match right {
            Right::Send(_) | Right::SendOnce(_) => self.lookup(right.name()),
            _ => None,
        }
    }

    /// Ports in the map (those that may have senders).
    pub fn len(&self) -> usize {
        self.inner
            .ports
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }

    /// Whether no port may have senders.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// RPCs in progress.
    pub fn in_flight(&self) -> usize {
        self.inner.gate.in_flight()
    }

    /// Refuses new RPCs on the bucket (`EBUSY`) and waits, at most `timeout`, for those
    /// in progress (other than the caller's own) to finish; `EBUSY` if they do not.
    pub fn inhibit(&self, timeout: Duration) -> Result<Inhibited, Errno> {
        self.inner.gate.inhibit(timeout)
    }

    /// Serves the bucket on the calling thread (and a pool that grows with load) until
    /// [`Bucket::shutdown`] or the task's end. No-senders notifications are handled here;
    /// other notifications go to `demux` ungated; a request to a port with no object is
    /// answered `EOPNOTSUPP`, one to an inhibited class or bucket `EBUSY`.
    pub fn serve(&self, demux: Demuxer, opts: ServeOptions) -> Result<(), ServeError> {
        let inner = Arc::clone(&self.inner);
        let demux = Arc::new(demux);
        herd_runtime::serve(
            &self.inner.task,
            self.inner.set_name,
            move |msg| inner.handle(&demux, msg),
            opts,
        )
    }

    /// Stops serving: the port set and every port that may have senders are destroyed
    /// (their holders see dead ports, nobody waits for an answer that cannot come), so
    /// every serving thread returns once it has sent its last reply. Objects go when the
    /// last `PortRef` to them does.
    pub fn shutdown(&self) {
        let set = self
            .inner
            .set
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        drop(set);
        let ports = std::mem::take(
            &mut *self
                .inner
                .ports
                .write()
                .unwrap_or_else(PoisonError::into_inner),
        );
        for port in ports.values() {
            port.destroy();
        }
        drop(ports);
    }
}
