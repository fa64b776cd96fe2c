//! The one error a `.defs` file can produce: what is wrong and where.

use crate::ast::Pos;

/// Why a `.defs` source was refused, with the line and column of the offending text.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{}:{}: {message}", pos.line, pos.column)]
pub struct ParseError {
    /// Where the problem is.
    pub pos: Pos,
    /// What the problem is, in words.
    pub message: String,
}

impl ParseError {
    /// An error at `pos`.
    pub fn new(pos: Pos, message: impl Into<String>) -> Self {
        ParseError {
            pos,
            message: message.into(),
        }
    }

    /// The 1-based line.
    pub fn line(&self) -> usize {
        self.pos.line
    }

    /// The 1-based column.
    pub fn column(&self) -> usize {
        self.pos.column
    }
}
