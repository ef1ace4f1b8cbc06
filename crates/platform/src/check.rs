//! Field checks every service writes the same way: each returns the clean
//! value or the description a [`crate::error::Violations`] records.

/// Trimmed text of at most `max` characters with no control characters
/// but newlines and tabs; `required` refuses an empty one.
pub fn text(raw: &str, max: usize, required: bool) -> Result<String, String> {
    let t = raw.trim();
    if t.chars().count() > max {
        return Err(format!("must be at most {max} characters"));
    }
    if t.chars()
        .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
    {
        return Err("must not contain control characters".into());
    }
    if required && t.is_empty() {
        return Err("is required".into());
    }
    Ok(t.to_string())
}

/// A calendar date, `YYYY-MM-DD`.
pub fn date(raw: &str) -> Result<jiff::civil::Date, String> {
    raw.trim()
        .parse::<jiff::civil::Date>()
        .map_err(|_| "must be a date, YYYY-MM-DD".to_string())
}

/// An id with `prefix` (`sup_…`), naming what it should be.
pub fn id(raw: &str, prefix: &str, what: &str) -> Result<String, String> {
    if crate::ids::is_valid(prefix, raw) {
        Ok(raw.to_string())
    } else {
        Err(format!(
            "is not {what} id ({prefix}_ followed by 26 characters)"
        ))
    }
}

/// [`id`] for a request's field: a 400 naming `field` when it is not one.
pub fn require_id(field: &str, raw: &str, prefix: &str, what: &str) -> Result<(), crate::Error> {
    id(raw, prefix, what)
        .map(drop)
        .map_err(|e| crate::Error::invalid(field, e))
}

/// Whether `code` is an institute's directory code as written: 2 to 16
/// upper-case letters or digits, starting with a letter.
pub fn is_institute_code(code: &str) -> bool {
    (2..=16).contains(&code.len())
        && code.starts_with(|ch: char| ch.is_ascii_uppercase())
        && code
            .chars()
            .all(|ch| ch.is_ascii_uppercase() || ch.is_ascii_digit())
}

/// An institute's directory code (trimmed), or what is wrong with it.
pub fn institute_code(raw: &str) -> Result<String, String> {
    let c = raw.trim();
    if is_institute_code(c) {
        Ok(c.to_string())
    } else {
        Err("must be an institute's directory code, e.g. GJTP".into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checks_say_what_is_wrong() {
        assert_eq!(text("  a  ", 5, true), Ok("a".into()));
        assert!(text(" ", 5, true).is_err());
        assert!(text("abcdef", 5, false).is_err());
        assert!(text("a\u{7}", 5, false).is_err());
        assert!(date("2026-02-30").is_err());
        assert_eq!(
            date("2026-02-28").map(|d| d.to_string()),
            Ok("2026-02-28".into())
        );
        assert!(id("sup_x", "sup", "a supplier").is_err());
        assert_eq!(institute_code("GJTP"), Ok("GJTP".into()));
        assert!(institute_code("gjtp").is_err());
    }
}
