//! Writes any string as one YAML scalar that reads back as exactly that string.
//!
//! Every value that reaches a template goes through [`write_scalar`] (it is Tera's escape
//! function), so no value can add keys, end a mapping, start a comment or change type. Strings
//! that are unambiguous in both YAML 1.1 (what Kubernetes and Argo CD parse with) and YAML 1.2
//! stay plain for readability; everything else is double-quoted.

use std::io::{self, Write};

/// Words that YAML 1.1 or 1.2 resolves to booleans or null when they are plain.
const RESERVED_WORDS: [&str; 9] = ["y", "n", "yes", "no", "on", "off", "true", "false", "null"];

/// Whether `s` can be written as a plain scalar and still be read as this string by every YAML
/// parser. Deliberately narrow: starting with a letter, `/` or `$` rules out numbers, dates,
/// `.inf`, anchors, tags and indicators; the allowed characters rule out comments, flow syntax
/// and `: `.
pub fn is_plain_safe(s: &str) -> bool {
    let mut bytes = s.bytes();
    let first_ok = bytes
        .next()
        .is_some_and(|b| b.is_ascii_alphabetic() || b == b'/' || b == b'$');
    first_ok
        && bytes.all(|b| b.is_ascii_alphanumeric() || b"._/$:-".contains(&b))
        && !s.ends_with(':')
        && !RESERVED_WORDS.iter().any(|w| s.eq_ignore_ascii_case(w))
}

/// A double-quoted YAML scalar for `s`. Only printable characters (YAML's `c-printable`) stay
/// as they are; line breaks, including the Unicode ones YAML 1.1 folds, are escaped so the
/// scalar stays on one line.
pub fn double_quoted(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if needs_escape(c) => {
                let code = u32::from(c);
                if code <= 0xFFFF {
                    out.push_str(&format!("\\u{code:04X}"));
                } else {
                    out.push_str(&format!("\\U{code:08X}"));
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn needs_escape(c: char) -> bool {
    let printable =
        matches!(u32::from(c), 0x20..=0x7E | 0xA0..=0xD7FF | 0xE000..=0xFFFD | 0x10000..);
    // NEL and the Unicode line and paragraph separators are line breaks in YAML 1.1; BOM is
    // printable but invisible and parsers may strip it.
    !printable || matches!(c, '\u{2028}' | '\u{2029}' | '\u{FEFF}')
}

/// Tera's escape function: every value interpolated into a template becomes one safe scalar.
pub fn write_scalar(s: &str, out: &mut dyn Write) -> io::Result<()> {
    if is_plain_safe(s) {
        out.write_all(s.as_bytes())
    } else {
        out.write_all(double_quoted(s).as_bytes())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn written(s: &str) -> String {
        let mut out = Vec::new();
        write_scalar(s, &mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    fn reads_back(s: &str) {
        let doc = format!("k: {}\n", written(s));
        let value: yaml_serde::Value = yaml_serde::from_str(&doc).unwrap();
        assert_eq!(value["k"].as_str(), Some(s), "{doc}");
    }

    #[test]
    fn plain_when_unambiguous() {
        for s in [
            "payments",
            "https://kubernetes.default.svc",
            "group:default/team-a",
            "/spec/replicas",
            "$values/apps/x/values.yaml",
            "v1.4.2",
        ] {
            assert_eq!(written(s), s);
        }
    }

    #[test]
    fn quoted_when_yaml_would_read_something_else() {
        for s in [
            "1.10",
            "110",
            "true",
            "Yes",
            "off",
            "NULL",
            "y",
            "0x1F",
            "1e3",
            "2024-01-01",
            ".inf",
            "~",
            "",
            "a:",
            "-a",
            "*x",
            "&x",
            "!x",
            "a #b",
            "a: b",
            "[a]",
            "{a}",
            "@x",
            "`x",
        ] {
            assert!(written(s).starts_with('"'), "{s:?} -> {}", written(s));
            reads_back(s);
        }
    }

    #[test]
    fn quoted_strings_read_back_exactly() {
        for s in [
            "{{ x }} {% raw %} : # \"q\" 'q'\nsecond line\n",
            "tab\there\r\n",
            "back\\slash",
            "bell\u{7} del\u{7f} nel\u{85} ls\u{2028} ps\u{2029} bom\u{FEFF} nbsp\u{A0}",
            "emoji 🚀 and ü",
            "\u{FFFE}\u{FFFF}",
            "  leading and trailing  ",
        ] {
            let q = written(s);
            assert!(!q.contains('\n'), "{q}");
            reads_back(s);
        }
    }
}
