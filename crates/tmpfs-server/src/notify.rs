//! Change notifications (`dir_notice_changes`, `file_notice_changes`): the core's change
//! log, drained after every request, becomes `fs_notify` messages to the ports that asked.
//! They are sent without waiting (a full or dead notification port loses the message,
//! and a dead one is forgotten): a server never waits on a client.

use std::collections::HashMap;
use std::sync::PoisonError;
use std::time::Duration;

use herd_interfaces::fs_notify::codec::{encode_dir_changed_request, encode_file_changed_request};
use herd_interfaces::types::consts::dir_change::{
    DIR_CHANGED_NEW, DIR_CHANGED_NULL, DIR_CHANGED_RENUMBER, DIR_CHANGED_UNLINK,
};
use herd_interfaces::types::consts::file_change::{
    FILE_CHANGED_EXTEND, FILE_CHANGED_META, FILE_CHANGED_NULL, FILE_CHANGED_TRUNCATE,
    FILE_CHANGED_WRITE,
};
use herd_runtime::{Errno, OutMessage, PortArg, Right, SendError, SendRight};
use herd_tmpfs::{Change, Ino};

use crate::server::Inner;

/// The most notification ports one node keeps (more are `ENOSPC`).
const MAX_WATCHERS: usize = 64;

/// Who asked to hear about which nodes.
#[derive(Default)]
pub(crate) struct Watchers {
    dirs: HashMap<Ino, Vec<SendRight>>,
    files: HashMap<Ino, Vec<SendRight>>,
    tick: u32,
}

/// One message to send: to which node's watchers (directory or file), and how to make it.
enum Event {
    Dir(Ino, u32, String),
    File(Ino, u32, i64, i64),
    Everything,
}

fn events(change: Change) -> Vec<Event> {
    let name = |n: &[u8]| String::from_utf8_lossy(n).into_owned();
    match change {
        Change::Added { dir, name: n } => vec![Event::Dir(dir, DIR_CHANGED_NEW, name(&n))],
        Change::Removed { dir, name: n } => vec![Event::Dir(dir, DIR_CHANGED_UNLINK, name(&n))],
        Change::Renamed {
            from_dir,
            from_name,
            to_dir,
            to_name,
        } => vec![
            Event::Dir(from_dir, DIR_CHANGED_UNLINK, name(&from_name)),
            Event::Dir(to_dir, DIR_CHANGED_NEW, name(&to_name)),
        ],
        Change::Exchanged {
            dir_a,
            name_a,
            dir_b,
            name_b,
        } => vec![
            Event::Dir(dir_a, DIR_CHANGED_RENUMBER, name(&name_a)),
            Event::Dir(dir_b, DIR_CHANGED_RENUMBER, name(&name_b)),
        ],
        Change::Written { ino, start, end } => {
            vec![Event::File(
                ino,
                FILE_CHANGED_WRITE,
                start as i64,
                end as i64,
            )]
        }
        Change::Resized { ino, old, new } => {
            let kind = if new > old {
                FILE_CHANGED_EXTEND
            } else {
                FILE_CHANGED_TRUNCATE
            };
            vec![Event::File(
                ino,
                kind,
                old.min(new) as i64,
                old.max(new) as i64,
            )]
        }
        Change::Attributes { ino } => vec![Event::File(ino, FILE_CHANGED_META, -1, -1)],
        Change::Lost => vec![Event::Everything],
    }
}

/// Sends without waiting; `false` if the port is dead.
fn send(task: &herd_runtime::Task, msg: OutMessage) -> bool {
    !matches!(
        task.send(msg, Some(Duration::ZERO)),
        Err(SendError::ServerDied)
    )
}

impl Inner {
    fn watchers(&self) -> std::sync::MutexGuard<'_, Watchers> {
        self.watchers.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Adds `notify` to the watchers of `ino` (a directory if `dir`) and sends it the
    /// initial `*_CHANGED_NULL` message.
    pub(crate) fn watch(&self, ino: Ino, dir: bool, notify: Right) -> Result<(), Errno> {
        let notify = notify.into_send().ok_or(Errno::EINVAL)?;
        let mut w = self.watchers();
        let tick = w.tick;
        let msg = if dir {
            encode_dir_changed_request(PortArg::CopySend(notify.name()), tick, DIR_CHANGED_NULL, "")
        } else {
            encode_file_changed_request(
                PortArg::CopySend(notify.name()),
                tick,
                FILE_CHANGED_NULL,
                0,
                0,
            )
        };
        let list = if dir { &mut w.dirs } else { &mut w.files };
        let list = list.entry(ino).or_default();
        if list.len() >= MAX_WATCHERS {
            return Err(Errno::ENOSPC);
        }
        if !send(&self.task, msg) {
            return Err(Errno::EDIED);
        }
        list.push(notify);
        Ok(())
    }

    /// Drains the core's change log and tells the watchers.
    pub(crate) fn publish(&self) {
        let changes = self.fs().take_changes();
        if changes.is_empty() {
            return;
        }
        let mut w = self.watchers();
        if w.dirs.is_empty() && w.files.is_empty() {
            return;
        }
        for change in changes {
            for event in events(change) {
                w.tick = w.tick.wrapping_add(1);
                let tick = w.tick;
                let task = &self.task;
                match event {
                    Event::Dir(ino, kind, name) => {
                        if let Some(list) = w.dirs.get_mut(&ino) {
                            list.retain(|n| {
                                send(
                                    task,
                                    encode_dir_changed_request(
                                        PortArg::CopySend(n.name()),
                                        tick,
                                        kind,
                                        &name,
                                    ),
                                )
                            });
                        }
                    }
                    Event::File(ino, kind, start, end) => {
                        if let Some(list) = w.files.get_mut(&ino) {
                            list.retain(|n| {
                                send(
                                    task,
                                    encode_file_changed_request(
                                        PortArg::CopySend(n.name()),
                                        tick,
                                        kind,
                                        start,
                                        end,
                                    ),
                                )
                            });
                        }
                    }
                    Event::Everything => {
                        for list in w.dirs.values_mut() {
                            list.retain(|n| {
                                send(
                                    task,
                                    encode_dir_changed_request(
                                        PortArg::CopySend(n.name()),
                                        tick,
                                        DIR_CHANGED_RENUMBER,
                                        "",
                                    ),
                                )
                            });
                        }
                        for list in w.files.values_mut() {
                            list.retain(|n| {
                                send(
                                    task,
                                    encode_file_changed_request(
                                        PortArg::CopySend(n.name()),
                                        tick,
                                        FILE_CHANGED_META,
                                        -1,
                                        -1,
                                    ),
                                )
                            });
                        }
                    }
                }
            }
        }
        w.dirs.retain(|_, l| !l.is_empty());
        w.files.retain(|_, l| !l.is_empty());
    }
}
