//! `herd hostmux TEMPLATE...`: a directory whose entries are host names, each served by
//! the translator `TEMPLATE` started for it with `%h` replaced by the name (appended when
//! the template has no `%h`), as the Hurd's `/hurd/hostmux` (e.g. an ftpfs per host).
//! Names are DNS-style: letters, digits, `-` and `.`, at most 253 bytes, no empty label
//! and no label starting or ending in `-`.
//! The directory server is shared with usermux ([`super::mux`]).

use anyhow::Result;
use clap::Args;

use super::mux::{self, Config, Kind};

/// Arguments of `herd hostmux`.
#[derive(Args, Debug)]
pub struct HostmuxArgs {
    /// The translator command started for each host (`%h`: the host name).
    #[arg(required = true, trailing_var_arg = true, allow_hyphen_values = true)]
    template: Vec<String>,
}

/// Runs `herd hostmux`.
pub fn run(args: HostmuxArgs) -> Result<()> {
    mux::run(Config {
        kind: Kind::Host,
        template: args.template,
        known_only: false,
    })
}
