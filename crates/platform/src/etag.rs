//! Entity tags for optimistic concurrency (AIP-154).
//!
//! A record's etag is its revision number, rendered as a strong HTTP entity
//! tag's opaque part. Clients send it back in the body's `etag` field or the
//! `If-Match` header (forwarded by the gateway as `if-match` metadata).

use tonic::Request;

use crate::Error;

/// The etag of revision `revision`.
pub fn from_revision(revision: i64) -> String {
    format!("r{revision}")
}

/// The etag the caller expects, from `If-Match` or else from the body.
/// `*` (any) and an empty value mean "no expectation".
pub fn expected<T>(request: &Request<T>, body_etag: &str) -> Option<String> {
    let header = request
        .metadata()
        .get("if-match")
        .and_then(|v| v.to_str().ok())
        .map(normalise)
        .filter(|v| !v.is_empty() && v != "*");
    header.or_else(|| Some(normalise(body_etag)).filter(|v| !v.is_empty()))
}

/// Refuses the write when the caller expected another revision.
pub fn check(expected: Option<&str>, current_revision: i64) -> Result<(), Error> {
    match expected {
        Some(e) if e != from_revision(current_revision) => Err(Error::EtagMismatch {
            current: from_revision(current_revision),
        }),
        _ => Ok(()),
    }
}

/// `W/"r3"`, `"r3"` and `r3` all mean `r3`.
fn normalise(raw: &str) -> String {
    let raw = raw.trim();
    let raw = raw.strip_prefix("W/").unwrap_or(raw);
    raw.trim_matches('"').to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn if_match_wins_over_body_and_accepts_quoted_forms() {
        let mut req = Request::new(());
        req.metadata_mut()
            .insert("if-match", "W/\"r2\"".parse().unwrap());
        assert_eq!(expected(&req, "r1").as_deref(), Some("r2"));
        assert_eq!(expected(&Request::new(()), "\"r1\"").as_deref(), Some("r1"));
        assert_eq!(expected(&Request::new(()), ""), None);
    }

    #[test]
    fn stale_etag_is_refused() {
        assert!(check(Some("r1"), 2).is_err());
        assert!(check(Some("r2"), 2).is_ok());
        assert!(check(None, 2).is_ok());
    }
}
