//! The comments' gRPC handlers. A comment and what it does to the ticket
//! (the response clocks, a waiting ticket taken up again) are one write.

use gearshift_platform::error::Reason as _;
use gearshift_platform::idempotency::Idempotency;
use gearshift_platform::write::write;
use gearshift_platform::{Error, Principal, ids, pagination, time};
use gearshift_proto::support::v1 as pb;
use tonic::Request;

use super::{Comment, INTERNAL, PUBLIC, store};
use crate::SupportService;
use crate::reason::Reason;
use crate::ticket::grpc::{load, save, ticket_id};
use crate::ticket::rules::{self, Status};
use crate::ticket::{access, store as tickets};

fn to_proto(c: &Comment) -> pb::Comment {
    pb::Comment {
        id: c.id.clone(),
        ticket_id: c.ticket_id.clone(),
        body: c.body.clone(),
        visibility: if c.visibility == INTERNAL {
            pb::Visibility::Internal
        } else {
            pb::Visibility::Public
        } as i32,
        author: c.author.clone(),
        author_role: c.author_role.clone(),
        create_time: Some(time::to_timestamp(c.create_time)),
    }
}

pub async fn create(
    svc: &SupportService,
    request: Request<pb::CreateCommentRequest>,
) -> Result<pb::Comment, Error> {
    let principal = Principal::from_request(&request)?;
    let req = request.get_ref();
    ticket_id("ticketId", &req.ticket_id)?;
    let input = req
        .comment
        .as_ref()
        .ok_or_else(|| Error::invalid("comment", "is required"))?;
    let body = rules::required(&input.body, rules::DESCRIPTION_MAX_CHARS, true)
        .map_err(|e| Error::invalid("comment.body", e))?;
    let visibility = match pb::Visibility::try_from(input.visibility) {
        Ok(pb::Visibility::Unspecified | pb::Visibility::Public) => PUBLIC,
        Ok(pb::Visibility::Internal) => INTERNAL,
        Err(_) => {
            return Err(Error::invalid(
                "comment.visibility",
                "must be PUBLIC or INTERNAL",
            ));
        }
    };
    let idempotency = Idempotency::from_request(&request, &principal)?;
    let (principal, body, ticket) = (&principal, &body, req.ticket_id.as_str());
    let calendar = svc.calendar.clone();
    let calendar = &calendar;
    let written = write(&svc.db, idempotency.as_ref(), |mut tx| async move {
        let current = tickets::get(&mut tx, ticket)
            .await?
            .ok_or_else(|| access::not_found(ticket))?;
        access::read(principal, &current)?;
        let staff = access::is_staff(principal, &current);
        let requester = access::is_requester(principal, &current);
        if visibility == INTERNAL && !staff {
            return Err(Error::PermissionDenied(
                "internal notes are for operators and the assigned institute".into(),
            ));
        }
        if matches!(current.status, Status::Closed | Status::Cancelled) {
            return Err(Error::FailedPrecondition {
                reason: Reason::InvalidTransition.as_str(),
                message: format!(
                    "the ticket is {} and takes no more comments; open a new ticket",
                    current.status.as_str()
                ),
                subject: "status".into(),
                allowed: Vec::new(),
            });
        }
        let now = tx.now();
        let comment = Comment {
            id: ids::new_id("cmt"),
            ticket_id: ticket.to_string(),
            body: body.clone(),
            visibility: visibility.to_string(),
            author: principal.subject.clone(),
            author_role: principal.role.to_string(),
            create_time: now,
        };
        store::insert(&mut tx, &comment).await?;
        let mut next = current.clone();
        let mut changed = Vec::new();
        if visibility == PUBLIC && staff {
            next.levels.replied(now, calendar);
        } else if visibility == PUBLIC && requester {
            next.levels.requester_commented(now, calendar);
            if next.status == Status::WaitingOnRequester {
                next.levels.resume(now, calendar);
                next.status = Status::InProgress;
                changed.push("status");
            }
        }
        next.revision = current.revision + 1;
        next.update_time = now.max(current.update_time);
        let own_hours = crate::desk::grpc::calendar(&mut tx, calendar, &next.institute).await?;
        next.levels.derive(&own_hours);
        save(
            &mut tx,
            principal,
            "ticket.commented",
            &current,
            &next,
            &changed,
            Some(serde_json::json!({
                "note": format!("{} comment {}", visibility.to_lowercase(), comment.id),
                "commentId": comment.id,
                "visibility": visibility,
            })),
        )
        .await?;
        Ok((tx, to_proto(&comment)))
    })
    .await?;
    Ok(written.response)
}

pub async fn list(
    svc: &SupportService,
    request: Request<pb::ListCommentsRequest>,
) -> Result<pb::ListCommentsResponse, Error> {
    let principal = Principal::from_request(&request)?;
    let req = request.get_ref();
    ticket_id("ticketId", &req.ticket_id)?;
    let ticket = load(svc, &principal, &req.ticket_id).await?;
    let public_only = !access::is_staff(&principal, &ticket);
    let size = pagination::page_size(req.page_size)?;
    let fingerprint = pagination::fingerprint(&["comments", &req.ticket_id]);
    let after = pagination::decode_after_id(&req.page_token, &fingerprint)?;
    let mut conn = svc.db.conn().await?;
    let mut rows = store::list(
        &mut conn,
        &req.ticket_id,
        public_only,
        after.as_deref().unwrap_or(""),
        size + 1,
    )
    .await?;
    let next_page_token = pagination::finish(&mut rows, size, &fingerprint, |c| c.id.clone());
    Ok(pb::ListCommentsResponse {
        comments: rows.iter().map(to_proto).collect(),
        next_page_token,
    })
}
