//! Parser tests: ids, docs, and every error with its position.

use crate::{generate, parse, Direction, RoutineKind, Type};

const TEST: &str = "\
/// The test interface.
/// Second line.
subsystem test 1000;

/// Null RPC.
routine ping(server: object);
routine echo(server: object; in data: bytes; out back: bytes);
skip;
/* gone */ simpleroutine poke(server: object;
    /// How many.
    n: u32;);
skip; skip;
routine last(obj: object; out a: send; out b: region; in c: string);
";

#[test]
fn ids_count_skips_and_docs_attach() {
    let i = parse(TEST).unwrap();
    assert_eq!(i.name, "test");
    assert_eq!(i.base, 1000);
    assert_eq!(i.doc, vec!["The test interface.", "Second line."]);
    let ids: Vec<(&str, u32)> = i.routines.iter().map(|r| (r.name.as_str(), r.id)).collect();
    assert_eq!(
        ids,
        vec![
            ("ping", 1000),
            ("echo", 1001),
            ("poke", 1003),
            ("last", 1006)
        ]
    );
    assert_eq!(i.routines[0].doc, vec!["Null RPC."]);
    assert_eq!(i.routines[1].reply_id(), 1101);
    let poke = &i.routines[2];
    assert_eq!(poke.kind, RoutineKind::SimpleRoutine);
    assert_eq!(poke.args[0].doc, vec!["How many."]);
    assert_eq!(poke.args[0].dir, Direction::In);
    let last = &i.routines[3];
    assert_eq!(last.object.name, "obj");
    let outs: Vec<Type> = last.outs().map(|a| a.ty).collect();
    assert_eq!(outs, vec![Type::Send, Type::Region]);
    assert_eq!(last.ins().count(), 1);
    assert_eq!(i.routine_by_id(1003).map(|r| r.name.as_str()), Some("poke"));
    assert!(i.routine_by_id(1002).is_none());
}

/// Parses `src` and returns the error's `line:column: message`.
fn err(src: &str) -> String {
    match parse(src) {
        Ok(_) => panic!("{src:?} parsed"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn errors_carry_line_and_column() {
    let cases: &[(&str, &str)] = &[
        ("", "1:1: expected `subsystem NAME BASE;`"),
        ("routine x(s: object);", "1:1: expected `subsystem"),
        (
            "subsystem Test 1;",
            "1:11: subsystem name `Test` must be snake_case",
        ),
        (
            "subsystem t;",
            "1:12: expected the subsystem's base message id",
        ),
        (
            "subsystem t 4294967295;",
            "1:13: base message id 4294967295 is too large",
        ),
        ("subsystem t 99999999999;", "1:13: base message id"),
        (
            "subsystem t 1",
            "1:14: expected `;`, found the end of the file",
        ),
        (
            "subsystem t 1;\nsubsystem u 2;",
            "2:1: only one `subsystem`",
        ),
        (
            "subsystem t 1;\nroutine x();",
            "2:11: a routine's first argument is the object",
        ),
        (
            "subsystem t 1;\nroutine x(s: u32);",
            "2:11: the first argument is the object",
        ),
        (
            "subsystem t 1;\nroutine x(out s: object);",
            "2:11: the object argument cannot be `out`",
        ),
        (
            "subsystem t 1;\nroutine x(s: object; o: object);",
            "2:22: only the first argument",
        ),
        (
            "subsystem t 1;\nroutine x(s: object; a: blob);",
            "2:25: unknown type `blob`",
        ),
        (
            "subsystem t 1;\nroutine x(s: object, a: u8);",
            "2:20: arguments are separated by `;`",
        ),
        (
            "subsystem t 1;\nroutine x(s);",
            "2:12: expected `:` and a type after argument `s`",
        ),
        (
            "subsystem t 1;\nroutine x(s: object; a: u8; a: u8);",
            "2:29: argument `a` appears twice",
        ),
        (
            "subsystem t 1;\nsimpleroutine x(s: object; out a: u8);",
            "2:28: `out a`: a simpleroutine",
        ),
        (
            "subsystem t 1;\nroutine x(s: object);\nroutine x(s: object);",
            "3:1: routine `x` is defined twice",
        ),
        (
            "subsystem t 1;\nroutine x(s: object)",
            "2:21: expected `;`, found the end",
        ),
        (
            "subsystem t 1;\nroutine x(s: object; type: u8);",
            "2:22: argument name `type` is a reserved word",
        ),
        (
            "subsystem t 1;\nroutine x(s: object; task: u8);",
            "2:22: argument name `task` is used by the generated code",
        ),
        (
            "subsystem t 1;\nroutine dispatch(s: object);",
            "2:9: routine name `dispatch` is used",
        ),
        (
            "subsystem t 1;\nroutine x(s: object; herd_e: u8);",
            "2:22: argument name `herd_e` starts with `herd_`",
        ),
        (
            "subsystem t 1;\nroutine x(s: object; a: u8 b: u8);",
            "2:28: expected `;` or `)` after the argument",
        ),
        (
            "subsystem t 1;\n/// lost\nskip;",
            "2:1: a doc comment cannot document `skip`",
        ),
        (
            "subsystem t 1;\n/// lost",
            "2:1: doc comment documents nothing",
        ),
        (
            "subsystem t 1;\nroutine /// x\n y(s: object);",
            "2:9: expected the routine's name, found a doc comment",
        ),
        (
            "subsystem t 1;\nfoo;",
            "2:1: expected `routine`, `simpleroutine`, `skip` or the end, found `foo`",
        ),
        ("subsystem t 1;\nskip", "2:5: expected `;`"),
        ("subsystem t 1;\n  @", "2:3: unexpected character '@'"),
        ("subsystem t 1;\n/* open", "2:1: unterminated `/*` comment"),
    ];
    for (src, want) in cases {
        let got = err(src);
        assert!(got.starts_with(want), "{src:?}: got {got:?}, want {want:?}");
    }
}

#[test]
fn the_hundredth_routine_is_refused() {
    let mut src = String::from("subsystem t 1;\n");
    for _ in 0..100 {
        src.push_str("skip;\n");
    }
    assert!(parse(&src).is_ok());
    src.push_str("routine x(s: object);\n");
    assert!(err(&src).starts_with("102:1: too many routines"));
    let mut src = String::from("subsystem t 1;\nroutine x(s: object");
    for i in 0..65 {
        src.push_str(&format!("; r{i}: region"));
    }
    src.push_str(");");
    assert!(err(&src).contains("65 regions"), "{}", err(&src));
}

#[test]
fn the_highest_base_that_fits_is_accepted() {
    let i = parse("subsystem t 4294967096; routine x(s: object);").unwrap();
    assert_eq!(i.routines[0].reply_id(), u32::MAX - 99);
    assert!(parse("subsystem t 4294967097;").is_err());
}

#[test]
fn generated_code_names_everything() {
    let code = generate(&parse(TEST).unwrap());
    for want in [
        "pub mod test {",
        "pub const PING: u32 = 1000;",
        "pub const LAST: u32 = 1006;",
        "pub trait TestServer: Send + Sync {",
        "pub fn echo(task: &herd_rt::Task, server: &herd_rt::SendRight, data: &[u8]) -> ::std::result::Result<::std::vec::Vec<u8>, herd_rt::Errno> {",
        "fn poke(&self, req: &::herd_interfaces::Request, n: u32) {",
        "pub fn decode_last_reply(herd_msg: herd_rt::Received) -> ::std::result::Result<(herd_rt::Right, herd_rt::Region), herd_rt::Errno> {",
        "pub fn encode_last_reply(herd_reply: herd_rt::PortArg, herd_result: ::std::result::Result<(herd_rt::PortArg, herd_rt::Region), herd_rt::Errno>) -> herd_rt::OutMessage {",
        "/// - `n`: How many.",
        "/// Null RPC.",
        "doc: \"The test interface.\\nSecond line.\",",
    ] {
        assert!(code.contains(want), "missing {want:?} in:\n{code}");
    }
}

#[test]
fn fixed_structs_and_id_arrays_generate() {
    let src = "subsystem t 1;\nroutine st(o: object; in ids: u32_array; in when: timespec; \
               out info: stat; out fs: statfs; out back: u32_array);";
    let iface = parse(src).unwrap();
    let tys: Vec<Type> = iface.routines[0].args.iter().map(|a| a.ty).collect();
    assert_eq!(
        tys,
        [
            Type::U32Array,
            Type::Timespec,
            Type::Stat,
            Type::StatFs,
            Type::U32Array
        ]
    );
    let code = generate(&iface);
    for want in [
        "ids: &[u32], when: ::herd_interfaces::types::Timespec",
        "herd_e.u32_array(ids);",
        "herd_e.fixed(&when);",
        "herd_d.fixed::<::herd_interfaces::types::Stat>()?",
        "herd_e.fixed(&info); herd_e.fixed(&fs); herd_e.u32_array(&back);",
        "(::herd_interfaces::types::Stat, ::herd_interfaces::types::StatFs, ::std::vec::Vec<u32>)",
        "ArgType::Struct(<::herd_interfaces::types::StatFs as ::herd_interfaces::types::Fixed>::INFO)",
        "ArgType::U32Array",
    ] {
        assert!(code.contains(want), "missing {want:?} in:\n{code}");
    }
    for (word, ty) in Type::ALL {
        assert_eq!(Type::from_keyword(word), Some(ty));
        assert_eq!(ty.keyword(), word);
    }
}

mod never_panics {
    use proptest::prelude::*;

    /// Pieces of real syntax, so random sequences get deep into the parser.
    const PIECES: &[&str] = &[
        "subsystem",
        "routine",
        "simpleroutine",
        "skip",
        "in",
        "out",
        "object",
        "u32",
        "bytes",
        "send",
        "region",
        "stat",
        "u32_array",
        "x",
        "y",
        "Foo",
        "type",
        "(",
        ")",
        ";",
        ":",
        ",",
        "1000",
        "0x",
        "/// d\n",
        "// c\n",
        "/*",
        "*/",
        " ",
        "\n",
        "\u{e9}",
        "\r",
        "4294967295",
    ];

    proptest! {
        #[test]
        fn parse_never_panics_on_any_text(src in "\\PC*") {
            let _ = crate::parse(&src);
        }

        #[test]
        fn parse_and_generate_never_panic_on_token_soup(
            picks in proptest::collection::vec(0..PIECES.len(), 0..40)
        ) {
            let src: String = picks.iter().map(|i| PIECES[*i]).collect::<Vec<_>>().join(" ");
            if let Ok(iface) = crate::parse(&src) {
                let _ = crate::generate(&iface);
            }
        }
    }
}
