//! Time as stored (microseconds since the Unix epoch, a BIGINT on both
//! engines) and as shown (`google.protobuf.Timestamp`, RFC 3339 in JSON).
//! "Now" comes from the [`Clock`](crate::clock::Clock), never from here.

use jiff::Timestamp;
use jiff::tz::TimeZone;

/// A stored time as a protobuf timestamp.
pub fn to_timestamp(micros: i64) -> prost_types::Timestamp {
    prost_types::Timestamp {
        seconds: micros.div_euclid(1_000_000),
        nanos: (micros.rem_euclid(1_000_000) * 1000) as i32,
    }
}

/// A protobuf timestamp as stored, saturating far outside any real date.
pub fn from_timestamp(t: &prost_types::Timestamp) -> i64 {
    t.seconds
        .saturating_mul(1_000_000)
        .saturating_add(i64::from(t.nanos / 1000))
}

/// `(year, quarter)` of a stored time as a calendar date in `zone`,
/// quarter 1-4.
pub fn quarter(micros: i64, zone: &TimeZone) -> (i16, i8) {
    let at = Timestamp::from_microsecond(micros).unwrap_or(Timestamp::UNIX_EPOCH);
    let date = zone.to_datetime(at).date();
    (date.year(), (date.month() - 1) / 3 + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quarters_are_seoul_calendar_quarters() {
        let seoul = crate::clock::seoul();
        // 2026-12-31 15:30 UTC is already 2027 in Seoul.
        let utc = 1_798_731_000_000_000; // 2026-12-31T15:30:00Z
        assert_eq!(quarter(utc, &seoul), (2027, 1));
        assert_eq!(quarter(utc - 3_600_000_000 * 7, &seoul), (2026, 4));
        assert_eq!(quarter(0, &seoul), (1970, 1));
    }

    #[test]
    fn timestamps_split_micros_into_seconds_and_nanos() {
        let ts = to_timestamp(1_700_000_000_123_456);
        assert_eq!((ts.seconds, ts.nanos), (1_700_000_000, 123_456_000));
        assert_eq!(from_timestamp(&ts), 1_700_000_000_123_456);
        let ts = to_timestamp(-1);
        assert_eq!((ts.seconds, ts.nanos), (-1, 999_999_000));
    }
}
