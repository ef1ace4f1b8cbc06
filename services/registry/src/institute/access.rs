//! Who may do what with the directory: every authenticated caller reads
//! it; operators create and edit entries and read their audit trail.

use gearshift_platform::{Error, Principal};

/// Reading the directory needs only a valid principal.
pub fn read(_: &Principal) -> Result<(), Error> {
    Ok(())
}

/// Creating and editing entries, and reading their events, is the
/// programme staff's.
pub fn write(p: &Principal) -> Result<(), Error> {
    p.require_operator()
}
