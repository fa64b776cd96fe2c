//! The environment a kernel-spawned task starts with: which descriptor is its connection,
//! the token its other threads join with, the kernel socket, and its initial port names.

use std::path::PathBuf;

use herd_wire::PortName;

use crate::error::RuntimeError;

/// The inherited connection's descriptor number.
pub const TASK_FD: &str = "HERD_TASK_FD";
/// The task's join token.
pub const TASK_TOKEN: &str = "HERD_TASK_TOKEN";
/// The task's kernel id (optional; learnt by joining once through `HERD_KERNEL` if unset).
pub const TASK_ID: &str = "HERD_TASK_ID";
/// The kernel socket path.
pub const KERNEL: &str = "HERD_KERNEL";
/// The initial port names, comma separated.
pub const PORTS: &str = "HERD_PORTS";

/// What the environment says about this process's task.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct TaskEnv {
    /// The inherited connection's descriptor, if the kernel spawned this process.
    pub fd: Option<i32>,
    /// The token further connections join with.
    pub token: Option<u64>,
    /// The task's id, if the environment says.
    pub task_id: Option<u64>,
    /// The kernel socket.
    pub kernel: Option<PathBuf>,
    /// Initial port names, in the order the kernel gave them.
    pub ports: Vec<PortName>,
}

fn bad(var: &'static str, problem: impl Into<String>) -> RuntimeError {
    RuntimeError::Env {
        var,
        problem: problem.into(),
    }
}

/// Parses a token: decimal, or hexadecimal with `0x`.
fn parse_u64(s: &str) -> Option<u64> {
    let s = s.trim();
    match s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        Some(hex) => u64::from_str_radix(hex, 16).ok(),
        None => s.parse().ok(),
    }
}

/// Parses `HERD_PORTS`: port names separated by commas (empty: none).
fn parse_ports(s: &str) -> Result<Vec<PortName>, RuntimeError> {
    if s.trim().is_empty() {
        return Ok(Vec::new());
    }
    s.split(',')
        .map(|part| {
            part.trim()
                .parse::<u32>()
                .map(PortName)
                .map_err(|_| bad(PORTS, format!("{part:?} is not a port name")))
        })
        .collect()
}

impl TaskEnv {
    /// Reads the task variables through `get` (the process environment in production).
    pub(crate) fn parse(get: impl Fn(&str) -> Option<String>) -> Result<TaskEnv, RuntimeError> {
        let fd = match get(TASK_FD) {
            None => None,
            Some(v) => match v.trim().parse::<i32>() {
                Ok(fd) if fd >= 0 => Some(fd),
                _ => return Err(bad(TASK_FD, format!("{v:?} is not a descriptor number"))),
            },
        };
        let token = match get(TASK_TOKEN) {
            None => None,
            Some(v) => Some(
                parse_u64(&v).ok_or_else(|| bad(TASK_TOKEN, format!("{v:?} is not a token")))?,
            ),
        };
        let task_id = match get(TASK_ID) {
            None => None,
            Some(v) => {
                Some(parse_u64(&v).ok_or_else(|| bad(TASK_ID, format!("{v:?} is not a task id")))?)
            }
        };
        if fd.is_some() && token.is_none() {
            return Err(bad(TASK_TOKEN, format!("missing, but {TASK_FD} is set")));
        }
        let kernel = get(KERNEL).filter(|p| !p.is_empty()).map(PathBuf::from);
        let ports = match get(PORTS) {
            None => Vec::new(),
            Some(v) => parse_ports(&v)?,
        };
        if fd.is_none() && kernel.is_none() {
            return Err(bad(KERNEL, "not set (and no inherited connection)"));
        }
        Ok(TaskEnv {
            fd,
            token,
            task_id,
            kernel,
            ports,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env(vars: &[(&str, &str)]) -> Result<TaskEnv, RuntimeError> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        TaskEnv::parse(|k| map.get(k).cloned())
    }

    #[test]
    fn spawned_task_environment_parses() {
        let e = env(&[
            (TASK_FD, "3"),
            (TASK_TOKEN, "0xdeadbeef"),
            (TASK_ID, "12"),
            (KERNEL, "/run/herd/kernel"),
            (PORTS, "5, 7,0,9"),
        ])
        .unwrap();
        assert_eq!(e.fd, Some(3));
        assert_eq!(e.token, Some(0xdead_beef));
        assert_eq!(e.task_id, Some(12));
        assert_eq!(e.kernel, Some(PathBuf::from("/run/herd/kernel")));
        assert_eq!(
            e.ports,
            vec![PortName(5), PortName(7), PortName::NULL, PortName(9)]
        );
    }

    #[test]
    fn kernel_path_alone_is_enough_to_attach() {
        let e = env(&[(KERNEL, "/k"), (PORTS, "")]).unwrap();
        assert_eq!(e.fd, None);
        assert_eq!(e.token, None);
        assert!(e.ports.is_empty());
        assert_eq!(
            env(&[(KERNEL, "/k"), (TASK_TOKEN, "12")]).unwrap().token,
            Some(12)
        );
    }

    #[test]
    fn bad_environments_name_the_variable() {
        let var = |r: Result<TaskEnv, RuntimeError>| match r {
            Err(RuntimeError::Env { var, .. }) => var,
            other => panic!("expected an environment error, got {other:?}"),
        };
        assert_eq!(var(env(&[])), KERNEL);
        assert_eq!(var(env(&[(TASK_FD, "x"), (TASK_TOKEN, "1")])), TASK_FD);
        assert_eq!(var(env(&[(TASK_FD, "-1"), (TASK_TOKEN, "1")])), TASK_FD);
        assert_eq!(var(env(&[(TASK_FD, "3")])), TASK_TOKEN);
        assert_eq!(
            var(env(&[(TASK_FD, "3"), (TASK_TOKEN, "0xzz")])),
            TASK_TOKEN
        );
        assert_eq!(var(env(&[(KERNEL, "/k"), (TASK_ID, "one")])), TASK_ID);
        assert_eq!(var(env(&[(KERNEL, "/k"), (PORTS, "1,,2")])), PORTS);
        assert_eq!(var(env(&[(KERNEL, "/k"), (PORTS, "1,-2")])), PORTS);
    }
}
