//! Who may read the programme's figures.

use gearshift_platform::{Error, Principal, Role};

/// The programme's figures are for operators and institutes, not for
/// companies or reviewers.
pub fn read_stats(p: &Principal) -> Result<(), Error> {
    match &p.role {
        Role::Operator | Role::Institute(_) => Ok(()),
        Role::Reviewer | Role::Supplier(_) | Role::Public => Err(Error::PermissionDenied(format!(
            "programme figures are for operators and institutes; the key has role {}",
            p.role
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn companies_and_reviewers_do_not_read_the_figures() {
        let p = |role| Principal {
            subject: "k".into(),
            role,
        };
        assert!(read_stats(&p(Role::Operator)).is_ok());
        assert!(read_stats(&p(Role::Institute("GJTP".into()))).is_ok());
        assert!(read_stats(&p(Role::Supplier("sup_x".into()))).is_err());
        assert!(read_stats(&p(Role::Reviewer)).is_err());
    }
}
