//! Tickets and their status machine, with no I/O.
//!
//! NEW → TRIAGED → ASSIGNED → IN_PROGRESS ⇄ WAITING_ON_REQUESTER →
//! RESOLVED → CLOSED; RESOLVED → IN_PROGRESS when reopened in time;
//! CANCELLED from any status before RESOLVED. Each move is a verb, and a
//! verb refused names the statuses it is allowed from.

use gearshift_platform::Error;
use serde::{Deserialize, Serialize};

use super::sla::Levels;
use crate::reason::Reason;
use gearshift_platform::error::Reason as _;

pub const SUBJECT_MAX_CHARS: usize = 200;
pub const DESCRIPTION_MAX_CHARS: usize = 20_000;
pub const NOTE_MAX_CHARS: usize = 5_000;
pub const REASON_MAX_CHARS: usize = 1_000;
pub const NAME_MAX_CHARS: usize = 100;
pub const EMAIL_MAX_CHARS: usize = 200;
pub const PHONE_MAX_CHARS: usize = 30;
pub const TAG_MAX_CHARS: usize = 40;
pub const MAX_TAGS: usize = 20;

macro_rules! names {
    ($(#[$meta:meta])* pub enum $name:ident { $($variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
        pub enum $name { $(#[serde(rename = $text)] $variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The name on the wire and in storage (the proto enum's).
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }

            pub fn parse(s: &str) -> Option<Self> {
                Self::ALL.iter().copied().find(|x| x.as_str() == s)
            }
        }
    };
}

names! {
    /// What a request is about.
    pub enum Category {
        PartsConsulting = "PARTS_CONSULTING",
        TechnologyDevelopment = "TECHNOLOGY_DEVELOPMENT",
        OemSupply = "OEM_SUPPLY",
        InfrastructureAccess = "INFRASTRUCTURE_ACCESS",
        BusinessRestructuring = "BUSINESS_RESTRUCTURING",
        FinancingGuidance = "FINANCING_GUIDANCE",
        Certification = "CERTIFICATION",
        Training = "TRAINING",
        CrisisResponse = "CRISIS_RESPONSE",
        GreenCarProgramme = "GREEN_CAR_PROGRAMME",
        Other = "OTHER_CATEGORY",
    }
}

names! {
    pub enum Priority {
        Low = "LOW",
        Normal = "NORMAL",
        High = "HIGH",
        Urgent = "URGENT",
    }
}

names! {
    pub enum Channel {
        Portal = "PORTAL",
        Phone = "PHONE",
        Email = "EMAIL",
        Visit = "VISIT",
    }
}

names! {
    pub enum Status {
        New = "NEW",
        Triaged = "TRIAGED",
        Assigned = "ASSIGNED",
        InProgress = "IN_PROGRESS",
        WaitingOnRequester = "WAITING_ON_REQUESTER",
        Resolved = "RESOLVED",
        Closed = "CLOSED",
        Cancelled = "CANCELLED",
    }
}

impl Status {
    /// Not yet resolved, closed or cancelled: the centre still owes work.
    pub fn is_open(self) -> bool {
        !matches!(self, Status::Resolved | Status::Closed | Status::Cancelled)
    }

    /// The statuses counted as open, for queries.
    pub fn open() -> impl Iterator<Item = Status> {
        Status::ALL.iter().copied().filter(|s| s.is_open())
    }
}

/// The verbs that move a ticket, each allowed from some statuses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verb {
    Triage,
    Assign,
    Start,
    WaitOnRequester,
    Resolve,
    Reopen,
    Close,
    Cancel,
    Merge,
}

impl Verb {
    pub const ALL: [Verb; 9] = [
        Verb::Triage,
        Verb::Assign,
        Verb::Start,
        Verb::WaitOnRequester,
        Verb::Resolve,
        Verb::Reopen,
        Verb::Close,
        Verb::Cancel,
        Verb::Merge,
    ];

    /// As in the URL: `:waitOnRequester`.
    pub fn name(self) -> &'static str {
        match self {
            Verb::Triage => "triage",
            Verb::Assign => "assign",
            Verb::Start => "start",
            Verb::WaitOnRequester => "waitOnRequester",
            Verb::Resolve => "resolve",
            Verb::Reopen => "reopen",
            Verb::Close => "close",
            Verb::Cancel => "cancel",
            Verb::Merge => "merge",
        }
    }

    /// The statuses this verb is allowed from.
    pub fn sources(self) -> &'static [Status] {
        use Status::*;
        match self {
            Verb::Merge => &[New, Triaged, Assigned, InProgress, WaitingOnRequester],
            Verb::Triage => &[New],
            Verb::Assign => &[New, Triaged, Assigned, InProgress, WaitingOnRequester],
            Verb::Start => &[Assigned, WaitingOnRequester],
            Verb::WaitOnRequester => &[InProgress],
            Verb::Resolve => &[InProgress, WaitingOnRequester],
            Verb::Reopen => &[Resolved],
            Verb::Close => &[Resolved],
            Verb::Cancel => &[New, Triaged, Assigned, InProgress, WaitingOnRequester],
        }
    }
}

/// Refuses `verb` from `from`, naming the statuses it is allowed from and
/// the verbs allowed from `from`.
pub fn check_move(verb: Verb, from: Status) -> Result<(), Error> {
    if verb.sources().contains(&from) {
        return Ok(());
    }
    let sources: Vec<&str> = verb.sources().iter().map(|s| s.as_str()).collect();
    let allowed: Vec<String> = Verb::ALL
        .iter()
        .filter(|v| v.sources().contains(&from))
        .map(|v| v.name().to_string())
        .collect();
    let options = if allowed.is_empty() {
        "nothing: the ticket is finished".to_string()
    } else {
        allowed.join(", ")
    };
    Err(Error::FailedPrecondition {
        reason: Reason::InvalidTransition.as_str(),
        message: format!(
            "cannot {} a ticket that is {}: only one that is {}; from {} you may: {options}",
            verb.name(),
            from.as_str(),
            sources.join(" or "),
            from.as_str(),
        ),
        subject: "status".into(),
        allowed,
    })
}

/// Who at the company asked.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Requester {
    pub name: String,
    pub email: String,
    pub phone: String,
}

/// A ticket as the service keeps it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Ticket {
    pub id: String,
    pub number: String,
    pub supplier_id: String,
    pub requester: Requester,
    pub category: Category,
    /// The registry's parts group name, empty when not given.
    pub parts_group: String,
    pub subject: String,
    pub description: String,
    pub priority: Priority,
    pub tags: Vec<String>,
    pub channel: Channel,
    pub institute: String,
    pub person: String,
    pub status: Status,
    pub create_time: i64,
    pub update_time: i64,
    pub revision: i64,
    pub levels: Levels,
    pub resolution: String,
    pub resolve_time: Option<i64>,
    pub close_time: Option<i64>,
    pub cancel_reason: String,
    pub reroute_count: i32,
    /// The company's rating, once given.
    pub satisfaction: Option<Satisfaction>,
    /// The ticket this one was merged into.
    pub merged_into: String,
    /// `2026-11`: the month of creation in Asia/Seoul.
    pub month: String,
}

/// How the company rated the handling of its request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Satisfaction {
    pub rating: i32,
    pub comment: String,
    pub rate_time: i64,
}

pub const RATING_COMMENT_MAX_CHARS: usize = 2_000;

/// A rating: after resolution, by the company, once.
pub fn check_rating(ticket: &Ticket, rating: i32) -> Result<(), Error> {
    if !(1..=5).contains(&rating) {
        return Err(Error::invalid(
            "rating",
            "must be 1 (poor) to 5 (excellent)",
        ));
    }
    if !matches!(ticket.status, Status::Resolved | Status::Closed) || !ticket.merged_into.is_empty()
    {
        return Err(Error::precondition(
            Reason::NotResolved,
            "status",
            format!(
                "only a resolved or closed ticket can be rated; this one is {}",
                ticket.status.as_str()
            ),
        ));
    }
    if ticket.satisfaction.is_some() {
        return Err(Error::precondition(
            Reason::AlreadyRated,
            "satisfaction",
            "the ticket was already rated; a rating is given once",
        ));
    }
    Ok(())
}

/// A merge: two different open tickets of the same company.
pub fn check_merge(source: &Ticket, target: &Ticket) -> Result<(), Error> {
    if source.id == target.id {
        return Err(Error::invalid("intoTicketId", "must be another ticket"));
    }
    if source.supplier_id != target.supplier_id {
        return Err(Error::invalid(
            "intoTicketId",
            "must be a ticket of the same company",
        ));
    }
    if !target.status.is_open() {
        return Err(Error::precondition(
            Reason::InvalidTransition,
            "intoTicketId",
            format!(
                "ticket {} is {} and cannot take a merge; merge into an open ticket",
                target.number,
                target.status.as_str()
            ),
        ));
    }
    Ok(())
}

/// What a new ticket says, checked.
#[derive(Debug, Clone)]
pub struct Draft {
    pub supplier_id: String,
    pub requester: Requester,
    pub category: Category,
    pub parts_group: String,
    pub subject: String,
    pub description: String,
    pub priority: Priority,
    pub tags: Vec<String>,
    pub channel: Channel,
}

/// Trimmed text of at most `max` characters with no control characters
/// (new lines allowed when `multiline`).
pub fn text(raw: &str, max: usize, multiline: bool) -> Result<String, String> {
    let t = raw.trim();
    if t.chars().count() > max {
        return Err(format!("must be at most {max} characters"));
    }
    if t.chars()
        .any(|c| c.is_control() && !(multiline && matches!(c, '\n' | '\r' | '\t')))
    {
        return Err("must not contain control characters".into());
    }
    Ok(t.to_string())
}

/// Like [`text`], and not empty.
pub fn required(raw: &str, max: usize, multiline: bool) -> Result<String, String> {
    match text(raw, max, multiline)? {
        t if t.is_empty() => Err("is required".into()),
        t => Ok(t),
    }
}

/// An email address: one `@` with something on both sides, no spaces.
pub fn email(raw: &str) -> Result<String, String> {
    let t = text(raw, EMAIL_MAX_CHARS, false)?;
    if t.is_empty() {
        return Ok(t);
    }
    match t.split_once('@') {
        Some((local, domain))
            if !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !t.chars().any(char::is_whitespace)
                && !domain.contains('@') =>
        {
            Ok(t)
        }
        _ => Err("must be an email address like name@example.kr".into()),
    }
}

/// A phone number: digits, spaces, `+`, `-`, parentheses.
pub fn phone(raw: &str) -> Result<String, String> {
    let t = text(raw, PHONE_MAX_CHARS, false)?;
    if t.chars()
        .all(|c| c.is_ascii_digit() || matches!(c, ' ' | '+' | '-' | '(' | ')'))
    {
        Ok(t)
    } else {
        Err("must be a phone number: digits, spaces, +, - and parentheses".into())
    }
}

/// Tags: 1 to 40 characters of letters, digits, `-` or `_`, at most 20,
/// duplicates dropped, order kept.
pub fn tags(raw: &[String]) -> Result<Vec<String>, String> {
    if raw.len() > MAX_TAGS {
        return Err(format!("must be at most {MAX_TAGS} tags"));
    }
    let mut out: Vec<String> = Vec::new();
    for tag in raw {
        let t = tag.trim();
        if t.is_empty()
            || t.chars().count() > TAG_MAX_CHARS
            || !t
                .chars()
                .all(|c| c.is_alphanumeric() || c == '-' || c == '_')
        {
            return Err(format!(
                "{t:?} is not a tag: 1 to {TAG_MAX_CHARS} letters, digits, - or _"
            ));
        }
        if !out.iter().any(|o| o == t) {
            out.push(t.to_string());
        }
    }
    Ok(out)
}

pub use gearshift_platform::check::institute_code;

/// Whether a resolved ticket may still be reopened at `now`.
pub fn check_reopen(ticket: &Ticket, now: i64, reopen_days: u32) -> Result<(), Error> {
    let resolved = ticket.resolve_time.unwrap_or(ticket.update_time);
    let window = i64::from(reopen_days) * 24 * 3600 * 1_000_000;
    if now - resolved > window {
        return Err(Error::precondition(
            Reason::ReopenPeriodOver,
            "resolveTime",
            format!(
                "the ticket was resolved more than {reopen_days} days ago and can no longer be \
                 reopened; open a new ticket"
            ),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_verb_is_allowed_only_from_its_sources() {
        let expected: &[(Verb, &[Status])] = &[
            (Verb::Triage, &[Status::New]),
            (Verb::Start, &[Status::Assigned, Status::WaitingOnRequester]),
            (Verb::WaitOnRequester, &[Status::InProgress]),
            (
                Verb::Resolve,
                &[Status::InProgress, Status::WaitingOnRequester],
            ),
            (Verb::Reopen, &[Status::Resolved]),
            (Verb::Close, &[Status::Resolved]),
        ];
        for (verb, sources) in expected {
            for status in Status::ALL {
                assert_eq!(
                    check_move(*verb, *status).is_ok(),
                    sources.contains(status),
                    "{} from {}",
                    verb.name(),
                    status.as_str()
                );
            }
        }
        for status in Status::ALL {
            assert_eq!(check_move(Verb::Cancel, *status).is_ok(), status.is_open());
        }
    }

    #[test]
    fn a_refused_move_names_the_allowed_sources_and_verbs() {
        let Err(Error::FailedPrecondition {
            reason,
            message,
            allowed,
            ..
        }) = check_move(Verb::Resolve, Status::Assigned)
        else {
            panic!("resolve from ASSIGNED must be refused");
        };
        assert_eq!(reason, "INVALID_TRANSITION");
        assert!(
            message.contains("IN_PROGRESS or WAITING_ON_REQUESTER"),
            "{message}"
        );
        assert_eq!(allowed, ["assign", "start", "cancel", "merge"]);
        let Err(Error::FailedPrecondition { message, .. }) =
            check_move(Verb::Start, Status::Closed)
        else {
            panic!("start from CLOSED must be refused");
        };
        assert!(message.contains("the ticket is finished"), "{message}");
    }

    #[test]
    fn contact_details_are_checked() {
        assert!(email("kim@example.kr").is_ok());
        assert!(email("").is_ok());
        for bad in [
            "kim",
            "kim@",
            "@example.kr",
            "kim@example",
            "k im@example.kr",
        ] {
            assert!(email(bad).is_err(), "{bad}");
        }
        assert!(phone("+82 62-123-4567").is_ok());
        assert!(phone("call me").is_err());
    }

    #[test]
    fn tags_are_deduplicated_and_bounded() {
        let t = tags(&["battery".into(), "urgent-fix".into(), "battery".into()]);
        assert_eq!(t, Ok(vec!["battery".to_string(), "urgent-fix".to_string()]));
        assert!(tags(&["has space".into()]).is_err());
        assert!(tags(&vec!["a".to_string(); 21]).is_err());
    }

    #[test]
    fn text_limits_hold() {
        assert_eq!(required("  ", 10, false), Err("is required".into()));
        assert!(text(&"가".repeat(201), SUBJECT_MAX_CHARS, false).is_err());
        assert!(text("line\nbreak", 100, true).is_ok());
        assert!(text("line\nbreak", 100, false).is_err());
    }
}
