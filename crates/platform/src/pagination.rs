//! Page sizes and opaque page tokens (AIP-158).
//!
//! A token holds the sort key of the last item served (keyset pagination:
//! stable when rows are inserted meanwhile) and a fingerprint of the query it
//! belongs to, so a token replayed with other filters is refused as a 400
//! instead of silently skipping or repeating rows.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::Error;

/// One page of a list: its items and the token of the next page (empty on
/// the last one).
#[derive(Debug, Clone, PartialEq)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_page_token: String,
}

pub const DEFAULT_PAGE_SIZE: i64 = 50;
pub const MAX_PAGE_SIZE: i64 = 500;

/// The page size to use for a requested one: 0 means the default, larger
/// than the maximum means the maximum, negative is an error.
pub fn page_size(requested: i32) -> Result<i64, Error> {
    match requested {
        n if n < 0 => Err(Error::invalid("pageSize", "must not be negative")),
        0 => Ok(DEFAULT_PAGE_SIZE),
        n => Ok((n as i64).min(MAX_PAGE_SIZE)),
    }
}

#[derive(Serialize, Deserialize)]
struct Token {
    /// Sort key of the last item served.
    k: serde_json::Value,
    /// Fingerprint of the query (filters and order).
    q: String,
}

/// A fingerprint of the query parameters a token is valid for.
pub fn fingerprint(parts: &[&str]) -> String {
    let mut h = Sha256::new();
    for p in parts {
        h.update(p.as_bytes());
        h.update([0u8]);
    }
    crate::idempotency::hex(&h.finalize()[..8])
}

/// The token for the page after the item whose sort key is `last`.
pub fn encode(last: serde_json::Value, fingerprint: &str) -> String {
    let token = Token {
        k: last,
        q: fingerprint.to_string(),
    };
    B64.encode(serde_json::to_vec(&token).unwrap_or_default())
}

/// The sort key a token continues after; `None` for the first page.
pub fn decode(token: &str, fingerprint: &str) -> Result<Option<serde_json::Value>, Error> {
    if token.is_empty() {
        return Ok(None);
    }
    let token: Token = B64
        .decode(token)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .ok_or_else(|| Error::invalid("pageToken", "is not a token this API issued"))?;
    if token.q != fingerprint {
        return Err(Error::invalid(
            "pageToken",
            "belongs to a query with other parameters; start again without a token",
        ));
    }
    Ok(Some(token.k))
}

/// For lists ordered by id: the id a token continues after.
pub fn decode_after_id(token: &str, fingerprint: &str) -> Result<Option<String>, Error> {
    match decode(token, fingerprint)? {
        None => Ok(None),
        Some(serde_json::Value::String(id)) => Ok(Some(id)),
        Some(_) => Err(Error::invalid(
            "pageToken",
            "is not a token this API issued",
        )),
    }
}

/// Given up to `size + 1` rows (the extra one says another page exists),
/// keeps `size` and returns the next page's token (empty on the last page).
pub fn finish<T>(
    rows: &mut Vec<T>,
    size: i64,
    fingerprint: &str,
    key: impl Fn(&T) -> String,
) -> String {
    finish_with(rows, size, fingerprint, |row| {
        serde_json::Value::String(key(row))
    })
}

/// [`finish`] for lists sorted on more than the id: `key` is the whole
/// sort key of a row, as the query reads it back from the token.
pub fn finish_with<T>(
    rows: &mut Vec<T>,
    size: i64,
    fingerprint: &str,
    key: impl Fn(&T) -> serde_json::Value,
) -> String {
    let more = rows.len() as i64 > size;
    rows.truncate(size.max(0) as usize);
    match (more, rows.last()) {
        (true, Some(last)) => encode(key(last), fingerprint),
        _ => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_size_defaults_and_clamps() {
        assert_eq!(page_size(0).unwrap(), 50);
        assert_eq!(page_size(10).unwrap(), 10);
        assert_eq!(page_size(100_000).unwrap(), 500);
        assert!(page_size(-1).is_err());
    }

    #[test]
    fn token_round_trips_only_for_its_query() {
        let fp = fingerprint(&["status=ACTIVE"]);
        let t = encode(serde_json::json!("sup_1"), &fp);
        assert_eq!(decode(&t, &fp).unwrap(), Some(serde_json::json!("sup_1")));
        assert!(decode(&t, &fingerprint(&["status=SUSPENDED"])).is_err());
        assert!(decode("garbage!", &fp).is_err());
        assert_eq!(decode("", &fp).unwrap(), None);
    }
}
