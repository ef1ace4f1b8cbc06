//! Who sees what of an application: operators and advising institutes the
//! whole record; a reviewer its own review; the company its application
//! and the public part of the decision, never reviewers or scores.

use gearshift_platform::{Principal, Role, etag, time};
use gearshift_proto::financing::v1 as pb;
use pb::application::Status;

use super::store::Stored;
use crate::review::rules::summary;

/// How much of an application a caller is shown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum View {
    /// Operators and advising institutes.
    Full,
    /// An assigned reviewer, while the application is under review.
    Reviewer(String),
    /// The applying company.
    Company,
}

/// Event types whose actor and detail the company does not see.
const INTERNAL_EVENTS: &[&str] = &[
    "application.reviewers_assigned",
    "application.reviewed",
    "application.recused",
    "application.consensus_recorded",
];

/// The application as `view` sees it, with its reviews.
pub fn shown(
    view: &View,
    a: &Stored,
    programme: &pb::Programme,
    reviews: &[pb::Review],
) -> pb::Application {
    let mut out = pb::Application {
        id: a.id.clone(),
        status: a.status as i32,
        create_time: Some(time::to_timestamp(a.create_time)),
        update_time: Some(time::to_timestamp(a.update_time)),
        submit_time: a.submit_time.map(time::to_timestamp),
        etag: etag::from_revision(a.revision),
        ..a.body.clone()
    };
    match view {
        View::Full => {
            out.reviews = reviews.to_vec();
            if !reviews.is_empty() {
                out.review_summary = Some(summary(programme, reviews));
            }
        }
        View::Reviewer(me) => {
            out.reviews = reviews
                .iter()
                .filter(|r| &r.reviewer == me)
                .cloned()
                .collect();
            out.consensus = None;
        }
        View::Company => {
            out.reviews.clear();
            out.review_summary = None;
            out.consensus = None;
            if let Some(d) = out.decision.as_mut() {
                d.rationale.clear();
                d.decided_by.clear();
                d.mean_score = 0.0;
            }
            for t in &mut out.tranches {
                t.recorded_by.clear();
            }
        }
    }
    out
}

/// An event as `view` sees it: to the company, the steps of review show no
/// actor and no detail, and a decision only its public part.
pub fn event(view: &View, mut e: pb::ApplicationEvent) -> pb::ApplicationEvent {
    if *view != View::Company {
        return e;
    }
    let own = e.actor_role.starts_with("supplier:");
    if !own {
        e.actor.clear();
    }
    if INTERNAL_EVENTS.contains(&e.r#type.as_str()) {
        e.detail.clear();
        e.actor_role.clear();
    } else if e.r#type == "application.decided" {
        let public = serde_json::from_str::<serde_json::Value>(&e.detail)
            .ok()
            .map(|d| {
                serde_json::json!({
                    "outcome": d["outcome"],
                    "approvedAmountWon": d["approvedAmountWon"],
                    "conditions": d["conditions"],
                    "reasons": d["reasons"],
                })
            });
        e.detail = public.map(|p| p.to_string()).unwrap_or_default();
    } else if e.r#type == "application.disbursed"
        && let Ok(mut d) = serde_json::from_str::<serde_json::Value>(&e.detail)
        && let Some(o) = d.as_object_mut()
    {
        o.remove("recordedBy");
        e.detail = d.to_string();
    }
    e
}

/// Who may read the application, and how much: the reviewer's case needs
/// the application's reviews. `None`: the caller may not read it.
pub fn of(
    p: &Principal,
    a: &Stored,
    programme: &pb::Programme,
    reviews: &[pb::Review],
) -> Option<View> {
    match &p.role {
        Role::Operator => Some(View::Full),
        Role::Supplier(own) if own == &a.body.supplier_id => Some(View::Company),
        Role::Institute(code) if programme.advisor_institutes.contains(code) => Some(View::Full),
        Role::Reviewer
            if a.status == Status::UnderReview
                && reviews.iter().any(|r| r.reviewer == p.subject) =>
        {
            Some(View::Reviewer(p.subject.clone()))
        }
        _ => None,
    }
}
