//! The supplier's rules, with no I/O: Korean business registration
//! numbers, legal names, the record, its lifecycle and how a patch applies.

use gearshift_platform::Error;
use gearshift_platform::error::Reason as _;
use serde::{Deserialize, Serialize};

use super::profile::{self, Profile};
use crate::reason::Reason;

/// A Korean business registration number (사업자등록번호): ten digits, the
/// last a check digit. Stored as the bare digits, shown as `123-45-67890`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct BusinessNumber(String);

/// Weights of the first nine digits (National Tax Service rule).
const BRN_WEIGHTS: [u32; 9] = [1, 3, 7, 1, 3, 7, 1, 3, 5];

/// The check digit for nine ASCII digits.
fn check_digit(first_nine: &str) -> u8 {
    let d: Vec<u32> = first_nine.bytes().map(|b| (b - b'0') as u32).collect();
    let mut sum: u32 = d.iter().zip(BRN_WEIGHTS).map(|(d, w)| d * w).sum();
    // The ninth digit's product contributes its tens digit once more.
    sum += (d[8] * 5) / 10;
    ((10 - sum % 10) % 10) as u8
}

impl BusinessNumber {
    /// Accepts `1248100998` or `124-81-00998` (dashes only where they belong).
    pub fn parse(raw: &str) -> Result<Self, String> {
        let raw = raw.trim();
        if raw.is_empty() {
            return Err("is required".into());
        }
        let digits: String = if raw.contains('-') {
            let parts: Vec<&str> = raw.split('-').collect();
            if parts.len() != 3 || parts[0].len() != 3 || parts[1].len() != 2 || parts[2].len() != 5
            {
                return Err("must be 10 digits, written 1234567890 or 123-45-67890".into());
            }
            parts.concat()
        } else {
            raw.to_string()
        };
        if digits.len() != 10 || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err("must be 10 digits, written 1234567890 or 123-45-67890".into());
        }
        if check_digit(&digits[..9]) != digits.as_bytes()[9] - b'0' {
            return Err(
                "has a wrong check digit: this is not a valid business registration number".into(),
            );
        }
        Ok(Self(digits))
    }

    /// The valid number whose first nine digits are `first_nine` (for
    /// generating test and benchmark data).
    pub fn with_check_digit(first_nine: &str) -> Option<Self> {
        if first_nine.len() != 9 || !first_nine.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        Some(Self(format!("{first_nine}{}", check_digit(first_nine))))
    }

    /// The canonical form, `123-45-67890`.
    pub fn formatted(&self) -> String {
        format!("{}-{}-{}", &self.0[..3], &self.0[3..5], &self.0[5..])
    }

    /// The ten digits, as stored.
    pub fn digits(&self) -> &str {
        &self.0
    }

    /// From the stored digits (already validated when written).
    pub fn from_stored(digits: String) -> Self {
        Self(digits)
    }
}

pub const LEGAL_NAME_MAX_CHARS: usize = 200;

/// A legal name: trimmed, 1 to 200 characters, no control characters.
pub fn legal_name(raw: &str) -> Result<String, String> {
    let name = raw.trim();
    if name.is_empty() {
        return Err("is required".into());
    }
    if name.chars().count() > LEGAL_NAME_MAX_CHARS {
        return Err(format!("must be at most {LEGAL_NAME_MAX_CHARS} characters"));
    }
    if name.chars().any(char::is_control) {
        return Err("must not contain control characters".into());
    }
    Ok(name.to_string())
}

/// Lifecycle of a supplier record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Status {
    PendingVerification,
    Active,
    Suspended,
    Withdrawn,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::PendingVerification => "PENDING_VERIFICATION",
            Status::Active => "ACTIVE",
            Status::Suspended => "SUSPENDED",
            Status::Withdrawn => "WITHDRAWN",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "PENDING_VERIFICATION" => Status::PendingVerification,
            "ACTIVE" => Status::Active,
            "SUSPENDED" => Status::Suspended,
            "WITHDRAWN" => Status::Withdrawn,
            _ => return None,
        })
    }
}

/// A lifecycle transition a caller asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Verify,
    Suspend,
    Reinstate,
    Withdraw,
}

impl Action {
    pub const ALL: [Action; 4] = [
        Action::Verify,
        Action::Suspend,
        Action::Reinstate,
        Action::Withdraw,
    ];

    pub fn verb(self) -> &'static str {
        match self {
            Action::Verify => "verify",
            Action::Suspend => "suspend",
            Action::Reinstate => "reinstate",
            Action::Withdraw => "withdraw",
        }
    }

    /// The event type recorded for this transition.
    pub fn event_type(self) -> &'static str {
        match self {
            Action::Verify => "supplier.verified",
            Action::Suspend => "supplier.suspended",
            Action::Reinstate => "supplier.reinstated",
            Action::Withdraw => "supplier.withdrawn",
        }
    }

    /// The status this action leads to from `from`, if it is allowed there.
    pub fn target(self, from: Status) -> Option<Status> {
        use Status::*;
        match (self, from) {
            (Action::Verify, PendingVerification) => Some(Active),
            (Action::Suspend, Active) => Some(Suspended),
            (Action::Reinstate, Suspended) => Some(Active),
            (Action::Withdraw, PendingVerification | Active | Suspended) => Some(Withdrawn),
            _ => None,
        }
    }
}

/// The status after `action`, or FAILED_PRECONDITION naming what is allowed.
pub fn transition(from: Status, action: Action) -> Result<Status, Error> {
    action.target(from).ok_or_else(|| {
        let allowed: Vec<String> = Action::ALL
            .iter()
            .filter(|a| a.target(from).is_some())
            .map(|a| a.verb().to_string())
            .collect();
        let options = if allowed.is_empty() {
            "nothing: the record is read-only".to_string()
        } else {
            allowed.join(", ")
        };
        Error::FailedPrecondition {
            reason: Reason::InvalidTransition.as_str(),
            message: format!(
                "cannot {} a supplier that is {}; from {} you may: {options}",
                action.verb(),
                from.as_str(),
                from.as_str()
            ),
            subject: "status".into(),
            allowed,
        }
    })
}

/// A withdrawn record is kept as it was: no further changes.
pub fn ensure_editable(s: &Supplier) -> Result<(), Error> {
    if s.status == Status::Withdrawn {
        Err(Error::FailedPrecondition {
            reason: Reason::SupplierWithdrawn.as_str(),
            message: format!("supplier {} has withdrawn; its record is read-only", s.id),
            subject: "status".into(),
            allowed: Vec::new(),
        })
    } else {
        Ok(())
    }
}

pub const REASON_MAX_CHARS: usize = 1000;

/// A transition's reason: trimmed, bounded; required for a suspension.
pub fn reason(action: Action, raw: &str) -> Result<String, String> {
    let reason = raw.trim();
    if action == Action::Suspend && reason.is_empty() {
        return Err("is required to suspend a supplier".into());
    }
    if reason.chars().count() > REASON_MAX_CHARS {
        return Err(format!("must be at most {REASON_MAX_CHARS} characters"));
    }
    Ok(reason.to_string())
}

/// A supplier as stored, and as snapshotted into audit events.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Supplier {
    pub id: String,
    pub business_number: BusinessNumber,
    pub legal_name: String,
    pub status: Status,
    #[serde(default)]
    pub status_reason: String,
    pub create_time: i64,
    pub update_time: i64,
    pub revision: i64,
    #[serde(flatten, default)]
    pub profile: Profile,
    /// Changed only through stage changes.
    #[serde(default)]
    pub stage: crate::stage_change::rules::Stage,
}

/// Fields a client may name in an update mask, as (snake, camel) pairs.
pub const UPDATABLE: &[(&str, &str)] = &[
    ("legal_name", "legalName"),
    ("business_number", "businessNumber"),
];

/// Fields a client may read but never set.
pub const OUTPUT_ONLY: &[(&str, &str)] = &[
    ("id", "id"),
    ("status", "status"),
    ("status_reason", "statusReason"),
    ("create_time", "createTime"),
    ("update_time", "updateTime"),
    ("etag", "etag"),
    ("stage", "stage"),
];

/// A validated change to a supplier.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Patch {
    pub legal_name: Option<String>,
    pub business_number: Option<BusinessNumber>,
    /// New values of the profile fields named in `profile_fields`.
    pub profile: Profile,
    /// lowerCamelCase names of the profile fields to change.
    pub profile_fields: Vec<&'static str>,
}

impl Patch {
    /// Applies the patch and names the fields whose value changed.
    pub fn apply(&self, supplier: &mut Supplier) -> Vec<String> {
        let mut changed = Vec::new();
        if let Some(name) = &self.legal_name
            && *name != supplier.legal_name
        {
            supplier.legal_name = name.clone();
            changed.push("legalName".to_string());
        }
        if let Some(number) = &self.business_number
            && *number != supplier.business_number
        {
            supplier.business_number = number.clone();
            changed.push("businessNumber".to_string());
        }
        changed.extend(profile::apply(
            &mut supplier.profile,
            &self.profile,
            &self.profile_fields,
        ));
        changed
    }
}

#[cfg(test)]
mod tests {
    use gearshift_platform::{Principal, Role};

    use super::*;
    use crate::supplier::access;

    /// Published numbers of well-known companies, which satisfy the rule.
    const REAL: &[&str] = &[
        "124-81-00998", // Samsung Electronics
        "119-81-02316", // Kia
        "107-86-14075", // LG Electronics
        "220-81-62517", // NAVER
        "120-81-47521", // Kakao
    ];

    #[test]
    fn real_business_numbers_pass_in_both_notations() {
        for n in REAL {
            let parsed = BusinessNumber::parse(n).unwrap_or_else(|e| panic!("{n}: {e}"));
            assert_eq!(parsed.formatted(), *n);
            let bare = n.replace('-', "");
            assert_eq!(BusinessNumber::parse(&bare).unwrap(), parsed);
        }
    }

    #[test]
    fn changing_any_single_digit_is_caught() {
        for n in REAL {
            let digits: Vec<u8> = n.replace('-', "").into_bytes();
            for pos in 0..10 {
                for delta in 1..10u8 {
                    let mut changed = digits.clone();
                    changed[pos] = b'0' + (changed[pos] - b'0' + delta) % 10;
                    let s = String::from_utf8(changed).unwrap();
                    assert!(BusinessNumber::parse(&s).is_err(), "{s} (from {n}) passed");
                }
            }
        }
    }

    #[test]
    fn generated_numbers_complete_real_ones() {
        for n in REAL {
            let digits = n.replace('-', "");
            let made = BusinessNumber::with_check_digit(&digits[..9]).unwrap();
            assert_eq!(made.formatted(), *n);
        }
        assert!(BusinessNumber::with_check_digit("12345678").is_none());
        assert!(BusinessNumber::with_check_digit("12345678x").is_none());
    }

    #[test]
    fn malformed_business_numbers_say_why() {
        for (raw, why) in [
            ("", "required"),
            ("12481009", "10 digits"),
            ("12-481-00998", "10 digits"),
            ("124-81-0099a", "10 digits"),
            ("124 81 00998", "10 digits"),
            ("１２４８１００９９８", "10 digits"),
            ("1248100999", "check digit"),
        ] {
            let err = BusinessNumber::parse(raw).unwrap_err();
            assert!(err.contains(why), "{raw:?}: {err}");
        }
    }

    #[test]
    fn legal_names_are_trimmed_and_bounded() {
        assert_eq!(legal_name("  (주)광주부품  ").unwrap(), "(주)광주부품");
        assert!(legal_name("   ").is_err());
        assert!(legal_name(&"가".repeat(200)).is_ok());
        assert!(legal_name(&"가".repeat(201)).is_err());
        assert!(legal_name("a\u{0}b").is_err());
    }

    fn principal(role: Role) -> Principal {
        Principal {
            subject: "key_test".into(),
            role,
        }
    }

    #[test]
    fn a_company_reads_and_updates_only_itself() {
        let me = gearshift_platform::ids::new_id("sup");
        let other = gearshift_platform::ids::new_id("sup");
        let p = principal(Role::Supplier(me.clone()));
        assert!(access::read(&p, &me).is_ok());
        assert!(matches!(
            access::read(&p, &other),
            Err(Error::NotFound { .. })
        ));
        let rename = Patch {
            legal_name: Some("x".into()),
            ..Patch::default()
        };
        assert!(access::update(&p, &me, &rename).is_ok());
        assert!(matches!(
            access::update(&p, &other, &rename),
            Err(Error::NotFound { .. })
        ));
        let renumber = Patch {
            business_number: Some(BusinessNumber::parse("124-81-00998").unwrap()),
            ..Patch::default()
        };
        assert!(matches!(
            access::update(&p, &me, &renumber),
            Err(Error::PermissionDenied(_))
        ));
        assert!(access::create(&p).is_err());
        assert!(access::read_events(&p).is_err());
        assert_eq!(access::list_scope(&p), Some(me.as_str()));
    }

    #[test]
    fn lifecycle_allows_only_the_documented_transitions() {
        use Action::*;
        use Status::*;
        let table = [
            (PendingVerification, Verify, Some(Active)),
            (PendingVerification, Suspend, None),
            (PendingVerification, Reinstate, None),
            (PendingVerification, Withdraw, Some(Withdrawn)),
            (Active, Verify, None),
            (Active, Suspend, Some(Suspended)),
            (Active, Reinstate, None),
            (Active, Withdraw, Some(Withdrawn)),
            (Suspended, Verify, None),
            (Suspended, Suspend, None),
            (Suspended, Reinstate, Some(Active)),
            (Suspended, Withdraw, Some(Withdrawn)),
            (Withdrawn, Verify, None),
            (Withdrawn, Suspend, None),
            (Withdrawn, Reinstate, None),
            (Withdrawn, Withdraw, None),
        ];
        for (from, action, to) in table {
            assert_eq!(
                transition(from, action).ok(),
                to,
                "{from:?} --{action:?}-->"
            );
        }
        match transition(Active, Verify) {
            Err(Error::FailedPrecondition {
                allowed, message, ..
            }) => {
                assert_eq!(allowed, ["suspend", "withdraw"]);
                assert!(
                    message.contains("cannot verify a supplier that is ACTIVE"),
                    "{message}"
                );
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_suspension_needs_a_reason() {
        assert!(reason(Action::Suspend, "  ").is_err());
        assert_eq!(
            reason(Action::Suspend, " 서류 미제출 ").unwrap(),
            "서류 미제출"
        );
        assert_eq!(reason(Action::Verify, "").unwrap(), "");
        assert!(reason(Action::Verify, &"x".repeat(1001)).is_err());
    }

    #[test]
    fn a_company_may_withdraw_itself_and_nothing_else() {
        let me = gearshift_platform::ids::new_id("sup");
        let p = principal(Role::Supplier(me.clone()));
        assert!(access::transition(&p, &me, Action::Withdraw).is_ok());
        for action in [Action::Verify, Action::Suspend, Action::Reinstate] {
            assert!(matches!(
                access::transition(&p, &me, action),
                Err(Error::PermissionDenied(_))
            ));
        }
        let other = gearshift_platform::ids::new_id("sup");
        assert!(matches!(
            access::transition(&p, &other, Action::Withdraw),
            Err(Error::NotFound { .. })
        ));
        let institute = principal(Role::Institute("KATECH".into()));
        assert!(access::transition(&institute, &me, Action::Verify).is_err());
    }

    #[test]
    fn institutes_and_reviewers_read_but_do_not_write() {
        for role in [Role::Institute("KATECH".into()), Role::Reviewer] {
            let p = principal(role);
            assert!(access::read(&p, "sup_x").is_ok());
            assert!(matches!(
                access::update(&p, "sup_x", &Patch::default()),
                Err(Error::PermissionDenied(_))
            ));
            assert!(access::create(&p).is_err());
            assert!(access::read_events(&p).is_err());
            assert_eq!(access::list_scope(&p), None);
        }
    }
}
