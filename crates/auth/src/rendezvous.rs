//! The handshake's meeting point: the user's half and the server's half wait here, keyed
//! by the name under which their rendezvous port appears in the auth server's space
//! (one port has one name in a task, so both halves find each other), until the other
//! half arrives. A half whose caller dies is forgotten (the kernel tells us through a
//! dead-name notification on its reply right).

use std::collections::HashMap;

use herd_interfaces::auth::codec;
use herd_runtime::{Errno, OutMessage, PortArg, PortName, Right};

use crate::Ids;

/// A user waiting for its server.
struct User {
    reply: Right,
    ids: Ids,
    _rendezvous: Right,
}

/// A server waiting for its user.
struct Server {
    reply: Right,
    newport: Right,
    _rendezvous: Right,
}

/// What to do after a half arrived: messages to send now.
pub(crate) enum Outcome {
    /// The other half is not here yet; `watch` is the reply right to watch for death.
    Wait {
        /// The name of the waiting caller's reply right.
        watch: PortName,
    },
    /// Both halves met: the answer to the caller (returned by the handler) and the answer
    /// to the other half (sent by the server).
    Met {
        /// The reply to the half that just arrived.
        answer: OutMessage,
        /// The reply to the half that waited.
        other: OutMessage,
    },
    /// The request was malformed: its answer.
    Refused(OutMessage),
}

/// Halves waiting for each other.
#[derive(Default)]
pub(crate) struct Rendezvous {
    users: HashMap<PortName, User>,
    servers: HashMap<PortName, Server>,
}

fn user_reply(reply: Right, result: Result<PortArg, Errno>) -> OutMessage {
    codec::encode_auth_user_authenticate_reply(PortArg::from(reply), result)
}

fn server_reply(reply: Right, result: Result<Ids, Errno>) -> OutMessage {
    codec::encode_auth_server_authenticate_reply(
        PortArg::from(reply),
        result.map(|i| (i.euids, i.auids, i.egids, i.agids)),
    )
}

impl Rendezvous {
    /// The user's half: its reply right, its ids and its rendezvous port.
    pub(crate) fn user(&mut self, reply: Right, ids: Ids, rendezvous: Right) -> Outcome {
        let name = rendezvous.name();
        if !name.is_valid() || self.users.contains_key(&name) {
            return Outcome::Refused(user_reply(reply, Err(Errno::EINVAL)));
        }
        match self.servers.remove(&name) {
            Some(server) => Outcome::Met {
                answer: user_reply(reply, Ok(PortArg::from(server.newport))),
                other: server_reply(server.reply, Ok(ids)),
            },
            None => {
                let watch = reply.name();
                self.users.insert(
                    name,
                    User {
                        reply,
                        ids,
                        _rendezvous: rendezvous,
                    },
                );
                Outcome::Wait { watch }
            }
        }
    }

    /// The server's half: its reply right, the port it made for the user, and the
    /// rendezvous port.
    pub(crate) fn server(&mut self, reply: Right, newport: Right, rendezvous: Right) -> Outcome {
        let name = rendezvous.name();
        if !name.is_valid() || self.servers.contains_key(&name) {
            return Outcome::Refused(server_reply(reply, Err(Errno::EINVAL)));
        }
        match self.users.remove(&name) {
            Some(user) => Outcome::Met {
                answer: server_reply(reply, Ok(user.ids)),
                other: user_reply(user.reply, Ok(PortArg::from(newport))),
            },
            None => {
                let watch = reply.name();
                self.servers.insert(
                    name,
                    Server {
                        reply,
                        newport,
                        _rendezvous: rendezvous,
                    },
                );
                Outcome::Wait { watch }
            }
        }
    }

    /// Forgets the halves whose caller's reply right is `dead` (the caller died).
    pub(crate) fn forget(&mut self, dead: PortName) {
        self.users.retain(|_, u| u.reply.name() != dead);
        self.servers.retain(|_, s| s.reply.name() != dead);
    }

    /// How many halves wait.
    pub(crate) fn waiting(&self) -> usize {
        self.users.len() + self.servers.len()
    }
}
