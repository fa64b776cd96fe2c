//! The auth server itself: handles behind ports (herd-ports), `auth_getids`,
//! `auth_makeauth`, and the two halves of the handshake, which wait without holding a
//! thread (their replies are sent when the other half arrives).

use std::sync::{Arc, Mutex, PoisonError};

use herd_interfaces::auth::{self, codec, ids};
use herd_interfaces::Request;
use herd_ports::{Bucket, Class, Demuxer};
use herd_runtime::server::ServeError;
use herd_runtime::{
    notify_id, Disposition, Errno, NotifyKind, OutMessage, PortArg, PortCall, PortName,
    ReceiveRight, Received, Right, SendRight, ServeOptions, Task,
};

use crate::rendezvous::{Outcome, Rendezvous};
use crate::Ids;

/// A running auth server: create handles with [`AuthServer::handle`], then
/// [`AuthServer::serve`].
#[derive(Clone)]
pub struct AuthServer {
    inner: Arc<Inner>,
}

struct Inner {
    task: Task,
    bucket: Bucket,
    class: Class<Ids>,
    pending: Mutex<Rendezvous>,
    /// Where dead-name notifications about waiting callers arrive.
    notify: ReceiveRight,
}

impl AuthServer {
    /// An auth server in `task` (not serving yet).
    pub fn new(task: &Task) -> Result<AuthServer, Errno> {
        Ok(AuthServer {
            inner: Arc::new(Inner {
                task: task.clone(),
                bucket: Bucket::new(task)?,
                class: Class::new("auth handle"),
                pending: Mutex::new(Rendezvous::default()),
                notify: task.allocate_port().map_err(Errno::from)?,
            }),
        })
    }

    /// A new handle holding `ids` (how boot makes the first, superuser, identity).
    pub fn handle(&self, ids: Ids) -> Result<SendRight, Errno> {
        self.inner
            .bucket
            .create_port(&self.inner.class, ids)?
            .make_send()
    }

    /// How many handshake halves wait for their other half.
    pub fn waiting(&self) -> usize {
        self.inner.lock().waiting()
    }

    /// Serves until [`AuthServer::shutdown`] (or the kernel goes away).
    pub fn serve(&self, opts: ServeOptions) -> Result<(), ServeError> {
        let watcher = {
            let inner = self.inner.clone();
            std::thread::Builder::new()
                .name("auth-notify".into())
                .spawn(move || inner.watch_deaths())
                .map_err(|_| ServeError::Kern(herd_runtime::KernError::ResourceShortage))?
        };
        let inner = self.inner.clone();
        let demux = Demuxer::new().with(move |m| inner.dispatch(m));
        let served = self.inner.bucket.serve(demux, opts);
        drop(watcher);
        served
    }

    /// Stops serving: every handle's port is destroyed (holders see a dead server).
    pub fn shutdown(&self) {
        self.inner.bucket.shutdown();
        let _ = self
            .inner
            .task
            .call(PortCall::Destroy(self.inner.notify.name()));
    }
}

impl Inner {
    fn lock(&self) -> std::sync::MutexGuard<'_, Rendezvous> {
        self.pending.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn ids_of(&self, name: PortName) -> Result<Ids, Errno> {
        self.bucket
            .lookup::<Ids>(name)
            .map(|h| h.object().clone())
            .ok_or(Errno::EOPNOTSUPP)
    }

    fn dispatch(&self, msg: Received) -> Result<Option<OutMessage>, Received> {
        match msg.id {
            ids::AUTH_USER_AUTHENTICATE | ids::AUTH_SERVER_AUTHENTICATE => {
                Ok(self.authenticate(msg))
            }
            _ => auth::try_dispatch(self, msg),
        }
    }

    /// One half of the handshake: answered now if the other half waits, else later.
    fn authenticate(&self, msg: Received) -> Option<OutMessage> {
        let req = Request::of(&msg);
        let reply = herd_runtime::server::take_reply_right();
        let ids = match self.ids_of(req.dest) {
            Ok(ids) => ids,
            Err(e) => return Some(refuse(req.id, reply, e)),
        };
        let outcome = if req.id == ids::AUTH_USER_AUTHENTICATE {
            match codec::decode_auth_user_authenticate_request(msg) {
                Ok(rendezvous) => self.lock().user(reply, ids, rendezvous),
                Err(_) => return Some(refuse(req.id, reply, Errno::MIG_BAD_ARGUMENTS)),
            }
        } else {
            match codec::decode_auth_server_authenticate_request(msg) {
                Ok((rendezvous, newport)) => self.lock().server(reply, newport, rendezvous),
                Err(_) => return Some(refuse(req.id, reply, Errno::MIG_BAD_ARGUMENTS)),
            }
        };
        match outcome {
            Outcome::Refused(answer) => Some(answer),
            Outcome::Met { answer, other } => {
                if let Err(e) = self.task.send(other, Some(std::time::Duration::ZERO)) {
                    tracing::debug!(error = %e, "the waiting half of a handshake is gone");
                }
                Some(answer)
            }
            Outcome::Wait { watch } => {
                self.watch(watch);
                None
            }
        }
    }

    /// Asks the kernel to say when the waiting caller behind `reply` dies.
    fn watch(&self, reply: PortName) {
        let asked = self.task.call(PortCall::RequestNotification {
            name: reply,
            kind: NotifyKind::DeadName,
            sync: 1,
            notify: self.notify.name(),
            notify_disposition: Disposition::MakeSendOnce,
        });
        if let Err(e) = asked {
            tracing::debug!(error = %e, "cannot watch a waiting caller");
        }
    }

    /// Forgets waiting halves whose callers died, until the notify port is destroyed.
    fn watch_deaths(&self) {
        while let Ok(m) = self.task.receive(self.notify.name(), None) {
            if m.id != notify_id::DEAD_NAME || m.data.len() != 4 {
                continue;
            }
            let name = PortName(u32::from_le_bytes([
                m.data[0], m.data[1], m.data[2], m.data[3],
            ]));
            self.lock().forget(name);
            // The notification added a user reference to the dead name; the forgotten
            // reply right took the other with it.
            let _ = self.task.call(PortCall::Deallocate(name));
        }
    }
}

/// The error answer to an authenticate request.
fn refuse(id: u32, reply: Right, e: Errno) -> OutMessage {
    if id == ids::AUTH_USER_AUTHENTICATE {
        codec::encode_auth_user_authenticate_reply(PortArg::from(reply), Err(e))
    } else {
        codec::encode_auth_server_authenticate_reply(PortArg::from(reply), Err(e))
    }
}

impl auth::AuthServer for Inner {
    fn auth_getids(
        &self,
        req: &Request,
    ) -> Result<(Vec<u32>, Vec<u32>, Vec<u32>, Vec<u32>), Errno> {
        let i = self.ids_of(req.dest)?;
        Ok((i.euids, i.auids, i.egids, i.agids))
    }

    fn auth_makeauth(
        &self,
        req: &Request,
        other: Right,
        euids: Vec<u32>,
        auids: Vec<u32>,
        egids: Vec<u32>,
        agids: Vec<u32>,
    ) -> Result<PortArg, Errno> {
        let mine = self.ids_of(req.dest)?;
        let theirs = match &other {
            Right::Null => None,
            r => Some(
                self.bucket
                    .lookup_right::<Ids>(r)
                    .map(|h| h.object().clone())
                    .ok_or(Errno::EINVAL)?,
            ),
        };
        let want = Ids {
            euids,
            auids,
            egids,
            agids,
        };
        let holders: Vec<&Ids> = std::iter::once(&mine).chain(theirs.as_ref()).collect();
        if !Ids::may_make(&holders, &want) {
            return Err(Errno::EPERM);
        }
        self.bucket.create_port(&self.class, want)?.make_send_arg()
    }
}
