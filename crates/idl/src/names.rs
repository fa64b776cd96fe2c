//! Which names a `.defs` file may use, and how they become Rust names.
//!
//! Every name in an interface becomes a Rust identifier in generated code (a module, a
//! function, a parameter), so names must be snake_case and not Rust keywords; a few more
//! are reserved because the generated code itself uses them.

/// Rust's keywords (strict, reserved, and those of later editions), which cannot be names.
const RUST_KEYWORDS: &[&str] = &[
    "abstract", "as", "async", "await", "become", "box", "break", "const", "continue", "crate",
    "do", "dyn", "else", "enum", "extern", "false", "final", "fn", "for", "gen", "if", "impl",
    "in", "let", "loop", "macro", "match", "mod", "move", "mut", "override", "priv", "pub", "ref",
    "return", "self", "static", "struct", "super", "trait", "true", "try", "type", "typeof",
    "unsafe", "unsized", "use", "virtual", "where", "while", "yield",
];

/// Words of the IDL that cannot be names.
const IDL_KEYWORDS: &[&str] = &["in", "out", "routine", "simpleroutine", "skip", "subsystem"];

/// Argument names the generated signatures use themselves.
const RESERVED_ARGS: &[&str] = &["task", "req"];

/// Routine names the generated module uses for its own functions.
const RESERVED_ROUTINES: &[&str] = &["dispatch", "try_dispatch"];

/// The prefix of every local name in generated code; no interface name may start with it.
pub const GENERATED_PREFIX: &str = "herd_";

/// What a name is used for, to pick the rules and word the error.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NameUse {
    /// A subsystem (a module name).
    Subsystem,
    /// A routine (a function and trait method name).
    Routine,
    /// An argument (a parameter name).
    Argument,
}

impl NameUse {
    fn noun(self) -> &'static str {
        match self {
            NameUse::Subsystem => "subsystem",
            NameUse::Routine => "routine",
            NameUse::Argument => "argument",
        }
    }
}

/// Checks that `name` may be used as `what`; the error says why not.
pub fn check(name: &str, what: NameUse) -> Result<(), String> {
    let noun = what.noun();
    let mut chars = name.chars();
    let snake = chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if !snake {
        return Err(format!(
            "{noun} name `{name}` must be snake_case: a lowercase letter, then lowercase \
             letters, digits and `_`"
        ));
    }
    if RUST_KEYWORDS.contains(&name) || IDL_KEYWORDS.contains(&name) {
        return Err(format!("{noun} name `{name}` is a reserved word"));
    }
    if name.starts_with(GENERATED_PREFIX) {
        return Err(format!(
            "{noun} name `{name}` starts with `{GENERATED_PREFIX}`, which generated code keeps \
             for itself"
        ));
    }
    let reserved = match what {
        NameUse::Argument => RESERVED_ARGS,
        NameUse::Routine => RESERVED_ROUTINES,
        NameUse::Subsystem => &[],
    };
    if reserved.contains(&name) {
        return Err(format!(
            "{noun} name `{name}` is used by the generated code; pick another"
        ));
    }
    Ok(())
}

/// `fs_notify` → `FsNotify`.
pub fn camel_case(snake: &str) -> String {
    snake
        .split('_')
        .map(|part| {
            let mut chars = part.chars();
            match chars.next() {
                Some(first) => first.to_ascii_uppercase().to_string() + chars.as_str(),
                None => String::new(),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_the_rules() {
        assert!(check("dir_lookup", NameUse::Routine).is_ok());
        assert!(check("io2", NameUse::Subsystem).is_ok());
        assert!(check("Echo", NameUse::Routine).is_err());
        assert!(check("_x", NameUse::Argument).is_err());
        assert!(check("type", NameUse::Argument).is_err());
        assert!(check("out", NameUse::Argument).is_err());
        assert!(check("task", NameUse::Argument).is_err());
        assert!(check("task", NameUse::Routine).is_ok());
        assert!(check("dispatch", NameUse::Routine).is_err());
        assert!(check("herd_x", NameUse::Argument).is_err());
        assert!(check("", NameUse::Argument).is_err());
    }

    #[test]
    fn camel_case_joins_words() {
        assert_eq!(camel_case("fs_notify"), "FsNotify");
        assert_eq!(camel_case("test"), "Test");
        assert_eq!(camel_case("a__b2"), "AB2");
    }
}
