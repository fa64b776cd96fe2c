//! `-e FILTER`: which messages rpctrace shows, by interface or routine. `test` shows the
//! `test` interface, `test.echo` one routine, `unknown` messages no interface knows;
//! `!notify` hides an interface (or routine). With no positive pattern, everything not
//! hidden is shown.

use anyhow::{bail, Result};
use herd_interfaces::reflect::INTERFACES;

use super::decode::Routine;

/// One pattern: an interface (or `unknown`), optionally one of its routines.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Pattern {
    iface: String,
    routine: Option<String>,
}

impl Pattern {
    fn matches(&self, r: Option<Routine>) -> bool {
        match r {
            None => self.iface == "unknown",
            Some(r) => {
                self.iface == r.iface.name
                    && self.routine.as_deref().is_none_or(|n| n == r.routine.name)
            }
        }
    }
}

/// The parsed filter.
#[derive(Debug, Default, Clone)]
pub struct Filter {
    show: Vec<Pattern>,
    hide: Vec<Pattern>,
}

impl Filter {
    /// Parses `-e` values; names are checked against the reflection table.
    pub fn parse(values: &[String]) -> Result<Filter> {
        let mut f = Filter::default();
        for raw in values.iter().map(|v| v.trim()).filter(|v| !v.is_empty()) {
            let (hide, text) = match raw.strip_prefix('!') {
                Some(rest) => (true, rest),
                None => (false, raw),
            };
            let (iface, routine) = match text.split_once('.') {
                Some((i, r)) => (i, Some(r)),
                None => (text, None),
            };
            if iface == "unknown" {
                if routine.is_some() {
                    bail!("filter {raw:?}: `unknown` has no routines");
                }
            } else {
                let Some(info) = INTERFACES.iter().find(|i| i.name == iface) else {
                    let known: Vec<&str> = INTERFACES.iter().map(|i| i.name).collect();
                    bail!(
                        "filter {raw:?}: no interface {iface:?} (known: {}, unknown)",
                        known.join(", ")
                    );
                };
                if let Some(r) = routine {
                    if info.routine(r).is_none() {
                        let known: Vec<&str> = info.routines.iter().map(|r| r.name).collect();
                        bail!(
                            "filter {raw:?}: interface {iface} has no routine {r:?} (it has: {})",
                            known.join(", ")
                        );
                    }
                }
            }
            let p = Pattern {
                iface: iface.to_string(),
                routine: routine.map(str::to_string),
            };
            if hide {
                f.hide.push(p);
            } else {
                f.show.push(p);
            }
        }
        Ok(f)
    }

    /// Whether a message of this routine (or of no known routine) is shown.
    pub fn shows(&self, r: Option<Routine>) -> bool {
        if self.hide.iter().any(|p| p.matches(r)) {
            return false;
        }
        self.show.is_empty() || self.show.iter().any(|p| p.matches(r))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(v: &[&str]) -> Result<Filter> {
        Filter::parse(&v.iter().map(|s| s.to_string()).collect::<Vec<_>>())
    }

    #[test]
    fn interfaces_routines_and_exclusions() {
        let echo = Routine::of(1001);
        let poke = Routine::of(1007);
        let no_senders = Routine::of(70);
        let all = f(&[]).unwrap();
        assert!(all.shows(echo) && all.shows(None));
        let only_echo = f(&["test.echo"]).unwrap();
        assert!(only_echo.shows(echo) && !only_echo.shows(poke) && !only_echo.shows(None));
        let not_notify = f(&["!notify"]).unwrap();
        assert!(not_notify.shows(echo) && !not_notify.shows(no_senders));
        let test_but_poke = f(&["test", "!test.poke", "unknown"]).unwrap();
        assert!(test_but_poke.shows(echo) && !test_but_poke.shows(poke));
        assert!(test_but_poke.shows(None));
    }

    #[test]
    fn unknown_names_are_refused_with_the_known_ones() {
        let e = f(&["tset"]).unwrap_err().to_string();
        assert!(e.contains("known: ") && e.contains("test"), "{e}");
        let e = f(&["test.nope"]).unwrap_err().to_string();
        assert!(e.contains("echo"), "{e}");
        assert!(f(&["unknown.x"]).is_err());
    }
}
