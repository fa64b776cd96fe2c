//! A scripted stand-in for the kernel on a socket pair, for unit tests: it answers calls
//! plausibly, plays back scripted answers to `MachMsg`, and logs every request.

use std::collections::VecDeque;
use std::os::fd::{AsFd, OwnedFd};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use herd_channel::{Channel, Frame};
use herd_wire::frame::{CallValue, KernelStats, PortCall, Request, Response};
use herd_wire::{Disposition, PortName};

use crate::task::Task;

/// Answers to play back to `MachMsg` requests, in order.
type Script = Arc<Mutex<VecDeque<(Response, Vec<OwnedFd>)>>>;

/// The kernel's end and what it saw.
pub(crate) struct FakeKernel {
    log: Arc<Mutex<Vec<Request>>>,
    script: Script,
    thread: Option<JoinHandle<()>>,
}

impl FakeKernel {
    /// Starts a fake kernel and a task attached to it.
    pub(crate) fn start() -> (Task, FakeKernel) {
        let (ours, theirs) = Channel::pair().unwrap();
        let log = Arc::new(Mutex::new(Vec::new()));
        let script = Arc::new(Mutex::new(VecDeque::new()));
        let (l, s) = (Arc::clone(&log), Arc::clone(&script));
        let thread = std::thread::spawn(move || run(theirs, l, s));
        let hello = Request::NewTask {
            label: "test".into(),
        };
        let task = Task::from_channel(ours, &hello, None, vec![PortName(3)]).unwrap();
        let kernel = FakeKernel {
            log,
            script,
            thread: Some(thread),
        };
        (task, kernel)
    }

    /// Queues the answer to a coming `MachMsg`.
    pub(crate) fn script(&self, response: Response, fds: Vec<OwnedFd>) {
        self.script.lock().unwrap().push_back((response, fds));
    }

    /// Takes the requests seen so far (the handshake excluded).
    pub(crate) fn take_log(&self) -> Vec<Request> {
        let mut log = self.log.lock().unwrap();
        let all: Vec<Request> = log.drain(..).collect();
        all.into_iter()
            .filter(|r| !matches!(r, Request::NewTask { .. }))
            .collect()
    }

    /// The calls seen so far.
    pub(crate) fn take_calls(&self) -> Vec<PortCall> {
        self.take_log()
            .into_iter()
            .filter_map(|r| match r {
                Request::Call(c) => Some(c),
                _ => None,
            })
            .collect()
    }
}

impl Drop for FakeKernel {
    fn drop(&mut self) {
        // The thread ends when the task's connection closes; don't wait for that here.
        drop(self.thread.take());
    }
}

fn run(channel: Channel, log: Arc<Mutex<Vec<Request>>>, script: Script) {
    let mut frame = Frame::default();
    let mut next_name = 100u32;
    let mut fresh = || {
        next_name += 1;
        PortName(next_name)
    };
    while let Ok(true) = channel.recv(&mut frame, 1 << 20) {
        let request = Request::decode(&frame.bytes).unwrap();
        log.lock().unwrap().push(request.clone());
        let (response, fds) = match request {
            Request::NewTask { .. } | Request::JoinTask { .. } => {
                (Response::Hello { task: 7, token: 99 }, Vec::new())
            }
            Request::MachMsg { .. } => script.lock().unwrap().pop_front().unwrap_or((
                Response::Msg {
                    result: Ok(()),
                    message: None,
                },
                Vec::new(),
            )),
            Request::Call(call) => {
                let value = match call {
                    PortCall::Allocate(_) => CallValue::Name(fresh()),
                    PortCall::MakeRight {
                        name,
                        disposition: Disposition::MakeSend | Disposition::CopySend,
                    } => CallValue::Name(name),
                    PortCall::MakeRight { .. } => CallValue::Name(fresh()),
                    PortCall::RequestNotification { .. } => CallValue::Name(PortName::NULL),
                    PortCall::Stats => CallValue::Stats(KernelStats::default()),
                    _ => CallValue::Unit,
                };
                (Response::Call(Ok(value)), Vec::new())
            }
        };
        let fatal = matches!(response, Response::Fatal(_));
        let borrowed: Vec<_> = fds.iter().map(|f| f.as_fd()).collect();
        if channel.send(&response.encode(), &borrowed).is_err() || fatal {
            return;
        }
    }
}
