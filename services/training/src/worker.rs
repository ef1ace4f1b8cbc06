//! Time-driven work, inside the service: seat offers that lapsed are
//! recorded as OFFER_EXPIRED and their seats offered to the next in line;
//! training evidence waiting for the registry is delivered
//! (`crate::evidence`).
//! Each sweep asks "what lapsed by now", so a service that was down
//! catches up on its next sweep; on PostgreSQL each offer is claimed
//! (`FOR UPDATE SKIP LOCKED`) so several replicas never handle the same
//! one, and on either engine the revision check makes a second handling a
//! lost race, not a second event.

use std::time::Duration;

use gearshift_platform::db::Engine;
use gearshift_platform::shutdown::Shutdown;
use gearshift_platform::write::write;
use gearshift_platform::{Error, Principal, Role};

use crate::TrainingService;
use crate::enrollment::{grpc as enrollments, store};

/// Offers handled per transaction.
const BATCH: i64 = 50;

/// The actor of the service's own work in the audit trail.
pub fn system() -> Principal {
    Principal {
        subject: "system".into(),
        role: Role::Operator,
    }
}

/// Runs [`sweep`] every `interval` until shutdown.
pub async fn run(svc: TrainingService, interval: Duration, shutdown: Shutdown) {
    let mut tick = tokio::time::interval(interval);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = tick.tick() => {
                match sweep(&svc).await {
                    Ok(0) => {}
                    Ok(lapsed) => tracing::info!(lapsed, "training sweep: offers lapsed"),
                    Err(e) => tracing::warn!(error = %e, "training sweep failed; retried on the next tick"),
                }
                match crate::evidence::deliver(&svc).await {
                    Ok(0) => {}
                    Ok(delivered) => tracing::info!(delivered, "training evidence delivered to the registry"),
                    Err(e) => tracing::warn!(error = %e, "training evidence delivery failed; retried on the next tick"),
                }
            }
            _ = shutdown.wait() => return,
        }
    }
}

/// Lapses every offer past its time; returns how many.
pub async fn sweep(svc: &TrainingService) -> Result<u32, Error> {
    let postgres = svc.db.engine() == Engine::Postgres;
    let actor = system();
    let actor = &actor;
    let mut total = 0;
    loop {
        let written = write(&svc.db, None, |mut tx| async move {
            let now = tx.now();
            let due = store::lapsed_offers(&mut tx, now, BATCH, postgres).await?;
            if due.is_empty() {
                tx.unchanged();
            }
            let count = due.len() as u32;
            for offer in &due {
                enrollments::lapse(&mut tx, actor, offer).await?;
            }
            Ok((tx, count))
        })
        .await?;
        total += written.response;
        if i64::from(written.response) < BATCH {
            return Ok(total);
        }
    }
}
