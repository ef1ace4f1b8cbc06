//! Time as stored (microseconds since the Unix epoch, a BIGINT on both
//! engines) and as shown (`google.protobuf.Timestamp`, RFC 3339 in JSON).

use std::time::{SystemTime, UNIX_EPOCH};

/// Now, in microseconds since the epoch.
pub fn now_micros() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_micros() as i64)
        .unwrap_or(0)
}

/// A stored time as a protobuf timestamp.
pub fn to_timestamp(micros: i64) -> prost_types::Timestamp {
    prost_types::Timestamp {
        seconds: micros.div_euclid(1_000_000),
        nanos: (micros.rem_euclid(1_000_000) * 1000) as i32,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_split_micros_into_seconds_and_nanos() {
        let ts = to_timestamp(1_700_000_000_123_456);
        assert_eq!((ts.seconds, ts.nanos), (1_700_000_000, 123_456_000));
        let ts = to_timestamp(-1);
        assert_eq!((ts.seconds, ts.nanos), (-1, 999_999_000));
    }
}
