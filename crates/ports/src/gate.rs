//! Gates: the count of RPCs in progress on a bucket or a class, and inhibition (refuse new
//! RPCs with `EBUSY`, wait for those in progress to drain), which `fsys_goaway` and other
//! whole-server changes need.
//!
//! An RPC passes two gates (its bucket's and its port's class's). A thread that inhibits a
//! gate from inside an RPC through that same gate does not wait for itself: each thread
//! remembers the gates its current RPC holds.

use std::cell::RefCell;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use herd_runtime::Errno;

static NEXT_GATE: AtomicU64 = AtomicU64::new(1);

thread_local! {
    /// The gates the calling thread's current RPC passed.
    static HELD: RefCell<Vec<u64>> = const { RefCell::new(Vec::new()) };
}

#[derive(Default)]
struct GateState {
    /// New RPCs are refused.
    inhibited: bool,
    /// RPCs in progress.
    in_flight: usize,
}

/// One gate.
pub(crate) struct Gate {
    id: u64,
    state: Mutex<GateState>,
    /// Signalled when an RPC leaves.
    left: Condvar,
}

impl Gate {
    /// An open gate.
    pub(crate) fn new() -> Arc<Gate> {
        Arc::new(Gate {
            id: NEXT_GATE.fetch_add(1, Ordering::Relaxed),
            state: Mutex::new(GateState::default()),
            left: Condvar::new(),
        })
    }

    fn lock(&self) -> MutexGuard<'_, GateState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Counts an RPC in, unless the gate is inhibited (`EBUSY`).
    fn enter(&self) -> Result<(), Errno> {
        let mut state = self.lock();
        if state.inhibited {
            return Err(Errno::EBUSY);
        }
        state.in_flight += 1;
        Ok(())
    }

    fn leave(&self) {
        let mut state = self.lock();
        state.in_flight = state.in_flight.saturating_sub(1);
        self.left.notify_all();
    }

    /// RPCs in progress.
    pub(crate) fn in_flight(&self) -> usize {
        self.lock().in_flight
    }

    /// Refuses new RPCs and waits until the RPCs in progress (other than the calling
    /// thread's own) are done, for at most `timeout`. If they are not, the gate opens
    /// again and the answer is `EBUSY`; so is a gate already inhibited.
    pub(crate) fn inhibit(self: &Arc<Self>, timeout: Duration) -> Result<Inhibited, Errno> {
        let own = HELD.with(|h| h.borrow().iter().filter(|g| **g == self.id).count());
        let deadline = Instant::now() + timeout;
        let mut state = self.lock();
        if state.inhibited {
            return Err(Errno::EBUSY);
        }
        state.inhibited = true;
        while state.in_flight > own {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                state.inhibited = false;
                tracing::debug!(in_flight = state.in_flight, "inhibit timed out");
                return Err(Errno::EBUSY);
            }
            state = self
                .left
                .wait_timeout(state, left)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
        Ok(Inhibited {
            gate: Some(Arc::clone(self)),
        })
    }

    fn resume(&self) {
        self.lock().inhibited = false;
    }
}

/// An inhibited bucket or class: new RPCs get `EBUSY` until this is dropped (or forever,
/// after [`Inhibited::keep`]).
pub struct Inhibited {
    gate: Option<Arc<Gate>>,
}

impl Inhibited {
    /// Leaves the gate inhibited for good (the server is going away).
    pub fn keep(mut self) {
        self.gate = None;
    }
}

impl std::fmt::Debug for Inhibited {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Inhibited").finish_non_exhaustive()
    }
}

impl Drop for Inhibited {
    fn drop(&mut self) {
        if let Some(gate) = self.gate.take() {
            gate.resume();
        }
    }
}

/// One RPC passing its gates; leaves them when dropped.
pub(crate) struct RpcGuard {
    gates: Vec<Arc<Gate>>,
}

impl RpcGuard {
    /// Enters every gate in order, or none (the first inhibited one's `EBUSY`).
    pub(crate) fn enter(gates: &[&Arc<Gate>]) -> Result<RpcGuard, Errno> {
        let mut guard = RpcGuard { gates: Vec::new() };
        for gate in gates {
            gate.enter()?;
            HELD.with(|h| h.borrow_mut().push(gate.id));
            guard.gates.push(Arc::clone(gate));
        }
        Ok(guard)
    }
}

impl Drop for RpcGuard {
    fn drop(&mut self) {
        for gate in self.gates.drain(..).rev() {
            let _ = HELD.try_with(|h| {
                let mut h = h.borrow_mut();
                if let Some(at) = h.iter().rposition(|g| *g == gate.id) {
                    h.remove(at);
                }
            });
            gate.leave();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inhibit_refuses_new_rpcs_and_waits_for_old_ones() {
        let gate = Gate::new();
        let rpc = RpcGuard::enter(&[&gate]).unwrap();
        // From this thread (inside the RPC) inhibit does not wait for itself.
        let held = gate.inhibit(Duration::from_secs(5)).unwrap();
        assert_eq!(RpcGuard::enter(&[&gate]).err(), Some(Errno::EBUSY));
        assert_eq!(gate.inhibit(Duration::ZERO).err(), Some(Errno::EBUSY));
        drop(held);
        drop(rpc);
        // Another thread's RPC in progress makes inhibit wait, then time out.
        let other = Arc::clone(&gate);
        let (tx, rx) = std::sync::mpsc::channel();
        let (done_tx, done_rx) = std::sync::mpsc::channel::<()>();
        let t = std::thread::spawn(move || {
            let _rpc = RpcGuard::enter(&[&other]).unwrap();
            tx.send(()).unwrap();
            let _ = done_rx.recv();
        });
        rx.recv().unwrap();
        assert_eq!(
            gate.inhibit(Duration::from_millis(20)).err(),
            Some(Errno::EBUSY)
        );
        assert!(
            RpcGuard::enter(&[&gate]).is_ok(),
            "a timed-out inhibit reopens"
        );
        done_tx.send(()).unwrap();
        t.join().unwrap();
        let kept = gate.inhibit(Duration::from_secs(5)).unwrap();
        kept.keep();
        assert_eq!(RpcGuard::enter(&[&gate]).err(), Some(Errno::EBUSY));
        assert_eq!(gate.in_flight(), 0);
    }
}
