//! Choosing and writing scalar styles so that a string stays a string for every reader.
//!
//! Helm reads values with go-yaml (YAML 1.1 rules: `yes`, `on`, `010`, `12:30` are not
//! strings), Kubernetes tooling and PyYAML differ again, and yaml_serde follows YAML 1.2. A
//! value is written plain only when none of them would read it as anything but this string.

/// How a flow scalar is written in the file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Style {
    Plain,
    Single,
    Double,
}

impl Style {
    /// The style of an existing flow scalar, judged from its first byte.
    pub(crate) fn of_raw(raw: &str) -> Style {
        match raw.as_bytes().first() {
            Some(b'"') => Style::Double,
            Some(b'\'') => Style::Single,
            _ => Style::Plain,
        }
    }
}

/// Text for `value` in the `preferred` style if that is safe, else in double quotes.
pub(crate) fn render(value: &str, preferred: Style, in_flow: bool) -> String {
    match preferred {
        Style::Plain if plain_is_safe(value, in_flow) => value.to_owned(),
        Style::Single if single_is_safe(value) => {
            format!("'{}'", value.replace('\'', "''"))
        }
        _ => double_quote(value),
    }
}

/// Whether some YAML 1.1 or 1.2 reader (PyYAML, go-yaml v2/v3, libyaml-based yaml_serde) would
/// resolve this plain scalar to null, a bool, a number, a timestamp or a merge/value key.
/// Errs on the side of "yes": a needless quote is harmless, a retyped value is not.
pub(crate) fn resolves_to_non_string(s: &str) -> bool {
    let lower = s.to_ascii_lowercase();
    if matches!(
        lower.as_str(),
        "" | "~" | "null" | "y" | "yes" | "n" | "no" | "true" | "false" | "on" | "off" | "<<" | "="
    ) {
        return true;
    }
    let unsigned = lower
        .strip_prefix('+')
        .or_else(|| lower.strip_prefix('-'))
        .unwrap_or(&lower);
    if matches!(unsigned, ".inf" | ".nan" | "inf" | "infinity" | "nan") {
        return true;
    }
    is_prefixed_int(unsigned)
        || is_decimal_number(unsigned)
        || is_sexagesimal(unsigned)
        || is_timestamp(s)
}

fn is_prefixed_int(s: &str) -> bool {
    // 0x1F, 0o17, 0b101, and go's hex floats (0x1p3): any such prefix followed by
    // number-ish characters is treated as a number.
    let Some(rest) = s
        .strip_prefix("0x")
        .or_else(|| s.strip_prefix("0o"))
        .or_else(|| s.strip_prefix("0b"))
    else {
        return false;
    };
    !rest.is_empty()
        && rest
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '+' | '-'))
}

/// `[0-9_]*(\.[0-9_]*)?([eE][-+]?[0-9]+)?` with at least one digit in the mantissa:
/// covers 1.10, 010, 1_000, .5, 1., 1e3 and 1.5E-3; not 1.4.2.
fn is_decimal_number(s: &str) -> bool {
    let (mantissa, exponent) = match s.find(['e', 'E']) {
        Some(i) => (&s[..i], Some(&s[i + 1..])),
        None => (s, None),
    };
    let mut dots = 0;
    let mut digits = 0;
    for c in mantissa.chars() {
        match c {
            '0'..='9' => digits += 1,
            '_' => {}
            '.' => dots += 1,
            _ => return false,
        }
    }
    if digits == 0 || dots > 1 || mantissa.starts_with('_') {
        return false;
    }
    match exponent {
        None => true,
        Some(e) => {
            let e = e.strip_prefix(['+', '-']).unwrap_or(e);
            !e.is_empty() && e.chars().all(|c| c.is_ascii_digit())
        }
    }
}

/// YAML 1.1 base-60 numbers such as 12:30 or 1:20:30.5 (go-yaml v2 and PyYAML read them as ints).
fn is_sexagesimal(s: &str) -> bool {
    let (whole, frac) = match s.split_once('.') {
        Some((w, f)) => (w, Some(f)),
        None => (s, None),
    };
    let mut parts = whole.split(':');
    let first_ok = parts.next().is_some_and(|p| {
        p.starts_with(|c: char| c.is_ascii_digit())
            && p.chars().all(|c| c.is_ascii_digit() || c == '_')
    });
    let mut rest = 0;
    for p in parts {
        if p.is_empty() || !p.chars().all(|c| c.is_ascii_digit() || c == '_') {
            return false;
        }
        rest += 1;
    }
    first_ok && rest > 0 && frac.is_none_or(|f| f.chars().all(|c| c.is_ascii_digit() || c == '_'))
}

/// YAML 1.1 timestamps: 2001-12-14, optionally followed by a time after `T`, `t` or a space.
fn is_timestamp(s: &str) -> bool {
    let b = s.as_bytes();
    let digits =
        |r: std::ops::Range<usize>| b.get(r).is_some_and(|x| x.iter().all(u8::is_ascii_digit));
    if !digits(0..4) || b.get(4) != Some(&b'-') {
        return false;
    }
    let mut i = 5;
    for part in 0..2 {
        let start = i;
        while b.get(i).is_some_and(u8::is_ascii_digit) && i - start < 2 {
            i += 1;
        }
        if i == start {
            return false;
        }
        if part == 0 {
            if b.get(i) != Some(&b'-') {
                return false;
            }
            i += 1;
        }
    }
    matches!(b.get(i), None | Some(b'T' | b't' | b' ' | b'\t'))
}

/// YAML's printable set (c-printable), minus the byte order mark which some readers strip.
fn is_printable(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{7E}' | '\u{85}' | '\u{A0}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..='\u{10FFFF}')
        && c != '\u{FEFF}'
}

fn is_line_break(c: char) -> bool {
    // NEL, LS and PS are line breaks in YAML 1.1.
    matches!(c, '\n' | '\r' | '\u{85}' | '\u{2028}' | '\u{2029}')
}

fn single_is_safe(s: &str) -> bool {
    s.chars().all(|c| is_printable(c) && !is_line_break(c))
}

/// Whether `s` can be written without quotes and still read back as exactly this string.
pub(crate) fn plain_is_safe(s: &str, in_flow: bool) -> bool {
    if resolves_to_non_string(s) {
        return false;
    }
    if s.chars()
        .any(|c| !is_printable(c) || is_line_break(c) || c == '\t')
    {
        return false;
    }
    if s.starts_with(' ') || s.ends_with(' ') || s.starts_with("---") || s.starts_with("...") {
        return false;
    }
    let Some(first) = s.chars().next() else {
        return false;
    };
    if matches!(
        first,
        '-' | '?'
            | ':'
            | ','
            | '['
            | ']'
            | '{'
            | '}'
            | '#'
            | '&'
            | '*'
            | '!'
            | '|'
            | '>'
            | '\''
            | '"'
            | '%'
            | '@'
            | '`'
    ) {
        // `-x` would be safe in YAML 1.2, but `-` alone or `- x` is a sequence entry and some
        // older readers disagree on the rest, so any leading indicator is quoted.
        return false;
    }
    if s.contains(": ") || s.ends_with(':') || s.contains(" #") {
        return false;
    }
    if in_flow && s.contains([',', '[', ']', '{', '}', ':']) {
        return false;
    }
    true
}

/// A double-quoted scalar on one line; anything non-printable or line-breaking is escaped.
pub(crate) fn double_quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\0' => out.push_str("\\0"),
            '\u{7}' => out.push_str("\\a"),
            '\u{8}' => out.push_str("\\b"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\u{B}' => out.push_str("\\v"),
            '\u{C}' => out.push_str("\\f"),
            '\r' => out.push_str("\\r"),
            '\u{1B}' => out.push_str("\\e"),
            '\u{85}' => out.push_str("\\N"),
            '\u{2028}' => out.push_str("\\L"),
            '\u{2029}' => out.push_str("\\P"),
            c if is_printable(c) => out.push(c),
            c if u32::from(c) <= 0xFF => out.push_str(&format!("\\x{:02X}", u32::from(c))),
            c if u32::from(c) <= 0xFFFF => out.push_str(&format!("\\u{:04X}", u32::from(c))),
            c => out.push_str(&format!("\\U{:08X}", u32::from(c))),
        }
    }
    out.push('"');
    out
}

/// Decodes a one-line flow scalar as written in the file (used for mapping keys).
/// Returns `None` for anything this small decoder does not handle, so the caller refuses
/// instead of comparing against a wrong string.
pub(crate) fn decode_inline(raw: &str) -> Option<String> {
    if raw.contains(is_line_break) {
        return None;
    }
    match Style::of_raw(raw) {
        Style::Plain => Some(raw.trim_end_matches([' ', '\t']).to_owned()),
        Style::Single => {
            let inner = raw.strip_prefix('\'')?.strip_suffix('\'')?;
            if inner.replace("''", "").contains('\'') {
                return None;
            }
            Some(inner.replace("''", "'"))
        }
        Style::Double => decode_double(raw.strip_prefix('"')?.strip_suffix('"')?),
    }
}

fn decode_double(inner: &str) -> Option<String> {
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        match c {
            '"' => return None,
            '\\' => {
                let e = chars.next()?;
                let simple = match e {
                    '0' => Some('\0'),
                    'a' => Some('\u{7}'),
                    'b' => Some('\u{8}'),
                    't' | '\t' => Some('\t'),
                    'n' => Some('\n'),
                    'v' => Some('\u{B}'),
                    'f' => Some('\u{C}'),
                    'r' => Some('\r'),
                    'e' => Some('\u{1B}'),
                    ' ' => Some(' '),
                    '"' => Some('"'),
                    '/' => Some('/'),
                    '\\' => Some('\\'),
                    'N' => Some('\u{85}'),
                    '_' => Some('\u{A0}'),
                    'L' => Some('\u{2028}'),
                    'P' => Some('\u{2029}'),
                    _ => None,
                };
                if let Some(s) = simple {
                    out.push(s);
                    continue;
                }
                let width = match e {
                    'x' => 2,
                    'u' => 4,
                    'U' => 8,
                    _ => return None,
                };
                let hex: String = chars.by_ref().take(width).collect();
                if hex.len() != width {
                    return None;
                }
                out.push(char::from_u32(u32::from_str_radix(&hex, 16).ok()?)?);
            }
            c => out.push(c),
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_bools_nulls_and_timestamps_are_not_plain_safe() {
        for s in [
            "1.10",
            "1e3",
            "1E3",
            "1.5e-3",
            "0x1F",
            "0o17",
            "0b101",
            "010",
            "0",
            "-1",
            "+1",
            "1_000",
            ".5",
            "1.",
            ".inf",
            "-.inf",
            ".NaN",
            "true",
            "True",
            "FALSE",
            "no",
            "No",
            "yes",
            "on",
            "OFF",
            "y",
            "n",
            "Y",
            "~",
            "null",
            "NULL",
            "",
            "12:30",
            "1:20:30.5",
            "2024-01-15",
            "2001-12-14t21:59:43.10-05:00",
            "<<",
            "=",
            "inf",
            "-Infinity",
        ] {
            assert!(resolves_to_non_string(s), "{s:?} should need quotes");
            assert!(!plain_is_safe(s, false), "{s:?}");
        }
    }

    #[test]
    fn ordinary_tags_stay_plain() {
        for s in [
            "1.4.2",
            "9.9.9-rc1",
            "v1.2.3",
            "latest",
            "8.2.3-alpine",
            "sha256:594ceea76b01",
            "rancher/k3s:v1.23.3-k3s1",
            "v1.2.9@sha256:203d3020005d",
            "192.168.1.1",
            "2024-01-15-abc",
            "a b",
            "it's",
            "a#b",
            "x:y",
            "ünïcödé",
        ] {
            assert!(plain_is_safe(s, false), "{s:?} should stay plain");
        }
    }

    #[test]
    fn structural_characters_force_quotes() {
        for s in [
            "a: b",
            "a #b",
            "a:",
            "- a",
            "-",
            "? a",
            ": a",
            "*x",
            "&x",
            "!x",
            "{a}",
            "[a]",
            "]",
            "}",
            ",",
            "|x",
            ">x",
            "%x",
            "@x",
            "`x",
            "'q'",
            "\"q\"",
            " lead",
            "trail ",
            "tab\tx",
            "multi\nline",
            "#c",
            "---",
            "...",
            "bell\u{7}",
            "bom\u{FEFF}",
            "nel\u{85}",
        ] {
            assert!(!plain_is_safe(s, false), "{s:?} must be quoted");
        }
        for s in ["a,b", "a[b", "a}b", "x:y"] {
            assert!(plain_is_safe(s, false), "{s:?} is fine in block context");
            assert!(
                !plain_is_safe(s, true),
                "{s:?} must be quoted in flow context"
            );
        }
    }

    #[test]
    fn render_keeps_style_when_safe_and_falls_back_to_double_quotes() {
        assert_eq!(render("1.4.2", Style::Plain, false), "1.4.2");
        assert_eq!(render("1.10", Style::Plain, false), "\"1.10\"");
        assert_eq!(render("1.10", Style::Single, false), "'1.10'");
        assert_eq!(render("it's", Style::Single, false), "'it''s'");
        assert_eq!(render("a\nb", Style::Single, false), "\"a\\nb\"");
        assert_eq!(render("x", Style::Double, false), "\"x\"");
        assert_eq!(render("", Style::Plain, false), "\"\"");
        assert_eq!(
            double_quote("q\"b\\s\t\u{1}\u{FEFF}\u{2028}é"),
            "\"q\\\"b\\\\s\\t\\x01\\uFEFF\\Lé\""
        );
    }

    #[test]
    fn decode_inline_handles_each_style() {
        assert_eq!(decode_inline("plain key").as_deref(), Some("plain key"));
        assert_eq!(decode_inline("'it''s'").as_deref(), Some("it's"));
        assert_eq!(
            decode_inline(r#""a\"b\x41\u00e9\n""#).as_deref(),
            Some("a\"bAé\n")
        );
        assert_eq!(decode_inline("'a\nb'"), None);
        assert_eq!(decode_inline(r#""\q""#), None);
        for s in ["a b", "it's", "x\"y\\z\t\u{1}", "é€𝄞"] {
            assert_eq!(decode_inline(&double_quote(s)).as_deref(), Some(s));
            assert_eq!(
                decode_inline(&render(s, Style::Single, false)).as_deref(),
                Some(s)
            );
        }
    }
}
