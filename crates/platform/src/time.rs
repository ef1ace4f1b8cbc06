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

/// Korea Standard Time is UTC+9 all year (no daylight saving).
const SEOUL_OFFSET_MICROS: i64 = 9 * 3600 * 1_000_000;
const DAY_MICROS: i64 = 86_400 * 1_000_000;

/// Days since 1970-01-01 of `micros` as a calendar day in Asia/Seoul.
pub fn seoul_day(micros: i64) -> i64 {
    (micros + SEOUL_OFFSET_MICROS).div_euclid(DAY_MICROS)
}

/// `YYYY-MM-DD` of a day number (days since 1970-01-01), proleptic
/// Gregorian (H. Hinnant's `civil_from_days`).
pub fn date_string(days: i64) -> String {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}")
}

/// Today's date in Asia/Seoul, `YYYY-MM-DD`.
pub fn seoul_today() -> String {
    date_string(seoul_day(now_micros()))
}

/// The date `days` after today in Asia/Seoul, `YYYY-MM-DD`.
pub fn seoul_date_in(days: i64) -> String {
    date_string(seoul_day(now_micros()) + days)
}

/// `(year, quarter)` in Asia/Seoul of a stored time, quarter 1-4.
pub fn seoul_quarter(micros: i64) -> (i64, u32) {
    let date = date_string(seoul_day(micros));
    let year = date[..4].parse().unwrap_or(1970);
    let month: u32 = date[5..7].parse().unwrap_or(1);
    (year, (month - 1) / 3 + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_seoul_calendar_days() {
        assert_eq!(date_string(0), "1970-01-01");
        assert_eq!(date_string(19_782), "2024-02-29");
        assert_eq!(date_string(-1), "1969-12-31");
        // 2026-11-27 15:30 UTC is already the 28th in Seoul.
        let utc = 1_795_793_400_000_000; // 2026-11-27T15:30:00Z
        assert_eq!(date_string(seoul_day(utc)), "2026-11-28");
        assert_eq!(date_string(seoul_day(utc - 1_000_000 * 3600)), "2026-11-27");
        assert_eq!(seoul_quarter(utc), (2026, 4));
        assert_eq!(seoul_quarter(0), (1970, 1));
    }

    #[test]
    fn timestamps_split_micros_into_seconds_and_nanos() {
        let ts = to_timestamp(1_700_000_000_123_456);
        assert_eq!((ts.seconds, ts.nanos), (1_700_000_000, 123_456_000));
        let ts = to_timestamp(-1);
        assert_eq!((ts.seconds, ts.nanos), (-1, 999_999_000));
    }
}
