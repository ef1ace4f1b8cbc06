//! Shared plumbing for every Gearshift service, written once: what a target
//! is (`target`, `config`), the one write path (`write`), storage on SQLite
//! or PostgreSQL (`db`, `sql`), the error model, the clock and the business
//! calendar, telemetry, the signed principal, idempotency, pagination, the
//! outbox, and the gRPC server frame (health, reflection, `/healthz`,
//! `/readyz`, `/metrics`, in-process calls).
//!
//! Invariant: nothing here knows about a particular service's nouns. A service
//! crate depends on this one, never the other way round.

#![forbid(unsafe_code)]

pub mod calendar;
pub mod check;
pub mod client;
pub mod clock;
pub mod config;
pub mod db;
pub mod error;
pub mod etag;
pub mod idempotency;
pub mod ids;
pub mod mask;
pub mod metrics;
pub mod outbox;
pub mod pagination;
pub mod principal;
pub mod server;
pub mod shutdown;
pub mod sql;
pub mod target;
pub mod telemetry;
pub mod testing;
pub mod time;
pub mod write;

pub use error::{Error, FieldViolation};
pub use principal::{Principal, Role};

/// Writes a file only its owner can read (mode 0600 on Unix): for secrets.
pub fn write_private_file(path: &std::path::Path, contents: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    file.write_all(contents.as_bytes())?;
    file.sync_all()
}
