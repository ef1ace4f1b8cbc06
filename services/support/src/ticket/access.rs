//! Who may do what with tickets. A company sees only its own tickets and an
//! institute only those assigned to it; anyone else's is NOT_FOUND, so ids
//! reveal nothing.

use gearshift_platform::{Error, Principal, Role};

use super::rules::{Ticket, Verb};

pub fn not_found(id: &str) -> Error {
    Error::NotFound {
        resource: "ticket",
        id: id.to_string(),
    }
}

fn no_tickets(p: &Principal) -> Error {
    Error::PermissionDenied(format!("role {} has no access to support tickets", p.role))
}

/// Operators open tickets for any company, a company for itself.
pub fn create(p: &Principal, supplier_id: &str) -> Result<(), Error> {
    match &p.role {
        Role::Operator => Ok(()),
        Role::Supplier(own) if own == supplier_id => Ok(()),
        Role::Supplier(_) => Err(Error::PermissionDenied(
            "a company opens tickets only for itself".into(),
        )),
        Role::Institute(_) | Role::Reviewer | Role::Public => {
            Err(Error::PermissionDenied(format!(
                "role {} cannot open tickets; companies and operators do",
                p.role
            )))
        }
    }
}

/// Whether `p` may see `t` at all (NOT_FOUND otherwise).
pub fn read(p: &Principal, t: &Ticket) -> Result<(), Error> {
    match &p.role {
        Role::Operator => Ok(()),
        Role::Supplier(own) if own == &t.supplier_id => Ok(()),
        Role::Institute(code) if code == &t.institute => Ok(()),
        Role::Supplier(_) | Role::Institute(_) => Err(not_found(&t.id)),
        Role::Reviewer | Role::Public => Err(no_tickets(p)),
    }
}

/// The narrowing a list gets for `p`: a company's own tickets, an
/// institute's assigned ones.
pub fn list_scope(p: &Principal) -> Result<(Option<&str>, Option<&str>), Error> {
    match &p.role {
        Role::Operator => Ok((None, None)),
        Role::Supplier(own) => Ok((Some(own.as_str()), None)),
        Role::Institute(code) => Ok((None, Some(code.as_str()))),
        Role::Reviewer | Role::Public => Err(no_tickets(p)),
    }
}

/// Whether the caller is the requesting company.
pub fn is_requester(p: &Principal, t: &Ticket) -> bool {
    matches!(&p.role, Role::Supplier(own) if own == &t.supplier_id)
}

/// Whether the caller is the centre or the assigned institute (whose
/// public replies stop the response clocks and who see internal notes).
pub fn is_staff(p: &Principal, t: &Ticket) -> bool {
    match &p.role {
        Role::Operator => true,
        Role::Institute(code) => code == &t.institute,
        _ => false,
    }
}

/// Who may use each verb on a ticket they can see.
pub fn verb(p: &Principal, t: &Ticket, verb: Verb) -> Result<(), Error> {
    read(p, t)?;
    let allowed = match verb {
        Verb::Triage | Verb::Merge => p.is_operator(),
        Verb::Assign | Verb::Start | Verb::WaitOnRequester | Verb::Resolve => is_staff(p, t),
        Verb::Reopen | Verb::Close | Verb::Cancel => p.is_operator() || is_requester(p, t),
    };
    if allowed {
        Ok(())
    } else {
        Err(Error::PermissionDenied(format!(
            "role {} may not {} this ticket",
            p.role,
            verb.name()
        )))
    }
}

/// The audit trail: operators and the assigned institute.
pub fn events(p: &Principal, t: &Ticket) -> Result<(), Error> {
    read(p, t)?;
    if is_staff(p, t) {
        Ok(())
    } else {
        Err(Error::PermissionDenied(
            "the audit trail is for operators and the assigned institute".into(),
        ))
    }
}
