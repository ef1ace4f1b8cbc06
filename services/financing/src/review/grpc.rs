//! A reviewer's review: once, only by that reviewer, only while the
//! application is under review.

use gearshift_platform::{Error, Role, time};
use gearshift_proto::financing::v1 as pb;
use pb::review::{Declaration, State};
use tonic::Request;

use super::rules;
use crate::FinancingService;
use crate::application::grpc::{Ctx, Effects, apply};
use crate::application::rules::{Verb, allowed};
use crate::application::store::Stored;

pub async fn submit(
    svc: &FinancingService,
    request: Request<pb::SubmitReviewRequest>,
) -> Result<pb::Review, Error> {
    let req = request.get_ref();
    let input = req
        .review
        .clone()
        .ok_or_else(|| Error::invalid("review", "is required"))?;
    let change = |c: &Ctx<'_>, a: &mut Stored| {
        let me = &c.principal.subject;
        if !matches!(c.principal.role, Role::Reviewer | Role::Operator) {
            return Err(Error::PermissionDenied(format!(
                "only an assigned reviewer reviews; the key has role {}",
                c.principal.role
            )));
        }
        let Some(mine) = c.reviews.iter().find(|r| &r.reviewer == me) else {
            return Err(Error::PermissionDenied(
                "only a reviewer assigned to this application reviews it".into(),
            ));
        };
        allowed(Verb::Review, a.status)?;
        if mine.state != State::Pending as i32 {
            return Err(Error::AlreadyExists {
                resource: "review",
                field: "review".into(),
                message: "this reviewer's review is in and is never changed".into(),
            });
        }
        let mut review = rules::check(&input, c.programme)?;
        review.reviewer = me.clone();
        review.assign_time = mine.assign_time;
        review.submit_time = Some(time::to_timestamp(c.now));
        let recused = review.declaration == Declaration::Conflict as i32;
        review.state = if recused {
            State::Recused
        } else {
            State::Submitted
        } as i32;
        let detail = serde_json::json!({
            "reviewer": me,
            "declaration": Declaration::try_from(review.declaration)
                .map(|d| d.as_str_name())
                .unwrap_or_default(),
            "scores": review.scores.iter().map(|s| serde_json::json!({
                "criterion": s.criterion, "score": s.score, "comment": s.comment,
            })).collect::<Vec<_>>(),
            "weightedScore": review.weighted_score,
            "comment": review.comment,
        });
        // The application changes only in its revision: its etag moves,
        // so a copy cached with the old summary is seen to be stale.
        Ok(Effects {
            detail: Some(detail),
            review: Some(review),
            ..Default::default()
        })
    };
    let event_type = if input.declaration == Declaration::Conflict as i32 {
        "application.recused"
    } else {
        "application.reviewed"
    };
    apply(
        svc,
        &request,
        &req.application_id,
        "",
        event_type,
        change,
        |_, _, effects| effects.review.clone().unwrap_or_default(),
    )
    .await
}
