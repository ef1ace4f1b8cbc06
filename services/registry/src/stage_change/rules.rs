//! The transition ladder and the rules for moving on it, with no I/O.
//!
//! A stage change is its own record: from, to, evidence, who and when. An
//! operator's change is in effect at once (CONFIRMED); a company's is a
//! proposal (PROPOSED) until an operator confirms or rejects it. The content
//! of a change is never edited; only a proposal's state moves on, once.

use crate::reason::Reason;
use gearshift_platform::error::Reason as _;
use gearshift_platform::{Error, Principal, Role};
use serde::{Deserialize, Serialize};

use crate::supplier::profile::text;

/// The programme's ladder, lowest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, Default)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Stage {
    #[default]
    IceDependent,
    Exploring,
    Planning,
    Converting,
    FutureCarSupplier,
}

impl Stage {
    pub const ALL: [Stage; 5] = [
        Stage::IceDependent,
        Stage::Exploring,
        Stage::Planning,
        Stage::Converting,
        Stage::FutureCarSupplier,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Stage::IceDependent => "ICE_DEPENDENT",
            Stage::Exploring => "EXPLORING",
            Stage::Planning => "PLANNING",
            Stage::Converting => "CONVERTING",
            Stage::FutureCarSupplier => "FUTURE_CAR_SUPPLIER",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|x| x.as_str() == s)
    }

    /// 1 (ICE_DEPENDENT) to 5 (FUTURE_CAR_SUPPLIER), as stored for sorting
    /// and "at least" comparisons.
    pub fn rank(self) -> i64 {
        self as i64 + 1
    }
}

/// Where a stage change stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum State {
    Proposed,
    Confirmed,
    Rejected,
}

impl State {
    pub fn as_str(self) -> &'static str {
        match self {
            State::Proposed => "PROPOSED",
            State::Confirmed => "CONFIRMED",
            State::Rejected => "REJECTED",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [State::Proposed, State::Confirmed, State::Rejected]
            .into_iter()
            .find(|x| x.as_str() == s)
    }
}

/// A stage change as stored, and as carried in audit events.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StageChange {
    pub id: String,
    pub supplier_id: String,
    pub from_stage: Stage,
    pub to_stage: Stage,
    pub evidence: String,
    pub evidence_documents: Vec<String>,
    pub reason: String,
    pub state: State,
    pub recorded_by: String,
    pub recorded_by_role: String,
    pub create_time: i64,
    pub decided_by: String,
    pub decide_time: Option<i64>,
    pub decision_note: String,
}

pub const EVIDENCE_MAX_CHARS: usize = 2000;
pub const DOCUMENTS_MAX: usize = 20;
pub const DOCUMENT_MAX_CHARS: usize = 500;
pub const NOTE_MAX_CHARS: usize = 1000;

/// What a caller asks to record, validated field by field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    pub to_stage: Stage,
    pub evidence: String,
    pub evidence_documents: Vec<String>,
    pub reason: String,
}

/// Checks the request's fields; violations name `stageChange.<field>`.
pub fn validate(
    to_stage: Option<Stage>,
    evidence: &str,
    documents: &[String],
    reason: &str,
) -> Result<Request, Error> {
    let mut v = gearshift_platform::error::Violations::new();
    if to_stage.is_none() {
        v.add(
            "stageChange.toStage",
            "is required: one of the ladder's stages",
        );
    }
    let evidence = v
        .check("stageChange.evidence", text(evidence, EVIDENCE_MAX_CHARS))
        .unwrap_or_default();
    if documents.len() > DOCUMENTS_MAX {
        v.add(
            "stageChange.evidenceDocuments",
            format!("at most {DOCUMENTS_MAX} documents"),
        );
    }
    let mut docs = Vec::new();
    for (i, d) in documents.iter().enumerate() {
        match text(d, DOCUMENT_MAX_CHARS) {
            Ok(d) if d.is_empty() => v.add(
                format!("stageChange.evidenceDocuments[{i}]"),
                "must not be empty",
            ),
            Ok(d) if d.contains(char::is_whitespace) => v.add(
                format!("stageChange.evidenceDocuments[{i}]"),
                "must be a document id or address, without spaces",
            ),
            Ok(d) => docs.push(d),
            Err(e) => v.add(format!("stageChange.evidenceDocuments[{i}]"), e),
        }
    }
    let reason = v
        .check("stageChange.reason", text(reason, NOTE_MAX_CHARS))
        .unwrap_or_default();
    v.into_result()?;
    Ok(Request {
        to_stage: to_stage.unwrap_or_default(),
        evidence,
        evidence_documents: docs,
        reason,
    })
}

/// The state a new change starts in, when `p` records `req` on a supplier
/// at stage `from`; or why it is refused.
pub fn decide(
    p: &Principal,
    supplier_id: &str,
    from: Stage,
    req: &Request,
) -> Result<State, Error> {
    if req.to_stage == from {
        return Err(Error::invalid(
            "stageChange.toStage",
            format!("the supplier is already {}", from.as_str()),
        ));
    }
    let one_step_up = req.to_stage.rank() == from.rank() + 1;
    match &p.role {
        Role::Operator => {
            if !one_step_up && req.reason.is_empty() {
                return Err(Error::invalid(
                    "stageChange.reason",
                    format!(
                        "is required to move from {} to {}: more than one step up, or down",
                        from.as_str(),
                        req.to_stage.as_str()
                    ),
                ));
            }
            Ok(State::Confirmed)
        }
        Role::Supplier(own) if own == supplier_id => {
            if !one_step_up {
                return Err(Error::PermissionDenied(format!(
                    "a company may propose only the next stage ({} after {}); moving more than one \
                     step up, or down, needs an operator",
                    next(from).map(Stage::as_str).unwrap_or("none"),
                    from.as_str()
                )));
            }
            if req.evidence.is_empty() && req.evidence_documents.is_empty() {
                return Err(Error::invalid(
                    "stageChange.evidence",
                    "a proposal needs evidence: a text or at least one document",
                ));
            }
            Ok(State::Proposed)
        }
        Role::Supplier(_) => Err(crate::supplier::access::not_found(supplier_id)),
        Role::Reviewer | Role::Institute(_) | Role::Public => Err(Error::PermissionDenied(
            format!("role {} may read stage changes but not record them", p.role),
        )),
    }
}

fn next(s: Stage) -> Option<Stage> {
    Stage::ALL.into_iter().find(|x| x.rank() == s.rank() + 1)
}

/// A proposal may be decided once, and only while the supplier is still at
/// the stage it was proposed from.
pub fn check_decidable(change: &StageChange, current: Stage) -> Result<(), Error> {
    if change.state != State::Proposed {
        return Err(Error::FailedPrecondition {
            reason: Reason::StageChangeDecided.as_str(),
            message: format!(
                "stage change {} is already {}; only a PROPOSED change can be confirmed or rejected",
                change.id,
                change.state.as_str()
            ),
            subject: "state".into(),
            allowed: Vec::new(),
        });
    }
    if change.from_stage != current {
        return Err(Error::FailedPrecondition {
            reason: Reason::StageMoved.as_str(),
            message: format!(
                "the supplier moved from {} to {} since this was proposed; reject it, and the \
                 company may propose again",
                change.from_stage.as_str(),
                current.as_str()
            ),
            subject: "fromStage".into(),
            allowed: vec!["reject".into()],
        });
    }
    Ok(())
}

/// Only one proposal may wait at a time.
pub fn proposal_pending(existing: &StageChange) -> Error {
    Error::FailedPrecondition {
        reason: Reason::ProposalPending.as_str(),
        message: format!(
            "proposal {} ({} to {}) is still waiting for an operator",
            existing.id,
            existing.from_stage.as_str(),
            existing.to_stage.as_str()
        ),
        subject: "state".into(),
        allowed: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn principal(role: Role) -> Principal {
        Principal {
            subject: "key_test".into(),
            role,
        }
    }

    fn to(stage: Stage, reason: &str) -> Request {
        validate(Some(stage), "시제품 납품 실적", &[], reason).unwrap()
    }

    #[test]
    fn the_ladder_is_ordered() {
        let ranks: Vec<i64> = Stage::ALL.iter().map(|s| s.rank()).collect();
        assert_eq!(ranks, [1, 2, 3, 4, 5]);
        for s in Stage::ALL {
            assert_eq!(Stage::parse(s.as_str()), Some(s));
        }
        assert_eq!(Stage::parse("ELECTRIC"), None);
    }

    #[test]
    fn operators_record_any_move_with_a_reason_beyond_one_step_up() {
        let op = principal(Role::Operator);
        let id = "sup_x";
        assert_eq!(
            decide(&op, id, Stage::IceDependent, &to(Stage::Exploring, "")).unwrap(),
            State::Confirmed
        );
        for target in [Stage::Planning, Stage::FutureCarSupplier] {
            assert!(decide(&op, id, Stage::IceDependent, &to(target, "")).is_err());
            assert_eq!(
                decide(&op, id, Stage::IceDependent, &to(target, "인증 확인")).unwrap(),
                State::Confirmed
            );
        }
        assert!(decide(&op, id, Stage::Planning, &to(Stage::Exploring, "")).is_err());
        assert!(decide(&op, id, Stage::Planning, &to(Stage::Exploring, "계획 철회")).is_ok());
        assert!(decide(&op, id, Stage::Planning, &to(Stage::Planning, "x")).is_err());
    }

    #[test]
    fn a_company_proposes_only_the_next_step_for_itself() {
        let me = "sup_me";
        let p = principal(Role::Supplier(me.into()));
        assert_eq!(
            decide(&p, me, Stage::Exploring, &to(Stage::Planning, "")).unwrap(),
            State::Proposed
        );
        for (from, target) in [
            (Stage::Exploring, Stage::Converting),
            (Stage::Exploring, Stage::IceDependent),
        ] {
            assert!(matches!(
                decide(&p, me, from, &to(target, "because")),
                Err(Error::PermissionDenied(_))
            ));
        }
        let bare = validate(Some(Stage::Planning), "", &[], "").unwrap();
        assert!(matches!(
            decide(&p, me, Stage::Exploring, &bare),
            Err(Error::InvalidArgument(_))
        ));
        assert!(matches!(
            decide(&p, "sup_other", Stage::Exploring, &to(Stage::Planning, "")),
            Err(Error::NotFound { .. })
        ));
        for role in [Role::Institute("KATECH".into()), Role::Reviewer] {
            assert!(matches!(
                decide(
                    &principal(role),
                    me,
                    Stage::Exploring,
                    &to(Stage::Planning, "")
                ),
                Err(Error::PermissionDenied(_))
            ));
        }
    }

    #[test]
    fn evidence_is_bounded_and_named() {
        let err =
            validate(None, &"x".repeat(2001), &["a b".into(), String::new()], "").unwrap_err();
        let Error::InvalidArgument(v) = err else {
            panic!("{err:?}")
        };
        let fields: Vec<&str> = v.iter().map(|f| f.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "stageChange.toStage",
                "stageChange.evidence",
                "stageChange.evidenceDocuments[0]",
                "stageChange.evidenceDocuments[1]"
            ]
        );
    }

    #[test]
    fn a_proposal_is_decided_once_and_only_from_its_stage() {
        let mut c = StageChange {
            id: "stc_x".into(),
            supplier_id: "sup_x".into(),
            from_stage: Stage::Exploring,
            to_stage: Stage::Planning,
            evidence: "e".into(),
            evidence_documents: vec![],
            reason: String::new(),
            state: State::Proposed,
            recorded_by: "key".into(),
            recorded_by_role: "supplier:sup_x".into(),
            create_time: 0,
            decided_by: String::new(),
            decide_time: None,
            decision_note: String::new(),
        };
        assert!(check_decidable(&c, Stage::Exploring).is_ok());
        assert!(check_decidable(&c, Stage::Planning).is_err());
        c.state = State::Confirmed;
        assert!(check_decidable(&c, Stage::Exploring).is_err());
    }
}
