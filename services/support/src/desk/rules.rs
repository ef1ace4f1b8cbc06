//! A desk and who gets the next ticket, with no I/O.

use std::collections::HashMap;

use gearshift_platform::calendar::BusinessCalendar;
use serde::{Deserialize, Serialize};

pub const MAX_PEOPLE: usize = 200;

/// Someone at an institute who takes tickets.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Person {
    pub id: String,
    pub name: String,
    pub active: bool,
}

/// An institute's desk. A desk nobody set up assigns automatically but has
/// nobody to assign to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Desk {
    pub institute: String,
    pub auto_assign: bool,
    pub business_hours: String,
    pub people: Vec<Person>,
    pub last_person: String,
    pub update_time: i64,
    /// 0 for a desk not yet stored.
    pub revision: i64,
}

impl Desk {
    pub fn new(institute: &str) -> Desk {
        Desk {
            institute: institute.to_string(),
            auto_assign: true,
            business_hours: String::new(),
            people: Vec::new(),
            last_person: String::new(),
            update_time: 0,
            revision: 0,
        }
    }

    /// The calendar its tickets' service levels count in.
    pub fn calendar(&self, platform: &BusinessCalendar) -> BusinessCalendar {
        if self.business_hours.is_empty() {
            return platform.clone();
        }
        platform
            .with_hours(&self.business_hours)
            .unwrap_or_else(|_| platform.clone())
    }

    /// Whether `person` may hold one of its tickets: anyone when the desk
    /// lists nobody, else one of its people.
    pub fn knows(&self, person: &str) -> bool {
        self.people.is_empty() || self.people.iter().any(|p| p.id == person)
    }

    /// Who gets the next ticket: the active person with the fewest open
    /// tickets; among equals, the first after the last one given a ticket
    /// (in the desk's order), so equals take turns.
    pub fn pick(&self, open: &HashMap<String, i64>) -> Option<String> {
        if !self.auto_assign {
            return None;
        }
        let active: Vec<&Person> = self.people.iter().filter(|p| p.active).collect();
        let fewest = active
            .iter()
            .map(|p| open.get(&p.id).copied().unwrap_or(0))
            .min()?;
        let start = active
            .iter()
            .position(|p| p.id == self.last_person)
            .map_or(0, |i| i + 1);
        (0..active.len())
            .map(|k| active[(start + k) % active.len()])
            .find(|p| open.get(&p.id).copied().unwrap_or(0) == fewest)
            .map(|p| p.id.clone())
    }
}

/// A staff id: 1 to 40 of `a-z`, `0-9`, `.`, `_`, `-`.
pub fn person_id(raw: &str) -> Result<String, String> {
    let t = raw.trim();
    if (1..=40).contains(&t.len())
        && t.bytes().all(|b| {
            b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'.' | b'_' | b'-')
        })
    {
        Ok(t.to_string())
    } else {
        Err("must be a staff id: 1 to 40 of a-z, 0-9, '.', '_', '-'".into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn desk(ids: &[&str]) -> Desk {
        let mut d = Desk::new("KETI");
        d.people = ids
            .iter()
            .map(|id| Person {
                id: id.to_string(),
                name: id.to_uppercase(),
                active: true,
            })
            .collect();
        d
    }

    fn counts(pairs: &[(&str, i64)]) -> HashMap<String, i64> {
        pairs.iter().map(|(k, v)| (k.to_string(), *v)).collect()
    }

    #[test]
    fn the_person_with_the_fewest_open_tickets_gets_the_next() {
        let d = desk(&["kim", "lee", "park"]);
        assert_eq!(
            d.pick(&counts(&[("kim", 3), ("lee", 1), ("park", 2)])),
            Some("lee".into())
        );
    }

    #[test]
    fn equals_take_turns() {
        let mut d = desk(&["kim", "lee", "park"]);
        let mut given = Vec::new();
        for _ in 0..4 {
            let next = d.pick(&HashMap::new()).expect("someone");
            d.last_person = next.clone();
            given.push(next);
        }
        assert_eq!(given, ["kim", "lee", "park", "kim"]);
    }

    #[test]
    fn inactive_people_and_switched_off_desks_get_nothing() {
        let mut d = desk(&["kim", "lee"]);
        d.people[0].active = false;
        assert_eq!(d.pick(&counts(&[("lee", 9)])), Some("lee".into()));
        d.auto_assign = false;
        assert_eq!(d.pick(&HashMap::new()), None);
        assert_eq!(desk(&[]).pick(&HashMap::new()), None);
    }

    #[test]
    fn staff_ids_are_checked() {
        assert!(person_id("ms.kim-2").is_ok());
        assert!(person_id("Kim").is_err());
        assert!(person_id("").is_err());
    }

    #[test]
    fn a_desk_counts_in_its_own_hours() {
        let platform = BusinessCalendar::korea();
        let mut d = desk(&[]);
        d.business_hours = "Mon-Fri 08:00-17:00".into();
        let start: jiff::Timestamp = "2026-11-25T07:30:00Z".parse().expect("time"); // 16:30 KST
        let due = d
            .calendar(&platform)
            .add(start, jiff::SignedDuration::from_hours(1))
            .expect("due");
        // 30 minutes on Wednesday, 30 from 08:00 on Thursday.
        assert_eq!(
            due,
            "2026-11-25T23:30:00Z"
                .parse::<jiff::Timestamp>()
                .expect("time")
        );
    }
}
