//! Text for a terminal: every byte of a capture is hostile, and a control
//! character written raw to a terminal is a command to it (ESC sequences clear
//! the screen, set the window title, make hyperlinks; BEL rings, BS and CR
//! overwrite what was shown). [`Printable`] is the one place that makes such
//! characters visible: the text report and every message on standard error
//! show data through it. JSON keeps the exact text (serde escapes it) and
//! HTML escapes as HTML.
use std::borrow::Cow;
use std::fmt::{self, Write};

/// True for the characters written escaped: C0 controls (NUL to US, tab and
/// newline included), DEL and the C1 controls (U+0080 to U+009F).
pub fn is_control(c: char) -> bool {
    matches!(c, '\0'..='\u{1f}' | '\u{7f}'..='\u{9f}')
}

/// `s` as it is shown: tab, newline and carriage return as `\t`, `\n`,
/// `\r`; other C0 controls and DEL as `\x1b`-style escapes; C1 controls as
/// `\u{9b}`. Every other character (a backslash too) is kept, so text
/// without controls is shown unchanged (and not copied).
pub fn printable(s: &str) -> Cow<'_, str> {
    if s.chars().any(is_control) {
        Cow::Owned(Printable(s).to_string())
    } else {
        Cow::Borrowed(s)
    }
}

/// [`printable`] for an owned string: `s` itself when it has no control.
pub fn printable_owned(s: String) -> String {
    if s.chars().any(is_control) {
        Printable(&s).to_string()
    } else {
        s
    }
}

/// Displays its text as [`printable`] does, without an intermediate copy.
#[derive(Clone, Copy)]
pub struct Printable<'a>(pub &'a str);

impl fmt::Display for Printable<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut rest = self.0;
        while let Some(at) = rest.find(is_control) {
            let (clean, tail) = rest.split_at(at);
            f.write_str(clean)?;
            let mut chars = tail.chars();
            if let Some(c) = chars.next() {
                write_escape(f, c)?;
            }
            rest = chars.as_str();
        }
        f.write_str(rest)
    }
}

/// The escape of one control character.
fn write_escape(f: &mut impl Write, c: char) -> fmt::Result {
    match c {
        '\t' => f.write_str("\\t"),
        '\n' => f.write_str("\\n"),
        '\r' => f.write_str("\\r"),
        '\u{80}'..='\u{9f}' => write!(f, "\\u{{{:x}}}", u32::from(c)),
        _ => write!(f, "\\x{:02x}", u32::from(c)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn controls_are_escaped_and_the_rest_kept() {
        assert!(matches!(printable("plain text ü €"), Cow::Borrowed(_)));
        assert_eq!(
            printable("a\u{1b}[2Jb\u{7}c\0d\u{8}e\u{7f}f\u{9b}g\u{85}h"),
            "a\\x1b[2Jb\\x07c\\x00d\\x08e\\x7ff\\u{9b}g\\u{85}h"
        );
        assert_eq!(printable("x\ty\r\nz"), "x\\ty\\r\\nz");
        // Backslashes and characters past C1 stay as they are.
        assert_eq!(printable("C:\\x \u{a0}\u{202e}"), "C:\\x \u{a0}\u{202e}");
        assert_eq!(Printable("\u{1b}]0;t\u{7}").to_string(), "\\x1b]0;t\\x07");
    }

    #[test]
    fn nothing_escaped_contains_a_control() {
        let every: String = (0u32..0x200).filter_map(char::from_u32).collect();
        let shown = printable(&every);
        assert!(!shown.chars().any(is_control), "{shown}");
        assert!(shown.contains("\\x00") && shown.contains("\\u{9f}"));
    }
}
