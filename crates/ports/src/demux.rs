//! A chain of interface dispatchers: each generated interface's `try_dispatch` hands back
//! a message that is not its own, and the next one tries; a message no interface takes is
//! answered `MIG_BAD_ID`.

use herd_interfaces::support::error_reply;
use herd_runtime::{Errno, OutMessage, Received};

/// One link of the chain: a message's reply (or `None`), or the message back if it is not
/// this handler's.
type Handler = dyn Fn(Received) -> Result<Option<OutMessage>, Received> + Send + Sync;

/// A server's interfaces, tried in order (the Hurd's `demuxer` functions chained with
/// `||`).
#[derive(Default)]
pub struct Demuxer {
    chain: Vec<Box<Handler>>,
}

impl std::fmt::Debug for Demuxer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Demuxer({} interfaces)", self.chain.len())
    }
}

impl Demuxer {
    /// An empty chain (everything is `MIG_BAD_ID`).
    pub fn new() -> Self {
        Demuxer::default()
    }

    /// Adds an interface: usually `move |m| io::try_dispatch(&*server, m)`.
    pub fn with(
        mut self,
        handler: impl Fn(Received) -> Result<Option<OutMessage>, Received> + Send + Sync + 'static,
    ) -> Self {
        self.chain.push(Box::new(handler));
        self
    }

    /// Serves `msg` with the first interface that takes it; `MIG_BAD_ID` if none does.
    pub fn dispatch(&self, msg: Received) -> Option<OutMessage> {
        self.try_dispatch(msg)
            .unwrap_or_else(|msg| error_reply(msg, Errno::MIG_BAD_ID))
    }

    /// Serves `msg` with the first interface that takes it, or hands it back.
    pub fn try_dispatch(&self, mut msg: Received) -> Result<Option<OutMessage>, Received> {
        for handler in &self.chain {
            match handler(msg) {
                Ok(reply) => return Ok(reply),
                Err(back) => msg = back,
            }
        }
        Err(msg)
    }
}
