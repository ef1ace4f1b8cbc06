//! Time-driven work, inside the service: breach events for clocks past
//! their due time and the automatic close of resolved tickets. Each sweep
//! asks "what is due by now", so a service that was down catches up on its
//! next sweep; on PostgreSQL each ticket is claimed (`FOR UPDATE SKIP
//! LOCKED`) so several replicas never handle the same one, and on either
//! engine the revision check makes a second handling a lost race, not a
//! second event.

use std::time::Duration;

use gearshift_platform::db::{Db, Engine};
use gearshift_platform::shutdown::Shutdown;
use gearshift_platform::write::write;
use gearshift_platform::{Error, Principal, Role};

use crate::SupportService;
use crate::ticket::grpc::save;
use crate::ticket::rules::Status;
use crate::ticket::store;

/// Tickets handled per transaction.
const BATCH: i64 = 50;

/// The actor of the service's own work in the audit trail.
pub fn system() -> Principal {
    Principal {
        subject: "system".into(),
        role: Role::Operator,
    }
}

/// Runs [`sweep`] every `interval` until shutdown.
pub async fn run(svc: SupportService, interval: Duration, shutdown: Shutdown) {
    let mut tick = tokio::time::interval(interval);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = tick.tick() => match sweep(&svc).await {
                Ok((0, 0)) => {}
                Ok((breaches, closed)) => tracing::info!(breaches, closed, "support sweep"),
                Err(e) => tracing::warn!(error = %e, "support sweep failed; retried on the next tick"),
            },
            _ = shutdown.wait() => return,
        }
    }
}

/// Records every breach due by now and closes every ticket resolved longer
/// ago than the auto-close period; returns how many of each.
pub async fn sweep(svc: &SupportService) -> Result<(u32, u32), Error> {
    let mut breaches = 0;
    loop {
        let n = breach_batch(&svc.db).await?;
        breaches += n;
        if i64::from(n) < BATCH {
            break;
        }
    }
    let mut closed = 0;
    loop {
        let n = close_batch(&svc.db, svc.settings.auto_close_days).await?;
        closed += n;
        if i64::from(n) < BATCH {
            break;
        }
    }
    Ok((breaches, closed))
}

async fn breach_batch(db: &Db) -> Result<u32, Error> {
    let postgres = db.engine() == Engine::Postgres;
    let actor = system();
    let actor = &actor;
    let written = write(db, None, |mut tx| async move {
        let now = tx.now();
        let due = store::breach_candidates(&mut tx, now, BATCH, postgres).await?;
        if due.is_empty() {
            tx.unchanged();
        }
        let count = due.len() as u32;
        for current in due {
            let mut next = current.clone();
            let mut breached = Vec::new();
            for (name, clock) in next.levels.clocks_mut() {
                if clock.stop.is_none()
                    && !clock.breach_recorded
                    && clock.due.is_some_and(|d| d <= now)
                {
                    clock.breach_recorded = true;
                    breached.push(name);
                }
            }
            next.revision = current.revision + 1;
            save(
                &mut tx,
                actor,
                "ticket.sla_breached",
                &current,
                &next,
                &[],
                Some(serde_json::json!({
                    "note": format!("breached: {}", breached.join(", ")),
                    "clocks": breached,
                })),
            )
            .await?;
        }
        Ok((tx, count))
    })
    .await?;
    Ok(written.response)
}

async fn close_batch(db: &Db, auto_close_days: u32) -> Result<u32, Error> {
    let postgres = db.engine() == Engine::Postgres;
    let actor = system();
    let actor = &actor;
    let written = write(db, None, |mut tx| async move {
        let now = tx.now();
        let before = now - i64::from(auto_close_days) * 24 * 3600 * 1_000_000;
        let resolved = store::close_candidates(&mut tx, before, BATCH, postgres).await?;
        if resolved.is_empty() {
            tx.unchanged();
        }
        let count = resolved.len() as u32;
        for current in resolved {
            let mut next = current.clone();
            next.status = Status::Closed;
            next.close_time = Some(now);
            next.update_time = now.max(current.update_time);
            next.revision = current.revision + 1;
            save(
                &mut tx,
                actor,
                "ticket.closed",
                &current,
                &next,
                &["status", "closeTime"],
                Some(serde_json::json!({
                    "note": format!("closed automatically {auto_close_days} days after resolution"),
                })),
            )
            .await?;
        }
        Ok((tx, count))
    })
    .await?;
    Ok(written.response)
}
