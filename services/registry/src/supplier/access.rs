//! Who may do what with supplier records. Object-level rules live here, in
//! the service that owns the data, not in the gateway.

use gearshift_platform::{Error, Principal, Role};

use super::profile;
use super::rules::{Action, Patch};

/// Registering companies is the programme staff's job.
pub fn create(p: &Principal) -> Result<(), Error> {
    p.require_operator()
}

/// Staff, reviewers and institutes read every profile; a company reads
/// only its own, and others' existence is not revealed to it (404).
pub fn read(p: &Principal, supplier_id: &str) -> Result<(), Error> {
    match &p.role {
        Role::Operator | Role::Reviewer | Role::Institute(_) => Ok(()),
        Role::Supplier(own) if own == supplier_id => Ok(()),
        Role::Supplier(_) | Role::Public => Err(not_found(supplier_id)),
    }
}

/// The only supplier a company's key may list, or `None` for everyone.
pub fn list_scope(p: &Principal) -> Option<&str> {
    match &p.role {
        Role::Supplier(own) => Some(own.as_str()),
        _ => None,
    }
}

/// Operators update any profile; a company updates its own, except its
/// business number, which only an operator may correct.
pub fn update(p: &Principal, supplier_id: &str, patch: &Patch) -> Result<(), Error> {
    match &p.role {
        Role::Operator => Ok(()),
        Role::Supplier(own) if own == supplier_id => {
            if patch.business_number.is_some() {
                Err(Error::PermissionDenied(
                    "only an operator may change a business number".into(),
                ))
            } else if let Some(f) = patch
                .profile_fields
                .iter()
                .find(|f| profile::OPERATOR_ONLY.contains(f))
            {
                Err(Error::PermissionDenied(format!(
                    "only an operator may change {f}"
                )))
            } else {
                Ok(())
            }
        }
        Role::Supplier(_) => Err(not_found(supplier_id)),
        Role::Reviewer | Role::Institute(_) | Role::Public => Err(Error::PermissionDenied(
            format!("role {} may read suppliers but not change them", p.role),
        )),
    }
}

/// Verifying, suspending and reinstating are the programme staff's;
/// a company may withdraw itself.
pub fn transition(p: &Principal, supplier_id: &str, action: Action) -> Result<(), Error> {
    match (&p.role, action) {
        (Role::Operator, _) => Ok(()),
        (Role::Supplier(own), Action::Withdraw) if own == supplier_id => Ok(()),
        (Role::Supplier(own), _) if own == supplier_id => Err(Error::PermissionDenied(format!(
            "only an operator may {} a supplier",
            action.verb()
        ))),
        (Role::Supplier(_), _) => Err(not_found(supplier_id)),
        (Role::Reviewer | Role::Institute(_) | Role::Public, _) => Err(Error::PermissionDenied(
            format!("only an operator may {} a supplier", action.verb()),
        )),
    }
}

/// Contact data: operators and the company itself. (Institutes working
/// on the company's open tickets will see it once support tickets exist.)
pub fn sees_contacts(p: &Principal, supplier_id: &str) -> bool {
    match &p.role {
        Role::Operator => true,
        Role::Supplier(own) => own == supplier_id,
        Role::Reviewer | Role::Institute(_) | Role::Public => false,
    }
}

/// The audit trail is for programme staff.
pub fn read_events(p: &Principal) -> Result<(), Error> {
    p.require_operator()
}

pub fn not_found(id: &str) -> Error {
    Error::NotFound {
        resource: "supplier",
        id: id.to_string(),
    }
}
