//! The one source of "now" for every service, injectable so tests can stop
//! and move time: the system clock in production, a [`ManualTime`] in tests
//! of deadlines, service levels and expiries.
//!
//! Stored times are microseconds since the Unix epoch (a BIGINT on both
//! engines); civil dates are Asia/Seoul's, through jiff's time-zone database.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use jiff::civil::Date;
use jiff::tz::TimeZone;
use jiff::{Timestamp, ToSpan};

/// Where the time comes from.
pub trait TimeSource: Send + Sync {
    fn now(&self) -> Timestamp;
}

/// The machine's clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemTime;

impl TimeSource for SystemTime {
    fn now(&self) -> Timestamp {
        Timestamp::now()
    }
}

/// A clock that stands still until told to move (tests).
#[derive(Debug)]
pub struct ManualTime(AtomicI64);

impl ManualTime {
    pub fn set(&self, at: Timestamp) {
        self.0.store(at.as_microsecond(), Ordering::SeqCst);
    }

    pub fn advance(&self, by: jiff::SignedDuration) {
        let micros = i64::try_from(by.as_micros()).unwrap_or(i64::MAX);
        self.0.fetch_add(micros, Ordering::SeqCst);
    }
}

impl TimeSource for ManualTime {
    fn now(&self) -> Timestamp {
        Timestamp::from_microsecond(self.0.load(Ordering::SeqCst)).unwrap_or(Timestamp::UNIX_EPOCH)
    }
}

/// A cheap, cloneable handle on a time source, with the programme's zone.
#[derive(Clone)]
pub struct Clock {
    source: Arc<dyn TimeSource>,
    zone: TimeZone,
}

impl fmt::Debug for Clock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Clock").field("now", &self.now()).finish()
    }
}

impl Default for Clock {
    fn default() -> Self {
        Self::system()
    }
}

/// Asia/Seoul, from the bundled time-zone database (UTC+9 if it were missing).
pub fn seoul() -> TimeZone {
    TimeZone::get("Asia/Seoul").unwrap_or_else(|_| TimeZone::fixed(jiff::tz::offset(9)))
}

impl Clock {
    pub fn system() -> Self {
        Self {
            source: Arc::new(SystemTime),
            zone: seoul(),
        }
    }

    /// A clock standing at `at`, and the handle that moves it.
    pub fn manual(at: Timestamp) -> (Self, Arc<ManualTime>) {
        let time = Arc::new(ManualTime(AtomicI64::new(at.as_microsecond())));
        let clock = Self {
            source: time.clone(),
            zone: seoul(),
        };
        (clock, time)
    }

    pub fn now(&self) -> Timestamp {
        self.source.now()
    }

    /// Now, as stored: microseconds since the epoch.
    pub fn now_micros(&self) -> i64 {
        self.now().as_microsecond()
    }

    /// The programme's time zone (Asia/Seoul).
    pub fn zone(&self) -> &TimeZone {
        &self.zone
    }

    /// Today's date in Asia/Seoul.
    pub fn today(&self) -> Date {
        self.zone.to_datetime(self.now()).date()
    }

    /// The date `days` after today in Asia/Seoul.
    pub fn date_in(&self, days: i64) -> Date {
        self.today()
            .checked_add(days.days())
            .unwrap_or_else(|_| self.today())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_manual_clock_stands_still_and_moves_when_told() {
        let start: Timestamp = "2026-11-27T15:30:00Z".parse().unwrap();
        let (clock, time) = Clock::manual(start);
        assert_eq!(clock.now(), start);
        // 15:30 UTC is already the next day in Seoul.
        assert_eq!(clock.today().to_string(), "2026-11-28");
        time.advance(jiff::SignedDuration::from_hours(-1));
        assert_eq!(clock.today().to_string(), "2026-11-27");
        assert_eq!(clock.date_in(35).to_string(), "2027-01-01");
        time.set("2027-01-01T00:00:00Z".parse().unwrap());
        assert_eq!(clock.now_micros(), 1_798_761_600_000_000);
    }

    #[test]
    fn the_system_clock_moves() {
        let clock = Clock::system();
        let a = clock.now();
        std::thread::sleep(std::time::Duration::from_millis(2));
        assert!(clock.now() > a);
    }
}
