//! Opaque, type-prefixed, time-ordered identifiers (`sup_01jf…`).
//!
//! The 26 characters after the prefix are a ULID in lowercase Crockford
//! base32: 48 bits of milliseconds since the epoch, then 80 random bits. Ids
//! made by one process are strictly increasing, even within one millisecond,
//! so ordering by id is ordering by creation, which keyset pagination relies on.

use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

const ALPHABET: &[u8; 32] = b"0123456789abcdefghjkmnpqrstvwxyz";

/// Length of the part after the prefix and underscore.
pub const ULID_LEN: usize = 26;

static LAST: Mutex<(u64, u128)> = Mutex::new((0, 0));

/// A new identifier, `{prefix}_{ulid}`.
pub fn new_id(prefix: &str) -> String {
    let ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
        & 0xFFFF_FFFF_FFFF;
    let mut bytes = [0u8; 16];
    // getrandom only fails when the OS has no entropy source at all; then a
    // zero random part still yields unique ids through the increment below.
    let _ = getrandom::fill(&mut bytes[..10]);
    let mut random = u128::from_be_bytes(bytes) >> 48;
    {
        let mut last = LAST.lock().unwrap_or_else(|p| p.into_inner());
        if ms <= last.0 {
            // Same (or an earlier, clock went back) millisecond: keep order.
            random = (last.1 + 1) & ((1u128 << 80) - 1);
            *last = (last.0, random);
            return encode(prefix, last.0, random);
        }
        *last = (ms, random);
    }
    encode(prefix, ms, random)
}

fn encode(prefix: &str, ms: u64, random: u128) -> String {
    let value: u128 = ((ms as u128) << 80) | random;
    let mut out = String::with_capacity(prefix.len() + 1 + ULID_LEN);
    out.push_str(prefix);
    out.push('_');
    for i in (0..ULID_LEN).rev() {
        let idx = ((value >> (i * 5)) & 0x1F) as usize;
        out.push(ALPHABET[idx] as char);
    }
    out
}

/// Whether `id` has the shape `{prefix}_{26 base32 chars}`. Cheap syntactic
/// check so malformed ids are a 400 (or a 404) without touching the database.
pub fn is_valid(prefix: &str, id: &str) -> bool {
    let Some(rest) = id.strip_prefix(prefix).and_then(|r| r.strip_prefix('_')) else {
        return false;
    };
    rest.len() == ULID_LEN && rest.bytes().all(|b| ALPHABET.contains(&b))
}

/// A random URL-safe token of `bytes` random bytes (for secrets).
pub fn random_token(bytes: usize) -> String {
    use base64::Engine as _;
    let mut buf = vec![0u8; bytes];
    // Without an entropy source no secret can be made safely: stop here.
    getrandom::fill(&mut buf).expect("the operating system's random source failed");
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(buf)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_prefixed_well_formed_and_increasing() {
        let ids: Vec<String> = (0..1000).map(|_| new_id("sup")).collect();
        for pair in ids.windows(2) {
            assert!(pair[0] < pair[1], "{} !< {}", pair[0], pair[1]);
        }
        assert!(ids.iter().all(|id| is_valid("sup", id)));
    }

    #[test]
    fn malformed_ids_are_rejected() {
        let good = new_id("sup");
        assert!(!is_valid("tkt", &good));
        assert!(!is_valid("sup", "sup_"));
        assert!(!is_valid("sup", &good.to_uppercase()));
        assert!(!is_valid("sup", &format!("{good}x")));
        assert!(!is_valid("sup", "sup_0000000000000000000000000i"));
    }
}
