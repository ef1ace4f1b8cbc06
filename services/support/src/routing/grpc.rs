//! The routing rules' gRPC handlers. Everyone reads them; operators
//! change them, and every change is an event.

use gearshift_platform::idempotency::Idempotency;
use gearshift_platform::write::write;
use gearshift_platform::{Error, Principal, etag, ids, outbox, time};
use gearshift_proto::support::v1 as pb;
use tonic::Request;

use super::{Rule, store};
use crate::SupportService;
use crate::ticket::grpc::{category_from_proto, parts_group_from_proto, parts_group_to_proto};
use crate::ticket::rules::{self, Category};

pub fn to_proto(r: &Rule) -> pb::RoutingRule {
    pb::RoutingRule {
        id: r.id.clone(),
        category: Category::parse(&r.category)
            .and_then(|c| pb::Category::from_str_name(c.as_str()))
            .unwrap_or(pb::Category::Unspecified) as i32,
        parts_group: parts_group_to_proto(&r.parts_group),
        institute: r.institute.clone(),
        create_time: Some(time::to_timestamp(r.create_time)),
        update_time: Some(time::to_timestamp(r.update_time)),
        etag: etag::from_revision(r.revision),
    }
}

fn rule_id(id: &str) -> Result<(), Error> {
    if ids::is_valid("rtr", id) {
        Ok(())
    } else {
        Err(Error::invalid(
            "id",
            "is not a routing rule id (rtr_ followed by 26 characters)",
        ))
    }
}

fn not_found(id: &str) -> Error {
    Error::NotFound {
        resource: "routing rule",
        id: id.to_string(),
    }
}

fn clash(rule: &Rule) -> Error {
    Error::AlreadyExists {
        resource: "routing rule",
        field: "routingRule.partsGroup".into(),
        message: format!(
            "a rule for {} and {} already exists; change that one",
            rule.category,
            if rule.parts_group.is_empty() {
                "any parts group"
            } else {
                rule.parts_group.as_str()
            }
        ),
    }
}

/// The rule's fields from the wire, checked (and the institute asked of
/// the registry).
async fn checked<T>(
    svc: &SupportService,
    request: &Request<T>,
    input: &pb::RoutingRule,
    mask: Option<&[String]>,
    mut rule: Rule,
) -> Result<Rule, Error> {
    let wants = |field: &str| mask.is_none_or(|m| m.iter().any(|f| f == field));
    let mut violations = gearshift_platform::error::Violations::new();
    if wants("category") {
        match category_from_proto("routingRule.category", input.category) {
            Ok(Some(c)) => rule.category = c.as_str().to_string(),
            Ok(None) => violations.add("routingRule.category", "is required"),
            Err(Error::InvalidArgument(v)) => {
                for f in v {
                    violations.add(f.field, f.description);
                }
            }
            Err(e) => return Err(e),
        }
    }
    if wants("partsGroup") {
        match parts_group_from_proto("routingRule.partsGroup", input.parts_group) {
            Ok(g) => rule.parts_group = g,
            Err(_) => violations.add("routingRule.partsGroup", "is not a parts group"),
        }
    }
    if wants("institute") {
        match rules::institute_code(&input.institute) {
            Ok(code) => rule.institute = code,
            Err(e) => violations.add("routingRule.institute", e),
        }
    }
    violations.into_result()?;
    if wants("institute")
        && !svc
            .registry
            .institute_exists(request, &rule.institute)
            .await?
    {
        return Err(Error::invalid(
            "routingRule.institute",
            format!("there is no institute {} in the directory", rule.institute),
        ));
    }
    Ok(rule)
}

pub async fn list(
    svc: &SupportService,
    request: Request<pb::ListRoutingRulesRequest>,
) -> Result<pb::ListRoutingRulesResponse, Error> {
    Principal::from_request(&request)?;
    let mut conn = svc.db.conn().await?;
    let rules = store::list(&mut conn).await?;
    Ok(pb::ListRoutingRulesResponse {
        routing_rules: rules.iter().map(to_proto).collect(),
    })
}

pub async fn create(
    svc: &SupportService,
    request: Request<pb::CreateRoutingRuleRequest>,
) -> Result<pb::RoutingRule, Error> {
    let principal = Principal::from_request(&request)?;
    principal.require_operator()?;
    let input = request
        .get_ref()
        .routing_rule
        .clone()
        .ok_or_else(|| Error::invalid("routingRule", "is required"))?;
    let blank = Rule {
        id: ids::new_id("rtr"),
        category: String::new(),
        parts_group: String::new(),
        institute: String::new(),
        create_time: 0,
        update_time: 0,
        revision: 1,
    };
    let rule = checked(svc, &request, &input, None, blank).await?;
    let idempotency = Idempotency::from_request(&request, &principal)?;
    let principal = &principal;
    let rule = &rule;
    let written = write(&svc.db, idempotency.as_ref(), |mut tx| async move {
        let mut rule = rule.clone();
        rule.create_time = tx.now();
        rule.update_time = tx.now();
        if store::clash(&mut tx, &rule).await? {
            return Err(clash(&rule));
        }
        store::insert(&mut tx, &rule).await?;
        tx.append(outbox::NewEvent {
            aggregate_type: "routing_rule",
            aggregate_id: &rule.id,
            event_type: "routing_rule.created",
            actor: principal,
            before: None,
            after: serde_json::to_value(&rule).ok(),
            changed_fields: Vec::new(),
            detail: None,
        })
        .await?;
        Ok((tx, to_proto(&rule)))
    })
    .await?;
    Ok(written.response)
}

pub async fn update(
    svc: &SupportService,
    request: Request<pb::UpdateRoutingRuleRequest>,
) -> Result<pb::RoutingRule, Error> {
    let principal = Principal::from_request(&request)?;
    principal.require_operator()?;
    let req = request.get_ref();
    let input = req
        .routing_rule
        .clone()
        .ok_or_else(|| Error::invalid("routingRule", "is required"))?;
    rule_id(&input.id).map_err(|_| {
        Error::invalid(
            "routingRule.id",
            "is not a routing rule id (rtr_ followed by 26 characters)",
        )
    })?;
    let mask = gearshift_platform::mask::fields(
        req.update_mask.as_ref(),
        &["category", "partsGroup", "institute"],
    )?;
    let expected = etag::expected(&request, &input.etag);
    let current = {
        let mut conn = svc.db.conn().await?;
        store::get(&mut conn, &input.id)
            .await?
            .ok_or_else(|| not_found(&input.id))?
    };
    let next = checked(svc, &request, &input, mask.as_deref(), current).await?;
    let idempotency = Idempotency::from_request(&request, &principal)?;
    let (principal, next, expected) = (&principal, &next, &expected);
    let written = write(&svc.db, idempotency.as_ref(), |mut tx| async move {
        let current = store::get(&mut tx, &next.id)
            .await?
            .ok_or_else(|| not_found(&next.id))?;
        etag::check(expected.as_deref(), current.revision)?;
        let mut rule = next.clone();
        if (&rule.category, &rule.parts_group, &rule.institute)
            == (&current.category, &current.parts_group, &current.institute)
        {
            tx.unchanged();
            return Ok((tx, to_proto(&current)));
        }
        rule.revision = current.revision + 1;
        rule.update_time = tx.now();
        if store::clash(&mut tx, &rule).await? {
            return Err(clash(&rule));
        }
        if !store::update(&mut tx, &rule, current.revision).await? {
            return Err(Error::Conflict);
        }
        tx.append(outbox::NewEvent {
            aggregate_type: "routing_rule",
            aggregate_id: &rule.id,
            event_type: "routing_rule.updated",
            actor: principal,
            before: serde_json::to_value(&current).ok(),
            after: serde_json::to_value(&rule).ok(),
            changed_fields: Vec::new(),
            detail: None,
        })
        .await?;
        Ok((tx, to_proto(&rule)))
    })
    .await?;
    Ok(written.response)
}

pub async fn delete(
    svc: &SupportService,
    request: Request<pb::DeleteRoutingRuleRequest>,
) -> Result<(), Error> {
    let principal = Principal::from_request(&request)?;
    principal.require_operator()?;
    let id = request.get_ref().id.clone();
    rule_id(&id)?;
    let idempotency = Idempotency::from_request(&request, &principal)?;
    let (principal, id) = (&principal, &id);
    write(&svc.db, idempotency.as_ref(), |mut tx| async move {
        let current = store::get(&mut tx, id)
            .await?
            .ok_or_else(|| not_found(id))?;
        if !store::delete(&mut tx, id).await? {
            return Err(Error::Conflict);
        }
        tx.append(outbox::NewEvent {
            aggregate_type: "routing_rule",
            aggregate_id: id,
            event_type: "routing_rule.deleted",
            actor: principal,
            before: serde_json::to_value(&current).ok(),
            after: None,
            changed_fields: Vec::new(),
            detail: None,
        })
        .await?;
        Ok((tx, ()))
    })
    .await?;
    Ok(())
}
