//! Service levels, with no I/O: three clocks per ticket counted in business
//! time of a [`BusinessCalendar`], paused while the ticket waits on the
//! company (the way Zendesk and Jira Service Management define them).
//!
//! - first response: from creation to the first public reply of the centre
//!   or an institute;
//! - next response: from a company's public comment to the next such reply;
//! - resolution: from creation to RESOLVED.
//!
//! A clock is its start, its target and its stop; the due time is derived:
//! the instant at which the business time since the start, less the pauses,
//! reaches the target. It is worked out again on every change, so a new
//! priority, a pause or a reset never leaves an old due time behind.

use gearshift_platform::calendar::BusinessCalendar;
use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};

use super::rules::Priority;

/// Under this share of the target left, a running clock is at risk.
pub const AT_RISK_SHARE: f64 = 0.2;

/// The targets of a priority, in business minutes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    pub first_response_minutes: i64,
    pub resolution_minutes: i64,
}

/// A business day is the calendar's working day: 9 hours (09:00–18:00).
const DAY: i64 = 9 * 60;

/// The default targets per priority (migration 0104 stores them; operators
/// change them): URGENT 2 h / 1 business day, HIGH 4 h / 3 days, NORMAL 1
/// day / 10 days, LOW 2 days / 20 days. The next-response target is the
/// first-response one.
pub fn policy(priority: Priority) -> Policy {
    let (first_response_minutes, resolution_minutes) = match priority {
        Priority::Urgent => (2 * 60, DAY),
        Priority::High => (4 * 60, 3 * DAY),
        Priority::Normal => (DAY, 10 * DAY),
        Priority::Low => (2 * DAY, 20 * DAY),
    };
    Policy {
        first_response_minutes,
        resolution_minutes,
    }
}

/// Where a clock stands at an instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    OnTrack,
    AtRisk,
    Breached,
    Met,
    Paused,
}

impl State {
    pub fn as_str(self) -> &'static str {
        match self {
            State::OnTrack => "ON_TRACK",
            State::AtRisk => "AT_RISK",
            State::Breached => "BREACHED",
            State::Met => "MET",
            State::Paused => "PAUSED",
        }
    }
}

/// One clock. Times are microseconds since the epoch.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Clock {
    pub target_minutes: i64,
    /// When it started; `None` for a clock that is not running (a next
    /// response nobody is waiting for).
    pub start: Option<i64>,
    /// When it stopped (the reply, the resolution).
    pub stop: Option<i64>,
    /// Derived: when the target is reached; `None` while paused.
    pub due: Option<i64>,
    /// Derived: when under 20 % of the target is left.
    pub risk: Option<i64>,
    /// Whether its breach was recorded (an event, once per clock run).
    pub breach_recorded: bool,
}

/// A ticket's clocks and the periods it waited on the company.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Levels {
    pub first_response: Clock,
    pub next_response: Clock,
    pub resolution: Clock,
    /// Waiting periods `(from, to)`; the last one open (`to` is `None`)
    /// while the ticket waits.
    pub pauses: Vec<(i64, Option<i64>)>,
}

fn ts(micros: i64) -> Timestamp {
    Timestamp::from_microsecond(micros).unwrap_or(Timestamp::UNIX_EPOCH)
}

fn micros(t: Timestamp) -> i64 {
    t.as_microsecond()
}

impl Levels {
    /// The clocks of a ticket created at `now` with policy `p`.
    pub fn start(now: i64, p: Policy, calendar: &BusinessCalendar) -> Levels {
        let mut levels = Levels {
            first_response: Clock {
                target_minutes: p.first_response_minutes,
                start: Some(now),
                ..Clock::default()
            },
            next_response: Clock {
                target_minutes: p.first_response_minutes,
                ..Clock::default()
            },
            resolution: Clock {
                target_minutes: p.resolution_minutes,
                start: Some(now),
                ..Clock::default()
            },
            pauses: Vec::new(),
        };
        levels.derive(calendar);
        levels
    }

    /// Whether the ticket waits on the company now.
    pub fn paused(&self) -> bool {
        self.pauses.last().is_some_and(|(_, to)| to.is_none())
    }

    /// The ticket starts waiting on the company.
    pub fn pause(&mut self, now: i64, calendar: &BusinessCalendar) {
        if !self.paused() {
            self.pauses.push((now, None));
        }
        self.derive(calendar);
    }

    /// The ticket stops waiting on the company.
    pub fn resume(&mut self, now: i64, calendar: &BusinessCalendar) {
        if let Some((from, to @ None)) = self.pauses.last_mut() {
            *to = Some(now.max(*from));
        }
        self.derive(calendar);
    }

    /// New targets for a new priority, counted from the same starts.
    pub fn reprioritise(&mut self, p: Policy, calendar: &BusinessCalendar) {
        self.first_response.target_minutes = p.first_response_minutes;
        self.next_response.target_minutes = p.first_response_minutes;
        self.resolution.target_minutes = p.resolution_minutes;
        self.derive(calendar);
    }

    /// A public reply of the centre or an institute: stops the first
    /// response (the first time) and a running next response.
    pub fn replied(&mut self, now: i64, calendar: &BusinessCalendar) {
        for clock in [&mut self.first_response, &mut self.next_response] {
            if clock.start.is_some() && clock.stop.is_none() {
                clock.stop = Some(now);
            }
        }
        self.derive(calendar);
    }

    /// A public comment of the company: starts the next-response clock
    /// unless one already runs.
    pub fn requester_commented(&mut self, now: i64, calendar: &BusinessCalendar) {
        let nr = &mut self.next_response;
        if nr.start.is_none() || nr.stop.is_some() {
            *nr = Clock {
                target_minutes: nr.target_minutes,
                start: Some(now),
                ..Clock::default()
            };
        }
        self.derive(calendar);
    }

    /// Resolution: the resolution clock stops (and a next response that
    /// was awaited is answered by the resolution).
    pub fn resolved(&mut self, now: i64, calendar: &BusinessCalendar) {
        self.resume(now, calendar);
        for clock in [
            &mut self.first_response,
            &mut self.next_response,
            &mut self.resolution,
        ] {
            if clock.start.is_some() && clock.stop.is_none() {
                clock.stop = Some(now);
            }
        }
        self.derive(calendar);
    }

    /// Reopened: the resolution clock runs on from where it stopped (the
    /// time between resolution and reopening does not count).
    pub fn reopened(&mut self, now: i64, calendar: &BusinessCalendar) {
        if let Some(stopped) = self.resolution.stop.take() {
            self.pauses.push((stopped, Some(now.max(stopped))));
            self.resolution.breach_recorded = false;
        }
        self.derive(calendar);
    }

    /// A re-route that resets the clocks: the ones still running start
    /// again at `now`, with no pauses behind them and no breach recorded.
    pub fn reset(&mut self, now: i64, calendar: &BusinessCalendar) {
        let paused = self.paused();
        for clock in [
            &mut self.first_response,
            &mut self.next_response,
            &mut self.resolution,
        ] {
            if clock.start.is_some() && clock.stop.is_none() {
                clock.start = Some(now);
                clock.breach_recorded = false;
            }
        }
        self.pauses.clear();
        if paused {
            self.pauses.push((now, None));
        }
        self.derive(calendar);
    }

    /// Works out every clock's due and at-risk instants again.
    pub fn derive(&mut self, calendar: &BusinessCalendar) {
        let pauses = self.pauses.clone();
        for clock in [
            &mut self.first_response,
            &mut self.next_response,
            &mut self.resolution,
        ] {
            match clock.start {
                Some(start) => {
                    let target = SignedDuration::from_mins(clock.target_minutes);
                    let risk_after =
                        SignedDuration::from_secs_f64(target.as_secs_f64() * (1.0 - AT_RISK_SHARE));
                    clock.due = reach(calendar, start, target, &pauses);
                    clock.risk = reach(calendar, start, risk_after, &pauses);
                }
                None => {
                    clock.due = None;
                    clock.risk = None;
                }
            }
        }
    }

    /// The clocks a running ticket can breach, with their names.
    pub fn clocks(&self) -> [(&'static str, &Clock); 3] {
        [
            ("firstResponse", &self.first_response),
            ("nextResponse", &self.next_response),
            ("resolution", &self.resolution),
        ]
    }

    pub fn clocks_mut(&mut self) -> [(&'static str, &mut Clock); 3] {
        [
            ("firstResponse", &mut self.first_response),
            ("nextResponse", &mut self.next_response),
            ("resolution", &mut self.resolution),
        ]
    }

    /// The nearest due time of a running clock (for "ordered by due time").
    pub fn next_due(&self) -> Option<i64> {
        self.clocks()
            .iter()
            .filter(|(_, c)| c.stop.is_none())
            .filter_map(|(_, c)| c.due)
            .min()
    }
}

impl Clock {
    /// Where the clock stands at `now`.
    pub fn state(&self, now: i64) -> Option<State> {
        self.start?;
        Some(match (self.stop, self.due) {
            (Some(stop), Some(due)) if stop > due => State::Breached,
            (Some(_), _) => State::Met,
            (None, None) => State::Paused,
            (None, Some(due)) if now >= due => State::Breached,
            (None, Some(_)) if self.risk.is_some_and(|r| now >= r) => State::AtRisk,
            (None, Some(_)) => State::OnTrack,
        })
    }
}

/// The instant at which business time since `start`, less `pauses`,
/// reaches `amount`; `None` if it falls in a pause that is still open (or
/// beyond the calendar's horizon).
fn reach(
    calendar: &BusinessCalendar,
    start: i64,
    amount: SignedDuration,
    pauses: &[(i64, Option<i64>)],
) -> Option<i64> {
    let mut at = ts(start);
    let mut left = amount;
    let mut sorted: Vec<_> = pauses.to_vec();
    sorted.sort_by_key(|(from, _)| *from);
    for (from, to) in sorted {
        let from = ts(from);
        if from > at {
            let available = calendar.between(at, from, &[]);
            if left <= available {
                return calendar.add(at, left).map(micros);
            }
            left -= available;
        }
        match to {
            Some(to) => at = at.max(ts(to)),
            None => return None,
        }
    }
    calendar.add(at, left).map(micros)
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::DateTime;

    fn seoul(s: &str) -> i64 {
        let dt: DateTime = s.parse().expect("date time");
        gearshift_platform::clock::seoul()
            .to_timestamp(dt)
            .expect("a time in Seoul")
            .as_microsecond()
    }

    fn cal() -> BusinessCalendar {
        BusinessCalendar::korea()
    }

    #[test]
    fn urgent_ticket_on_a_weekday_morning_is_due_two_hours_later() {
        let levels = Levels::start(seoul("2026-11-25T10:00"), policy(Priority::Urgent), &cal());
        assert_eq!(levels.first_response.due, Some(seoul("2026-11-25T12:00")));
        // One business day: the same time the next working day.
        assert_eq!(levels.resolution.due, Some(seoul("2026-11-26T10:00")));
        // At risk with under 20 % left: 24 minutes before the due time.
        assert_eq!(levels.first_response.risk, Some(seoul("2026-11-25T11:36")));
    }

    #[test]
    fn a_friday_evening_ticket_waits_for_monday() {
        // Friday 2026-11-27 17:30: 30 minutes left that day, 90 on Monday.
        let levels = Levels::start(seoul("2026-11-27T17:30"), policy(Priority::Urgent), &cal());
        assert_eq!(levels.first_response.due, Some(seoul("2026-11-30T10:30")));
    }

    #[test]
    fn a_ticket_across_midnight_counts_only_working_hours() {
        let levels = Levels::start(seoul("2026-11-24T23:50"), policy(Priority::High), &cal());
        assert_eq!(levels.first_response.due, Some(seoul("2026-11-25T13:00")));
    }

    #[test]
    fn holidays_do_not_count() {
        // Chuseok 2026: 24–26 September (Thu–Sat), substitute holiday none;
        // a ticket on Wednesday 23 September at 17:00 with 2 h is due on
        // Monday 28 September at 10:00.
        let levels = Levels::start(seoul("2026-09-23T17:00"), policy(Priority::Urgent), &cal());
        assert_eq!(levels.first_response.due, Some(seoul("2026-09-28T10:00")));
    }

    #[test]
    fn waiting_on_the_company_pauses_every_running_clock() {
        let c = cal();
        let mut levels = Levels::start(seoul("2026-11-25T10:00"), policy(Priority::Urgent), &c);
        levels.replied(seoul("2026-11-25T10:30"), &c);
        levels.pause(seoul("2026-11-25T11:00"), &c);
        assert_eq!(levels.resolution.due, None);
        assert_eq!(
            levels.resolution.state(seoul("2026-11-30T10:00")),
            Some(State::Paused)
        );
        // Waited over the weekend until Monday 14:00: 1 h had passed, so
        // 8 h are left from Monday 14:00: 4 h on Monday, 4 h on Tuesday.
        levels.resume(seoul("2026-11-30T14:00"), &c);
        assert_eq!(levels.resolution.due, Some(seoul("2026-12-01T13:00")));
        // The first response was met before the pause and stays met.
        assert_eq!(
            levels.first_response.state(seoul("2026-12-05T00:00")),
            Some(State::Met)
        );
    }

    #[test]
    fn states_follow_the_clock() {
        let c = cal();
        let levels = Levels::start(seoul("2026-11-25T10:00"), policy(Priority::Urgent), &c);
        let fr = &levels.first_response;
        assert_eq!(fr.state(seoul("2026-11-25T10:05")), Some(State::OnTrack));
        assert_eq!(fr.state(seoul("2026-11-25T11:40")), Some(State::AtRisk));
        assert_eq!(fr.state(seoul("2026-11-25T12:00")), Some(State::Breached));
        assert_eq!(levels.next_response.state(seoul("2026-11-25T12:00")), None);
    }

    #[test]
    fn a_late_reply_is_a_breach_and_an_early_one_is_met() {
        let c = cal();
        let mut late = Levels::start(seoul("2026-11-25T10:00"), policy(Priority::Urgent), &c);
        late.replied(seoul("2026-11-25T12:01"), &c);
        assert_eq!(
            late.first_response.state(seoul("2026-11-25T12:02")),
            Some(State::Breached)
        );
        let mut early = Levels::start(seoul("2026-11-25T10:00"), policy(Priority::Urgent), &c);
        early.replied(seoul("2026-11-25T11:59"), &c);
        assert_eq!(
            early.first_response.state(seoul("2026-12-25T12:02")),
            Some(State::Met)
        );
    }

    #[test]
    fn next_response_runs_from_the_companys_comment_to_the_reply() {
        let c = cal();
        let mut levels = Levels::start(seoul("2026-11-25T10:00"), policy(Priority::Urgent), &c);
        levels.replied(seoul("2026-11-25T10:10"), &c);
        levels.requester_commented(seoul("2026-11-25T17:00"), &c);
        // 1 h on Wednesday, 1 h on Thursday.
        assert_eq!(levels.next_response.due, Some(seoul("2026-11-26T10:00")));
        // A second comment before the reply does not restart it.
        levels.requester_commented(seoul("2026-11-25T17:30"), &c);
        assert_eq!(levels.next_response.due, Some(seoul("2026-11-26T10:00")));
        levels.replied(seoul("2026-11-26T09:30"), &c);
        assert_eq!(
            levels.next_response.state(seoul("2026-11-27T00:00")),
            Some(State::Met)
        );
    }

    #[test]
    fn a_new_priority_moves_the_due_times_from_the_same_start() {
        let c = cal();
        let mut levels = Levels::start(seoul("2026-11-25T10:00"), policy(Priority::Normal), &c);
        assert_eq!(levels.first_response.due, Some(seoul("2026-11-26T10:00")));
        levels.reprioritise(policy(Priority::Urgent), &c);
        assert_eq!(levels.first_response.due, Some(seoul("2026-11-25T12:00")));
    }

    #[test]
    fn a_reset_leaves_no_old_target_behind() {
        let c = cal();
        let mut levels = Levels::start(seoul("2026-11-25T10:00"), policy(Priority::Urgent), &c);
        levels.first_response.breach_recorded = true;
        levels.reset(seoul("2026-11-26T10:00"), &c);
        assert_eq!(levels.first_response.due, Some(seoul("2026-11-26T12:00")));
        assert_eq!(levels.resolution.due, Some(seoul("2026-11-27T10:00")));
        assert!(!levels.first_response.breach_recorded);
    }

    #[test]
    fn reopening_continues_the_resolution_clock() {
        let c = cal();
        let mut levels = Levels::start(seoul("2026-11-25T10:00"), policy(Priority::Urgent), &c);
        levels.resolved(seoul("2026-11-25T14:00"), &c);
        assert_eq!(
            levels.resolution.state(seoul("2026-11-30T00:00")),
            Some(State::Met)
        );
        levels.reopened(seoul("2026-11-26T10:00"), &c);
        // 4 h used, 5 h left from Thursday 10:00.
        assert_eq!(levels.resolution.due, Some(seoul("2026-11-26T15:00")));
    }
}
