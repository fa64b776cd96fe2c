//! Builds an [`Interface`] from tokens, checking as it goes: the syntax, the names, the
//! argument rules (object first, no `out` in a simpleroutine) and the message ids.
//!
//! ```text
//! file    := doc* "subsystem" NAME NUMBER ";" item*
//! item    := doc* ("routine" | "simpleroutine") NAME "(" args ")" ";"
//!          | "skip" ";"
//! args    := arg (";" arg)* ";"?
//! arg     := doc* ("in" | "out")? NAME ":" TYPE
//! ```

use std::collections::HashSet;

use crate::ast::{Arg, Direction, Interface, Pos, Routine, RoutineKind, Type};
use crate::error::ParseError;
use crate::lexer::{tokenize, Token, TokenKind};
use crate::names::{self, NameUse};

/// The most rights one message may carry (`herd_wire::message::MAX_PORTS`).
const MAX_PORTS: usize = 256;
/// The most out-of-line regions one message may carry (`herd_wire::message::MAX_OOL`).
const MAX_OOL: usize = 64;

/// Parses and checks one `.defs` source.
pub fn parse(src: &str) -> Result<Interface, ParseError> {
    let tokens = tokenize(src)?;
    let mut parser = Parser {
        tokens,
        at: 0,
        end: end_pos(src),
    };
    parser.file()
}

/// The position just past the last character, for errors at the end of input.
fn end_pos(src: &str) -> Pos {
    let line = src.matches('\n').count() + 1;
    let last = src.rsplit('\n').next().unwrap_or("");
    Pos {
        line,
        column: last.chars().count() + 1,
    }
}

struct Parser {
    tokens: Vec<Token>,
    at: usize,
    end: Pos,
}

impl Parser {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.at)
    }

    fn pos(&self) -> Pos {
        self.peek().map_or(self.end, |t| t.pos)
    }

    fn found(&self) -> String {
        self.peek()
            .map_or_else(|| "the end of the file".to_string(), |t| t.kind.describe())
    }

    fn error<T>(&self, expected: &str) -> Result<T, ParseError> {
        Err(ParseError::new(
            self.pos(),
            format!("expected {expected}, found {}", self.found()),
        ))
    }

    fn eat(&mut self, kind: &TokenKind) -> bool {
        if self.peek().map(|t| &t.kind) == Some(kind) {
            self.at += 1;
            true
        } else {
            false
        }
    }

    fn expect(&mut self, kind: TokenKind) -> Result<(), ParseError> {
        if self.eat(&kind) {
            Ok(())
        } else {
            self.error(&kind.describe())
        }
    }

    fn peek_word(&self) -> Option<&str> {
        match self.peek().map(|t| &t.kind) {
            Some(TokenKind::Ident(w)) => Some(w),
            _ => None,
        }
    }

    /// A name, checked against the naming rules.
    fn name(&mut self, what: NameUse, expected: &str) -> Result<(String, Pos), ParseError> {
        let pos = self.pos();
        match self.peek_word() {
            Some(w) => {
                let w = w.to_string();
                names::check(&w, what).map_err(|m| ParseError::new(pos, m))?;
                self.at += 1;
                Ok((w, pos))
            }
            None => self.error(expected),
        }
    }

    fn docs(&mut self) -> Vec<(String, Pos)> {
        let mut docs = Vec::new();
        while let Some(Token {
            kind: TokenKind::Doc(text),
            pos,
        }) = self.peek()
        {
            docs.push((text.clone(), *pos));
            self.at += 1;
        }
        docs
    }

    fn file(&mut self) -> Result<Interface, ParseError> {
        let doc = lines(self.docs());
        if self.peek_word() != Some("subsystem") {
            return self.error("`subsystem NAME BASE;` to begin the file");
        }
        self.at += 1;
        let (name, _) = self.name(NameUse::Subsystem, "the subsystem's name")?;
        let base_pos = self.pos();
        let Some(TokenKind::Number(base)) = self.peek().map(|t| t.kind.clone()) else {
            return self.error("the subsystem's base message id (a number)");
        };
        self.at += 1;
        let highest = Interface::MAX_ROUTINES - 1 + Interface::REPLY_OFFSET;
        let base = u32::try_from(base)
            .ok()
            .filter(|b| b.checked_add(highest).is_some())
            .ok_or_else(|| {
                ParseError::new(
                    base_pos,
                    format!(
                        "base message id {base} is too large: its routines and replies need \
                         ids up to base + {highest}, within 32 bits"
                    ),
                )
            })?;
        self.expect(TokenKind::Semi)?;
        let mut iface = Interface {
            doc,
            name,
            base,
            routines: Vec::new(),
        };
        let mut index = 0u32;
        let mut seen = HashSet::new();
        loop {
            let docs = self.docs();
            let pos = self.pos();
            let kind = match self.peek_word() {
                None if self.peek().is_none() => {
                    if let Some((_, pos)) = docs.first() {
                        return Err(ParseError::new(*pos, "doc comment documents nothing"));
                    }
                    return Ok(iface);
                }
                Some("routine") => RoutineKind::Routine,
                Some("simpleroutine") => RoutineKind::SimpleRoutine,
                Some("skip") => {
                    if let Some((_, pos)) = docs.first() {
                        return Err(ParseError::new(
                            *pos,
                            "a doc comment cannot document `skip` (use `//`)",
                        ));
                    }
                    self.at += 1;
                    self.expect(TokenKind::Semi)?;
                    self.claim_id(&mut index, pos)?;
                    continue;
                }
                Some("subsystem") => {
                    return Err(ParseError::new(pos, "only one `subsystem` per file"))
                }
                _ => return self.error("`routine`, `simpleroutine`, `skip` or the end"),
            };
            self.at += 1;
            let id = base + self.claim_id(&mut index, pos)?;
            let routine = self.routine(lines(docs), kind, id, pos)?;
            if !seen.insert(routine.name.clone()) {
                return Err(ParseError::new(
                    pos,
                    format!("routine `{}` is defined twice", routine.name),
                ));
            }
            iface.routines.push(routine);
        }
    }

    /// Takes the next routine index, refusing one that would reach the reply ids.
    fn claim_id(&self, index: &mut u32, pos: Pos) -> Result<u32, ParseError> {
        let this = *index;
        if this >= Interface::MAX_ROUTINES {
            return Err(ParseError::new(
                pos,
                format!(
                    "too many routines: a subsystem holds at most {} (routines and skips) so \
                     that request ids stay below reply ids (request + {})",
                    Interface::MAX_ROUTINES,
                    Interface::REPLY_OFFSET
                ),
            ));
        }
        *index += 1;
        Ok(this)
    }

    fn routine(
        &mut self,
        doc: Vec<String>,
        kind: RoutineKind,
        id: u32,
        pos: Pos,
    ) -> Result<Routine, ParseError> {
        let (name, _) = self.name(NameUse::Routine, "the routine's name")?;
        self.expect(TokenKind::LParen)?;
        if self.peek().map(|t| &t.kind) == Some(&TokenKind::RParen) {
            return Err(ParseError::new(
                self.pos(),
                "a routine's first argument is the object it is sent to (`NAME: object`)",
            ));
        }
        let mut args: Vec<Arg> = Vec::new();
        loop {
            let arg = self.arg()?;
            self.check_arg(&arg, args.is_empty(), kind, &args)?;
            args.push(arg);
            if self.eat(&TokenKind::RParen) {
                break;
            }
            if self.eat(&TokenKind::Semi) {
                if self.eat(&TokenKind::RParen) {
                    break;
                }
                continue;
            }
            if self.peek().map(|t| &t.kind) == Some(&TokenKind::Comma) {
                return Err(ParseError::new(
                    self.pos(),
                    "arguments are separated by `;`, not `,`",
                ));
            }
            return self.error("`;` or `)` after the argument");
        }
        self.expect(TokenKind::Semi)?;
        let object = args.remove(0);
        let routine = Routine {
            doc,
            name,
            kind,
            id,
            object,
            args,
            pos,
        };
        check_limits(&routine)?;
        Ok(routine)
    }

    fn arg(&mut self) -> Result<Arg, ParseError> {
        let doc = lines(self.docs());
        let pos = self.pos();
        let dir = match self.peek_word() {
            Some("in") => Direction::In,
            Some("out") => Direction::Out,
            _ => Direction::In,
        };
        if matches!(self.peek_word(), Some("in" | "out")) {
            self.at += 1;
        }
        let (name, _) = self.name(NameUse::Argument, "an argument name")?;
        if !self.eat(&TokenKind::Colon) {
            return Err(ParseError::new(
                self.pos(),
                format!(
                    "expected `:` and a type after argument `{name}`, found {}",
                    self.found()
                ),
            ));
        }
        let ty_pos = self.pos();
        let ty = match self.peek_word() {
            Some(w) => Type::from_keyword(w).ok_or_else(|| {
                let known: Vec<&str> = Type::ALL.iter().map(|(w, _)| *w).collect();
                ParseError::new(
                    ty_pos,
                    format!("unknown type `{w}` (types are: {})", known.join(" ")),
                )
            })?,
            None => return self.error("a type"),
        };
        self.at += 1;
        Ok(Arg {
            doc,
            name,
            dir,
            ty,
            pos,
        })
    }

    fn check_arg(
        &self,
        arg: &Arg,
        first: bool,
        kind: RoutineKind,
        before: &[Arg],
    ) -> Result<(), ParseError> {
        let fail = |m: String| Err(ParseError::new(arg.pos, m));
        if first && arg.ty != Type::Object {
            return fail(format!(
                "the first argument is the object the message is sent to: write \
                 `{}: object`",
                arg.name
            ));
        }
        if first && arg.dir == Direction::Out {
            return fail("the object argument cannot be `out`".to_string());
        }
        if !first && arg.ty == Type::Object {
            return fail("only the first argument can be an `object`".to_string());
        }
        if kind == RoutineKind::SimpleRoutine && arg.dir == Direction::Out {
            return fail(format!(
                "`out {}`: a simpleroutine has no reply, so it has no `out` arguments",
                arg.name
            ));
        }
        if before.iter().any(|a| a.name == arg.name) {
            return fail(format!("argument `{}` appears twice", arg.name));
        }
        Ok(())
    }
}

/// Refuses a routine whose request or reply could never be sent.
fn check_limits(r: &Routine) -> Result<(), ParseError> {
    for (dir, word) in [(Direction::In, "request"), (Direction::Out, "reply")] {
        let of =
            |pred: fn(Type) -> bool| r.args.iter().filter(|a| a.dir == dir && pred(a.ty)).count();
        let ports = of(Type::is_right);
        let regions = of(|t| t == Type::Region);
        if ports > MAX_PORTS || regions > MAX_OOL {
            return Err(ParseError::new(
                r.pos,
                format!(
                    "routine `{}`: its {word} would carry {ports} rights and {regions} regions; \
                     a message carries at most {MAX_PORTS} and {MAX_OOL}",
                    r.name
                ),
            ));
        }
    }
    Ok(())
}

fn lines(docs: Vec<(String, Pos)>) -> Vec<String> {
    docs.into_iter().map(|(text, _)| text).collect()
}
