//! Prometheus metrics: one recorder per process, rendered at `/metrics` by
//! every target. RED metrics (rate, errors, duration) are recorded per RPC by
//! the server frame and per route by the gateway.

use std::sync::OnceLock;

use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};

static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();

/// Installs the recorder on first call; later calls return the same handle.
/// `None` when another recorder was installed first (only in odd test setups).
pub fn handle() -> Option<&'static PrometheusHandle> {
    HANDLE
        .get_or_init(|| {
            PrometheusBuilder::new()
                .set_buckets(&[
                    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
                ])
                .ok()?
                .install_recorder()
                .ok()
        })
        .as_ref()
}

/// The text exposition of every metric.
pub fn render() -> String {
    handle().map(|h| h.render()).unwrap_or_default()
}
