//! Frames: what a task asks of the kernel (`Request`) and what the kernel answers
//! (`Response`). Each request gets exactly one response, in order, on the same connection.

use std::time::Duration;

use crate::codec::{DecodeError, Reader, Writer};
use crate::codes::KernError;
use crate::message::Message;
use crate::name::{Disposition, PortName};

/// The largest frame either side sends or accepts, in bytes.
pub const MAX_FRAME: usize = 96 * 1024;
/// The longest label, program path or argument a frame may carry.
pub const MAX_STRING: usize = 4096;
/// The most arguments or environment entries in a spawn request.
pub const MAX_ARGS: usize = 1024;

/// The option bits of [`Request::MachMsg`].
pub mod msg_option {
    /// Send the message in the request.
    pub const SEND: u32 = 1;
    /// Then receive from `rcv_name`.
    pub const RECEIVE: u32 = 2;
    /// All defined bits.
    pub const ALL: u32 = SEND | RECEIVE;
}

mod call;
mod value;

pub use call::{
    notify_id, valid_special_name, AllocateKind, NotifyKind, PortCall, MAX_SPECIAL_NAME,
};
pub use value::{CallValue, KernelStats, NameInfo, PortStatus, TaskInfo, MAX_LIST};

/// How long an operation may wait: `None` forever, `Some(ZERO)` not at all.
pub type Timeout = Option<Duration>;

/// What a task asks of the kernel.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Request {
    /// The first frame on a connection: become a new task.
    NewTask {
        /// A label for tools (the program name).
        label: String,
    },
    /// The first frame on a connection: join an existing task as another thread.
    JoinTask {
        /// The task's secret token, from [`Response::Hello`].
        token: u64,
    },
    /// Send, receive, or send then receive (one round trip for an RPC).
    MachMsg {
        /// Bits from [`msg_option`].
        options: u32,
        /// How long a send may wait for queue room.
        send_timeout: Timeout,
        /// What to receive from (a receive right or port set), when receiving.
        rcv_name: PortName,
        /// How long a receive may wait.
        rcv_timeout: Timeout,
        /// The message, when sending.
        message: Option<Message>,
    },
    /// Any other kernel call.
    Call(PortCall),
}

/// What the kernel answers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Response {
    /// The answer to `NewTask` or `JoinTask`.
    Hello {
        /// The kernel's task id.
        task: u64,
        /// The secret other threads join with.
        token: u64,
    },
    /// The answer to `MachMsg`: the outcome and, on receive (or when a send timed out and
    /// the message comes back to its sender), the message.
    Msg {
        /// `Ok` or why the send or the receive failed.
        result: Result<(), KernError>,
        /// The received (or returned) message.
        message: Option<Message>,
    },
    /// The answer to a call.
    Call(Result<CallValue, KernError>),
    /// The connection broke the protocol and is being closed.
    Fatal(KernError),
}

const TAG_NEW_TASK: u8 = 1;
const TAG_JOIN_TASK: u8 = 2;
const TAG_MACH_MSG: u8 = 3;
const TAG_CALL: u8 = 4;

const TAG_HELLO: u8 = 1;
const TAG_MSG: u8 = 2;
const TAG_CALL_REPLY: u8 = 3;
const TAG_FATAL: u8 = 4;

fn encode_timeout(w: &mut Writer, t: Timeout) {
    w.u64(match t {
        None => u64::MAX,
        Some(d) => d.as_micros().min(u64::MAX as u128 - 1) as u64,
    });
}

fn decode_timeout(r: &mut Reader<'_>) -> Result<Timeout, DecodeError> {
    Ok(match r.u64()? {
        u64::MAX => None,
        us => Some(Duration::from_micros(us)),
    })
}

fn encode_result(w: &mut Writer, r: Result<(), KernError>) {
    w.u32(match r {
        Ok(()) => 0,
        Err(e) => e.code(),
    });
}

fn decode_result(r: &mut Reader<'_>) -> Result<Result<(), KernError>, DecodeError> {
    Ok(match KernError::from_code(r.u32()?) {
        None => Ok(()),
        Some(e) => Err(e),
    })
}

fn bad(what: &'static str, value: impl Into<u64>) -> DecodeError {
    DecodeError::BadValue {
        what,
        value: value.into(),
    }
}

fn decode_name(r: &mut Reader<'_>) -> Result<PortName, DecodeError> {
    Ok(PortName(r.u32()?))
}

fn decode_disposition(r: &mut Reader<'_>) -> Result<Disposition, DecodeError> {
    let v = r.u8()?;
    Disposition::from_u8(v).ok_or(bad("disposition", v))
}

fn decode_strings(r: &mut Reader<'_>, what: &'static str) -> Result<Vec<String>, DecodeError> {
    let n = r.count(what, MAX_ARGS)?;
    (0..n).map(|_| r.string(what, MAX_STRING)).collect()
}

fn encode_strings(w: &mut Writer, v: &[String]) {
    w.u32(v.len() as u32);
    for s in v {
        w.str(s);
    }
}

fn decode_flag(r: &mut Reader<'_>) -> Result<bool, DecodeError> {
    match r.u8()? {
        0 => Ok(false),
        1 => Ok(true),
        v => Err(bad("flag", v)),
    }
}

impl Request {
    /// The frame's bytes.
    pub fn encode(&self) -> Vec<u8> {
        let mut w = Writer::with_capacity(64);
        match self {
            Request::NewTask { label } => {
                w.u8(TAG_NEW_TASK).str(label);
            }
            Request::JoinTask { token } => {
                w.u8(TAG_JOIN_TASK).u64(*token);
            }
            Request::MachMsg {
                options,
                send_timeout,
                rcv_name,
                rcv_timeout,
                message,
            } => {
                w.u8(TAG_MACH_MSG).u32(*options);
                encode_timeout(&mut w, *send_timeout);
                w.u32(rcv_name.0);
                encode_timeout(&mut w, *rcv_timeout);
                match message {
                    Some(m) => {
                        w.u8(1);
                        m.encode(&mut w);
                    }
                    None => {
                        w.u8(0);
                    }
                }
            }
            Request::Call(c) => {
                w.u8(TAG_CALL);
                c.encode(&mut w);
            }
        }
        w.into_vec()
    }

    /// Parses one frame; every byte must belong to it.
    pub fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        if bytes.len() > MAX_FRAME {
            return Err(DecodeError::TooLarge {
                what: "frame",
                value: bytes.len() as u64,
                limit: MAX_FRAME as u64,
            });
        }
        let mut r = Reader::new(bytes);
        let req = match r.u8()? {
            TAG_NEW_TASK => Request::NewTask {
                label: r.string("label", MAX_STRING)?,
            },
            TAG_JOIN_TASK => Request::JoinTask { token: r.u64()? },
            TAG_MACH_MSG => {
                let options = r.u32()?;
                if options & !msg_option::ALL != 0 {
                    return Err(bad("message options", options));
                }
                let send_timeout = decode_timeout(&mut r)?;
                let rcv_name = decode_name(&mut r)?;
                let rcv_timeout = decode_timeout(&mut r)?;
                let message = match r.u8()? {
                    0 => None,
                    1 => Some(Message::decode(&mut r)?),
                    v => return Err(bad("message presence", v)),
                };
                Request::MachMsg {
                    options,
                    send_timeout,
                    rcv_name,
                    rcv_timeout,
                    message,
                }
            }
            TAG_CALL => Request::Call(PortCall::decode(&mut r)?),
            v => return Err(bad("request tag", v)),
        };
        r.finish()?;
        Ok(req)
    }
}

impl Response {
    /// The frame's bytes.
    pub fn encode(&self) -> Vec<u8> {
        let mut w = Writer::with_capacity(64);
        match self {
            Response::Hello { task, token } => {
                w.u8(TAG_HELLO).u64(*task).u64(*token);
            }
            Response::Msg { result, message } => {
                w.u8(TAG_MSG);
                encode_result(&mut w, *result);
                match message {
                    Some(m) => {
                        w.u8(1);
                        m.encode(&mut w);
                    }
                    None => {
                        w.u8(0);
                    }
                }
            }
            Response::Call(result) => {
                w.u8(TAG_CALL_REPLY);
                match result {
                    Ok(v) => {
                        w.u32(0);
                        v.encode(&mut w);
                    }
                    Err(e) => {
                        w.u32(e.code());
                    }
                }
            }
            Response::Fatal(e) => {
                w.u8(TAG_FATAL).u32(e.code());
            }
        }
        w.into_vec()
    }

    /// Parses one frame; every byte must belong to it. (Listings may exceed
    /// [`MAX_FRAME`]; the kernel sends them in one frame sized to fit.)
    pub fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(bytes);
        let resp = match r.u8()? {
            TAG_HELLO => Response::Hello {
                task: r.u64()?,
                token: r.u64()?,
            },
            TAG_MSG => {
                let result = decode_result(&mut r)?;
                let message = match r.u8()? {
                    0 => None,
                    1 => Some(Message::decode(&mut r)?),
                    v => return Err(bad("message presence", v)),
                };
                Response::Msg { result, message }
            }
            TAG_CALL_REPLY => match KernError::from_code(r.u32()?) {
                None => Response::Call(Ok(CallValue::decode(&mut r)?)),
                Some(e) => Response::Call(Err(e)),
            },
            TAG_FATAL => Response::Fatal(
                KernError::from_code(r.u32()?).unwrap_or(KernError::ProtocolViolation),
            ),
            v => return Err(bad("response tag", v)),
        };
        r.finish()?;
        Ok(resp)
    }
}
