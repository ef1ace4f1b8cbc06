//! Who may read a supplier's transition ladder and decide its proposals.
//! (Who may record or propose a move is part of the ladder's rules:
//! `rules::decide`.)

use gearshift_platform::{Error, Principal};

/// Who may read a supplier's stage history: everyone who may read the
/// supplier (a company only its own).
pub fn read(p: &Principal, supplier_id: &str) -> Result<(), Error> {
    crate::supplier::access::read(p, supplier_id)
}

/// Deciding proposals is the programme staff's.
pub fn decide(p: &Principal) -> Result<(), Error> {
    p.require_operator()
}
