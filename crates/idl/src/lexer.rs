//! Turns `.defs` source text into tokens with positions. `//` comments and `/* */` comments
//! vanish; `///` doc comments become tokens so the parser can attach them to what follows.

use crate::ast::Pos;
use crate::error::ParseError;

/// What a token is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TokenKind {
    /// A word: a keyword, a name or a type.
    Ident(String),
    /// A non-negative integer (decimal, or hexadecimal with `0x`).
    Number(u64),
    /// One line of a `///` doc comment, without the slashes and one leading space.
    Doc(String),
    /// `(`
    LParen,
    /// `)`
    RParen,
    /// `;`
    Semi,
    /// `:`
    Colon,
    /// `,` (not part of the syntax; lexed so the parser can say so clearly)
    Comma,
}

impl TokenKind {
    /// How the token is named in error messages.
    pub fn describe(&self) -> String {
        match self {
            TokenKind::Ident(w) => format!("`{w}`"),
            TokenKind::Number(n) => format!("number {n}"),
            TokenKind::Doc(_) => "a doc comment".to_string(),
            TokenKind::LParen => "`(`".to_string(),
            TokenKind::RParen => "`)`".to_string(),
            TokenKind::Semi => "`;`".to_string(),
            TokenKind::Colon => "`:`".to_string(),
            TokenKind::Comma => "`,`".to_string(),
        }
    }
}

/// A token and where it starts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Token {
    /// What it is.
    pub kind: TokenKind,
    /// Where it starts.
    pub pos: Pos,
}

/// Splits `src` into tokens, or says where the first unreadable text is.
pub fn tokenize(src: &str) -> Result<Vec<Token>, ParseError> {
    let mut lexer = Lexer {
        chars: src.chars().collect(),
        at: 0,
        pos: Pos { line: 1, column: 1 },
    };
    let mut tokens = Vec::new();
    while let Some(token) = lexer.next_token()? {
        tokens.push(token);
    }
    Ok(tokens)
}

struct Lexer {
    chars: Vec<char>,
    at: usize,
    pos: Pos,
}

impl Lexer {
    fn peek(&self, ahead: usize) -> Option<char> {
        self.chars.get(self.at + ahead).copied()
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.peek(0)?;
        self.at += 1;
        if c == '\n' {
            self.pos.line += 1;
            self.pos.column = 1;
        } else {
            self.pos.column += 1;
        }
        Some(c)
    }

    /// The rest of the current line (not including the newline), consumed.
    fn rest_of_line(&mut self) -> String {
        let mut text = String::new();
        while let Some(c) = self.peek(0) {
            if c == '\n' {
                break;
            }
            text.push(c);
            self.bump();
        }
        text
    }

    fn next_token(&mut self) -> Result<Option<Token>, ParseError> {
        loop {
            let start = self.pos;
            let Some(c) = self.peek(0) else {
                return Ok(None);
            };
            let kind = match c {
                c if c.is_whitespace() => {
                    self.bump();
                    continue;
                }
                '/' if self.peek(1) == Some('/') => {
                    let is_doc = self.peek(2) == Some('/') && self.peek(3) != Some('/');
                    let text = self.rest_of_line();
                    if !is_doc {
                        continue;
                    }
                    TokenKind::Doc(clean_doc(&text[3..]))
                }
                '/' if self.peek(1) == Some('*') => {
                    self.block_comment(start)?;
                    continue;
                }
                '(' | ')' | ';' | ':' | ',' => {
                    self.bump();
                    match c {
                        '(' => TokenKind::LParen,
                        ')' => TokenKind::RParen,
                        ';' => TokenKind::Semi,
                        ':' => TokenKind::Colon,
                        _ => TokenKind::Comma,
                    }
                }
                c if c.is_ascii_digit() => self.number(start)?,
                c if c.is_ascii_alphabetic() || c == '_' => {
                    let mut word = String::new();
                    while let Some(c) = self.peek(0) {
                        if !(c.is_ascii_alphanumeric() || c == '_') {
                            break;
                        }
                        word.push(c);
                        self.bump();
                    }
                    TokenKind::Ident(word)
                }
                other => {
                    return Err(ParseError::new(
                        start,
                        format!("unexpected character {other:?}"),
                    ))
                }
            };
            return Ok(Some(Token { kind, pos: start }));
        }
    }

    fn block_comment(&mut self, start: Pos) -> Result<(), ParseError> {
        self.bump();
        self.bump();
        loop {
            match self.peek(0) {
                None => return Err(ParseError::new(start, "unterminated `/*` comment")),
                Some('*') if self.peek(1) == Some('/') => {
                    self.bump();
                    self.bump();
                    return Ok(());
                }
                Some(_) => {
                    self.bump();
                }
            }
        }
    }

    fn number(&mut self, start: Pos) -> Result<TokenKind, ParseError> {
        let mut text = String::new();
        while let Some(c) = self.peek(0) {
            if !(c.is_ascii_alphanumeric() || c == '_') {
                break;
            }
            text.push(c);
            self.bump();
        }
        let digits = text.replace('_', "");
        let parsed = match digits
            .strip_prefix("0x")
            .or_else(|| digits.strip_prefix("0X"))
        {
            Some(hex) => u64::from_str_radix(hex, 16),
            None => digits.parse::<u64>(),
        };
        parsed
            .map(TokenKind::Number)
            .map_err(|_| ParseError::new(start, format!("`{text}` is not a number that fits")))
    }
}

/// A doc line as Rust will carry it: one leading space dropped, control characters (which
/// rustdoc refuses, such as a bare carriage return) turned into spaces.
fn clean_doc(text: &str) -> String {
    let text = text.strip_prefix(' ').unwrap_or(text);
    text.chars()
        .map(|c| if c.is_control() && c != '\t' { ' ' } else { c })
        .collect::<String>()
        .trim_end()
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(src: &str) -> Vec<TokenKind> {
        tokenize(src).unwrap().into_iter().map(|t| t.kind).collect()
    }

    #[test]
    fn comments_vanish_and_docs_stay() {
        assert_eq!(
            kinds("/// hi there\n// gone\n//// gone too\n/* gone\n */ x"),
            vec![
                TokenKind::Doc("hi there".into()),
                TokenKind::Ident("x".into())
            ]
        );
    }

    #[test]
    fn numbers_and_punctuation() {
        assert_eq!(
            kinds("0x40 1_000(;:),"),
            vec![
                TokenKind::Number(64),
                TokenKind::Number(1000),
                TokenKind::LParen,
                TokenKind::Semi,
                TokenKind::Colon,
                TokenKind::RParen,
                TokenKind::Comma,
            ]
        );
    }

    #[test]
    fn positions_are_line_and_column() {
        let t = tokenize("a\n  b c").unwrap();
        assert_eq!(t[1].pos, Pos { line: 2, column: 3 });
        let e = tokenize("a\n  é").unwrap_err();
        assert_eq!((e.line(), e.column()), (2, 3));
    }

    #[test]
    fn bad_text_is_an_error() {
        assert_eq!(tokenize("x /* y").unwrap_err().pos.column, 3);
        assert!(tokenize("99999999999999999999999").is_err());
        assert!(tokenize("12abc").is_err());
        assert!(tokenize("0x").is_err());
        assert!(tokenize("{").is_err());
    }

    #[test]
    fn doc_lines_are_sanitized() {
        assert_eq!(kinds("///a\r\n"), vec![TokenKind::Doc("a".into())]);
        assert_eq!(kinds("///  x\u{7}y"), vec![TokenKind::Doc(" x y".into())]);
    }
}
