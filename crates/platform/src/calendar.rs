//! The business calendar service levels are measured in: working hours per
//! weekday and public holidays, in Asia/Seoul.
//!
//! Holidays are dates read from a CSV file (`date,name_ko,name_en`), so an
//! operator can add a newly declared temporary holiday without a release; the
//! default is the bundled file of South Korea's public holidays for 2026 and
//! 2027, substitute and lunar-calendar holidays included (see
//! `calendars/README.md` for how it was made). Working hours are one window
//! per weekday, e.g. `Mon-Fri 09:00-18:00`.
//!
//! Two questions are answered: when does a clock of N business hours that
//! starts now run out ([`BusinessCalendar::add`]), and how much business
//! time lies between two instants, leaving out pauses such as "waiting for
//! the company" ([`BusinessCalendar::between`]).

use std::collections::BTreeMap;
use std::path::Path;

use jiff::civil::{Date, Time, Weekday};
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};

/// South Korea's public holidays, 2026–2027, the default holiday file.
pub const KOREAN_HOLIDAYS_CSV: &str = include_str!("../calendars/kr-public-holidays-2026-2027.csv");

/// The default working week.
pub const DEFAULT_HOURS: &str = "Mon-Fri 09:00-18:00";

/// How far ahead `add` looks for business time before giving up: far beyond
/// any service level, and a bound on the loop whatever the configuration.
const HORIZON_DAYS: i32 = 3 * 366;

/// Working hours and holidays in one time zone.
#[derive(Debug, Clone)]
pub struct BusinessCalendar {
    zone: TimeZone,
    /// Monday first; `None` is a day off.
    hours: [Option<(Time, Time)>; 7],
    holidays: BTreeMap<Date, String>,
}

impl BusinessCalendar {
    /// Working hours as written (`Mon-Fri 09:00-18:00; Sat 09:00-13:00`),
    /// holidays from a CSV text, in `zone`.
    pub fn new(zone: TimeZone, hours: &str, holidays_csv: &str) -> Result<Self, String> {
        Ok(Self {
            zone,
            hours: parse_hours(hours)?,
            holidays: parse_holidays(holidays_csv)?,
        })
    }

    /// Mon–Fri 09:00–18:00 in Asia/Seoul with Korea's public holidays.
    pub fn korea() -> Self {
        Self::new(crate::clock::seoul(), DEFAULT_HOURS, KOREAN_HOLIDAYS_CSV)
            .unwrap_or_else(|e| unreachable!("the bundled calendar is valid: {e}"))
    }

    /// The calendar a target is configured with: `holidays_file` replaces
    /// the bundled holidays when given.
    pub fn load(hours: &str, holidays_file: Option<&Path>) -> anyhow::Result<Self> {
        let csv = match holidays_file {
            Some(path) => std::fs::read_to_string(path).map_err(|e| {
                anyhow::anyhow!("cannot read the holiday file {}: {e}", path.display())
            })?,
            None => KOREAN_HOLIDAYS_CSV.to_string(),
        };
        Self::new(crate::clock::seoul(), hours, &csv).map_err(|e| match holidays_file {
            Some(path) => anyhow::anyhow!("{}: {e}", path.display()),
            None => anyhow::anyhow!("business hours {hours:?}: {e}"),
        })
    }

    /// The same zone and holidays with other working hours (an office of
    /// its own, say).
    pub fn with_hours(&self, hours: &str) -> Result<Self, String> {
        Ok(Self {
            zone: self.zone.clone(),
            hours: parse_hours(hours)?,
            holidays: self.holidays.clone(),
        })
    }

    /// The holiday on `date`, if it is one.
    pub fn holiday(&self, date: Date) -> Option<&str> {
        self.holidays.get(&date).map(String::as_str)
    }

    /// The last holiday date the calendar knows (service levels past it count
    /// every working weekday).
    pub fn last_holiday(&self) -> Option<Date> {
        self.holidays.keys().next_back().copied()
    }

    /// The working window of `date` as instants, or `None` on a day off.
    fn window(&self, date: Date) -> Option<(Timestamp, Timestamp)> {
        if self.holidays.contains_key(&date) {
            return None;
        }
        let (open, close) = self.hours[weekday_index(date.weekday())]?;
        let at = |t: Time| self.zone.to_timestamp(date.to_datetime(t)).ok();
        Some((at(open)?, at(close)?))
    }

    /// Whether `date` has working hours.
    pub fn is_business_day(&self, date: Date) -> bool {
        self.window(date).is_some()
    }

    /// The instant `amount` of business time after `start`: a clock started
    /// outside working hours begins at the next opening. `None` if the
    /// calendar has no working time in the next three years.
    pub fn add(&self, start: Timestamp, amount: SignedDuration) -> Option<Timestamp> {
        let mut left = amount.max(SignedDuration::ZERO);
        if left.is_zero() {
            return Some(start);
        }
        let mut date = self.zone.to_datetime(start).date();
        for _ in 0..HORIZON_DAYS {
            if let Some((open, close)) = self.window(date) {
                let from = start.max(open);
                if from < close {
                    let available = from.duration_until(close);
                    if left <= available {
                        return from.checked_add(left).ok();
                    }
                    left -= available;
                }
            }
            date = date.tomorrow().ok()?;
        }
        None
    }

    /// Business time in `[start, end)`, leaving out the business time that
    /// falls inside any of `pauses` (which may overlap each other or reach
    /// outside the range).
    pub fn between(
        &self,
        start: Timestamp,
        end: Timestamp,
        pauses: &[(Timestamp, Timestamp)],
    ) -> SignedDuration {
        if end <= start {
            return SignedDuration::ZERO;
        }
        let mut total = self.working_time(start, end);
        for (from, to) in merge(pauses, start, end) {
            total -= self.working_time(from, to);
        }
        total
    }

    /// Business time in `[start, end)`, pauses not considered.
    fn working_time(&self, start: Timestamp, end: Timestamp) -> SignedDuration {
        let mut total = SignedDuration::ZERO;
        let mut date = self.zone.to_datetime(start).date();
        let last = self.zone.to_datetime(end).date();
        while date <= last {
            if let Some((open, close)) = self.window(date) {
                let (from, to) = (start.max(open), end.min(close));
                if from < to {
                    total += from.duration_until(to);
                }
            }
            match date.tomorrow() {
                Ok(next) => date = next,
                Err(_) => break,
            }
        }
        total
    }
}

/// Pauses clipped to `[start, end)`, sorted, overlapping ones joined.
fn merge(
    pauses: &[(Timestamp, Timestamp)],
    start: Timestamp,
    end: Timestamp,
) -> Vec<(Timestamp, Timestamp)> {
    let mut clipped: Vec<_> = pauses
        .iter()
        .map(|&(a, b)| (a.max(start), b.min(end)))
        .filter(|(a, b)| a < b)
        .collect();
    clipped.sort();
    let mut merged: Vec<(Timestamp, Timestamp)> = Vec::with_capacity(clipped.len());
    for (a, b) in clipped {
        match merged.last_mut() {
            Some(last) if a <= last.1 => last.1 = last.1.max(b),
            _ => merged.push((a, b)),
        }
    }
    merged
}

fn weekday_index(day: Weekday) -> usize {
    day.to_monday_zero_offset() as usize
}

fn parse_weekday(raw: &str) -> Result<Weekday, String> {
    let day = match raw.to_ascii_lowercase().as_str() {
        "mon" | "monday" => Weekday::Monday,
        "tue" | "tuesday" => Weekday::Tuesday,
        "wed" | "wednesday" => Weekday::Wednesday,
        "thu" | "thursday" => Weekday::Thursday,
        "fri" | "friday" => Weekday::Friday,
        "sat" | "saturday" => Weekday::Saturday,
        "sun" | "sunday" => Weekday::Sunday,
        _ => return Err(format!("{raw:?} is not a weekday (Mon, Tue, … Sun)")),
    };
    Ok(day)
}

/// `Mon-Fri 09:00-18:00; Sat 09:00-13:00`: weekdays (a range or a comma
/// list) and one window each; later groups override earlier ones.
fn parse_hours(raw: &str) -> Result<[Option<(Time, Time)>; 7], String> {
    let mut hours = [None; 7];
    for group in raw.split(';').map(str::trim).filter(|g| !g.is_empty()) {
        let (days, window) = group
            .split_once(char::is_whitespace)
            .ok_or_else(|| format!("{group:?} should read like \"Mon-Fri 09:00-18:00\""))?;
        let (open, close) = window
            .trim()
            .split_once('-')
            .ok_or_else(|| format!("{window:?} should read like 09:00-18:00"))?;
        let time = |t: &str| {
            t.trim()
                .parse::<Time>()
                .map_err(|_| format!("{t:?} is not a time like 09:00"))
        };
        let (open, close) = (time(open)?, time(close)?);
        if open >= close {
            return Err(format!("{window:?}: the day must open before it closes"));
        }
        for part in days.split(',') {
            let (first, last) = match part.split_once('-') {
                Some((a, b)) => (parse_weekday(a)?, parse_weekday(b)?),
                None => (parse_weekday(part)?, parse_weekday(part)?),
            };
            let mut day = first;
            loop {
                hours[weekday_index(day)] = Some((open, close));
                if day == last {
                    break;
                }
                day = day.next();
            }
        }
    }
    if hours.iter().all(Option::is_none) {
        return Err("no working day is given".into());
    }
    Ok(hours)
}

/// `date,name_ko,name_en` lines; a header line and blank lines are skipped.
fn parse_holidays(csv: &str) -> Result<BTreeMap<Date, String>, String> {
    let mut holidays = BTreeMap::new();
    for (n, line) in csv.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') || (n == 0 && line.starts_with("date")) {
            continue;
        }
        let mut fields = line.splitn(3, ',');
        let date = fields.next().unwrap_or_default().trim();
        let date: Date = date
            .parse()
            .map_err(|_| format!("line {}: {date:?} is not a date like 2026-09-25", n + 1))?;
        let name = fields.next().unwrap_or_default().trim().to_string();
        holidays.insert(date, name);
    }
    Ok(holidays)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(raw: &str) -> Timestamp {
        // Local Seoul times in the tables below: `2026-11-27 17:00`.
        let dt: jiff::civil::DateTime = raw.parse().unwrap();
        crate::clock::seoul().to_timestamp(dt).unwrap()
    }

    fn hours(h: i64, m: i64) -> SignedDuration {
        SignedDuration::from_mins(h * 60 + m)
    }

    #[test]
    fn the_bundled_calendar_knows_substitute_and_lunar_holidays() {
        let cal = BusinessCalendar::korea();
        for (date, name) in [
            ("2026-02-17", "설날"),
            ("2026-03-02", "삼일절 대체 휴일"),
            ("2026-05-25", "부처님오신날 대체 휴일"),
            ("2026-06-03", "지방선거일"),
            ("2026-09-25", "추석"),
            ("2027-02-09", "설날 대체 휴일"),
            ("2027-12-27", "기독탄신일 대체 휴일"),
        ] {
            assert_eq!(cal.holiday(date.parse().unwrap()), Some(name), "{date}");
        }
        assert!(
            !cal.is_business_day("2026-11-28".parse().unwrap()),
            "Saturday"
        );
        assert!(cal.is_business_day("2026-11-27".parse().unwrap()), "Friday");
        assert_eq!(cal.last_holiday().unwrap().to_string(), "2027-12-27");
    }

    #[test]
    fn adding_business_hours() {
        let cal = BusinessCalendar::korea();
        let cases = [
            // (start, amount, due, why)
            (
                "2026-11-25 10:00",
                hours(4, 0),
                "2026-11-25 14:00",
                "within a day",
            ),
            (
                "2026-11-25 16:00",
                hours(4, 0),
                "2026-11-26 11:00",
                "across midnight",
            ),
            (
                "2026-11-25 20:00",
                hours(1, 0),
                "2026-11-26 10:00",
                "starts after closing",
            ),
            (
                "2026-11-25 07:30",
                hours(1, 30),
                "2026-11-25 10:30",
                "starts before opening",
            ),
            (
                "2026-11-27 17:00",
                hours(2, 0),
                "2026-11-30 10:00",
                "across a weekend",
            ),
            (
                "2026-11-28 11:00",
                hours(1, 0),
                "2026-11-30 10:00",
                "starts on a Saturday",
            ),
            (
                "2026-11-25 18:00",
                hours(9, 0),
                "2026-11-26 18:00",
                "a full day, from closing",
            ),
            // Chuseok 24–26 Sep 2026 (Thu–Sat): Wednesday 17:00 + 2 h → Monday 10:00.
            (
                "2026-09-23 17:00",
                hours(2, 0),
                "2026-09-28 10:00",
                "across a holiday",
            ),
            // Seollal 2027: 6–8 Feb plus the substitute 9 Feb (Tue).
            (
                "2027-02-05 17:00",
                hours(1, 30),
                "2027-02-10 09:30",
                "across a substitute holiday",
            ),
            (
                "2026-11-25 10:00",
                hours(0, 0),
                "2026-11-25 10:00",
                "nothing to add",
            ),
            (
                "2026-12-31 17:00",
                hours(2, 0),
                "2027-01-04 10:00",
                "New Year and a weekend",
            ),
        ];
        for (start, amount, due, why) in cases {
            assert_eq!(cal.add(at(start), amount), Some(at(due)), "{why}");
        }
    }

    #[test]
    fn counting_business_time_between_two_instants() {
        let cal = BusinessCalendar::korea();
        let cases = [
            (
                "2026-11-25 10:00",
                "2026-11-25 14:30",
                hours(4, 30),
                "within a day",
            ),
            (
                "2026-11-25 17:00",
                "2026-11-26 10:00",
                hours(2, 0),
                "across midnight",
            ),
            (
                "2026-11-27 17:00",
                "2026-11-30 10:00",
                hours(2, 0),
                "across a weekend",
            ),
            (
                "2026-09-23 17:00",
                "2026-09-28 10:00",
                hours(2, 0),
                "across Chuseok",
            ),
            (
                "2026-11-28 09:00",
                "2026-11-29 18:00",
                hours(0, 0),
                "only a weekend",
            ),
            (
                "2026-11-25 14:00",
                "2026-11-25 10:00",
                hours(0, 0),
                "end before start",
            ),
            (
                "2026-11-23 00:00",
                "2026-11-30 00:00",
                hours(45, 0),
                "a whole week",
            ),
        ];
        for (start, end, expected, why) in cases {
            assert_eq!(cal.between(at(start), at(end), &[]), expected, "{why}");
        }
    }

    #[test]
    fn pauses_are_left_out_even_across_a_weekend() {
        let cal = BusinessCalendar::korea();
        // Opened Thursday 10:00, answered Tuesday 12:00: 8+9+9+3 = 29 h of
        // business time, Saturday and Sunday not counted.
        let (start, end) = (at("2026-11-26 10:00"), at("2026-12-01 12:00"));
        assert_eq!(cal.between(start, end, &[]), hours(29, 0));
        // Waiting for the company from Friday 16:00 to Monday 11:00: the
        // weekend inside the pause was not business time anyway, so only
        // Friday's 2 h and Monday's 2 h come off.
        let weekend = (at("2026-11-27 16:00"), at("2026-11-30 11:00"));
        assert_eq!(cal.between(start, end, &[weekend]), hours(25, 0));
        // Overlapping and out-of-range pauses count once.
        let overlapping = [
            weekend,
            (at("2026-11-30 10:00"), at("2026-11-30 12:00")),
            (at("2026-11-20 00:00"), at("2026-11-26 11:00")),
        ];
        assert_eq!(cal.between(start, end, &overlapping), hours(23, 0));
    }

    #[test]
    fn working_hours_and_holiday_files_are_checked() {
        let zone = crate::clock::seoul();
        let sat = BusinessCalendar::new(zone.clone(), "Mon-Fri 09:00-18:00; Sat 09:00-13:00", "")
            .unwrap();
        assert_eq!(
            sat.add(at("2026-11-27 17:00"), hours(2, 0)),
            Some(at("2026-11-28 10:00"))
        );
        for bad in [
            "",
            "Mon-Fri",
            "Mon-Fri 18:00-09:00",
            "Funday 09:00-18:00",
            "Mon 9-18",
        ] {
            assert!(
                BusinessCalendar::new(zone.clone(), bad, "").is_err(),
                "{bad:?}"
            );
        }
        let err = BusinessCalendar::new(zone.clone(), DEFAULT_HOURS, "date,name\n2026-13-01,x")
            .unwrap_err();
        assert!(err.contains("line 2"), "{err}");
        let extra = format!("{KOREAN_HOLIDAYS_CSV}2026-11-27,임시공휴일,Temporary holiday\n");
        let cal = BusinessCalendar::new(zone, DEFAULT_HOURS, &extra).unwrap();
        assert_eq!(
            cal.holiday("2026-11-27".parse().unwrap()),
            Some("임시공휴일")
        );
    }
}
