//! `herd usermux [--known-only] TEMPLATE...`: a directory whose entries are user names,
//! each served by the translator `TEMPLATE` started for it with `%u` replaced by the name
//! (appended when the template has no `%u`), as the Hurd's `/hurd/usermux`. Names are
//! `[a-z_][a-z0-9_-]*`, at most 32 bytes; `--known-only` also requires an entry in the
//! host's `/etc/passwd`. The directory server is shared with hostmux ([`super::mux`]).

use anyhow::Result;
use clap::Args;

use super::mux::{self, Config, Kind};

/// Arguments of `herd usermux`.
#[derive(Args, Debug)]
pub struct UsermuxArgs {
    /// Only names of users in the host's `/etc/passwd` (others are `ENOENT`).
    #[arg(long)]
    known_only: bool,
    /// The translator command started for each user (`%u`: the user name).
    #[arg(required = true, trailing_var_arg = true, allow_hyphen_values = true)]
    template: Vec<String>,
}

/// Runs `herd usermux`.
pub fn run(args: UsermuxArgs) -> Result<()> {
    mux::run(Config {
        kind: Kind::User,
        template: args.template,
        known_only: args.known_only,
    })
}
