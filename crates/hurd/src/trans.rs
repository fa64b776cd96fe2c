//! Translators and file systems: setting and reading a node's translators
//! (`file_set_translator`, `file_get_translator`, `file_get_translator_cntl`), a file
//! system's control port and options (`file_getcontrol`, `file_get_fs_options`), and the
//! calls on a control port (`fsys_goaway`, `fsys_set_options`, `fsys_get_options`).
//! Command lines and options travel as argz (NUL-ended words).

use herd_interfaces::types::argz;
use herd_interfaces::{fs, fsys};
use herd_runtime::{Errno, PortArg, SendRight};

use crate::call::{dest, send_right};
use crate::errno::EILSEQ;
use crate::Namespace;

/// The passive translator that stands for a symbolic link (`/hurd/symlink TARGET`), as on
/// the Hurd.
pub const SYMLINK_TRANSLATOR: &str = "/hurd/symlink";

/// The words of an argz answer (`EILSEQ` if one is not UTF-8).
fn words(data: &[u8]) -> Result<Vec<String>, Errno> {
    argz::split(data).ok_or(EILSEQ)
}

impl Namespace {
    /// Sets the translators of the node `node` is open on (look it up with `O_NOTRANS`
    /// to change the node's own, else they stack on the translator there):
    /// `passive_flags` and `active_flags` are `FS_TRANS_*` (with `FS_TRANS_SET`, `passive`
    /// — an argz command line, empty to clear — and `active` — a control port, `Null` to
    /// clear — replace the current ones); a replaced active translator is sent
    /// `fsys_goaway(goaway_flags)`.
    pub fn set_translator(
        &self,
        node: &SendRight,
        passive_flags: u32,
        active_flags: u32,
        goaway_flags: u32,
        passive: &[u8],
        active: PortArg,
    ) -> Result<(), Errno> {
        self.call(
            fs::codec::encode_file_set_translator_request(
                dest(node),
                passive_flags,
                active_flags,
                goaway_flags,
                passive,
                active,
            ),
            fs::codec::decode_file_set_translator_reply,
        )
    }

    /// The passive translator of the node `node` is open on, as words (empty: none).
    pub fn get_translator(&self, node: &SendRight) -> Result<Vec<String>, Errno> {
        let data = self.call(
            fs::codec::encode_file_get_translator_request(dest(node)),
            fs::codec::decode_file_get_translator_reply,
        )?;
        words(&data)
    }

    /// The control port of the active translator on the node `node` is open on.
    pub fn get_translator_cntl(&self, node: &SendRight) -> Result<SendRight, Errno> {
        send_right(self.call(
            fs::codec::encode_file_get_translator_cntl_request(dest(node)),
            fs::codec::decode_file_get_translator_cntl_reply,
        )?)
    }

    /// The control port of the file system `file` belongs to (its owner or root only).
    pub fn getcontrol(&self, file: &SendRight) -> Result<SendRight, Errno> {
        send_right(self.call(
            fs::codec::encode_file_getcontrol_request(dest(file)),
            fs::codec::decode_file_getcontrol_reply,
        )?)
    }

    /// The options of the file system `file` belongs to: its name, then its options.
    pub fn fs_options(&self, file: &SendRight) -> Result<Vec<String>, Errno> {
        let data = self.call(
            fs::codec::encode_file_get_fs_options_request(dest(file)),
            fs::codec::decode_file_get_fs_options_reply,
        )?;
        words(&data)
    }

    /// Asks the translator behind `control` to go away (`FSYS_GOAWAY_*` flags).
    pub fn fsys_goaway(&self, control: &SendRight, flags: u32) -> Result<(), Errno> {
        self.call(
            fsys::codec::encode_fsys_goaway_request(dest(control), flags),
            fsys::codec::decode_fsys_goaway_reply,
        )
    }

    /// Changes the options of the translator behind `control` (with `do_children`, of
    /// the translators below it too).
    pub fn fsys_set_options<S: AsRef<str>>(
        &self,
        control: &SendRight,
        options: &[S],
        do_children: bool,
    ) -> Result<(), Errno> {
        self.call(
            fsys::codec::encode_fsys_set_options_request(
                dest(control),
                &argz::join(options),
                do_children,
            ),
            fsys::codec::decode_fsys_set_options_reply,
        )
    }

    /// The options of the translator behind `control`: its name, then its options.
    pub fn fsys_get_options(&self, control: &SendRight) -> Result<Vec<String>, Errno> {
        let data = self.call(
            fsys::codec::encode_fsys_get_options_request(dest(control)),
            fsys::codec::decode_fsys_get_options_reply,
        )?;
        words(&data)
    }
}
