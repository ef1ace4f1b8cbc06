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

/// The RED metrics of one kind of request (HTTP routes, gRPC methods): a
/// counter and a duration histogram labelled by what was called and how it
/// ended. Each pair of labels is registered with the recorder once and its
/// handles kept, so a request neither builds label strings nor looks them up
/// in the recorder's map (both showed in the gateway's profile).
pub struct Red {
    requests: &'static str,
    duration: &'static str,
    name_label: &'static str,
    outcome_label: &'static str,
    handles: std::sync::RwLock<std::collections::HashMap<String, Vec<Handles>>>,
}

/// An outcome's counter and histogram.
type Handles = (u16, metrics::Counter, metrics::Histogram);

impl Red {
    /// `requests` and `duration` are the metric names; `name_label` and
    /// `outcome_label` the two labels (`route` and `status`, say).
    pub fn new(
        requests: &'static str,
        duration: &'static str,
        name_label: &'static str,
        outcome_label: &'static str,
    ) -> Self {
        Self {
            requests,
            duration,
            name_label,
            outcome_label,
            handles: Default::default(),
        }
    }

    /// Counts one request to `name` that ended with `outcome` and took `elapsed`.
    pub fn record(&self, name: &str, outcome: u16, elapsed: std::time::Duration) {
        let seconds = elapsed.as_secs_f64();
        let found = self.handles.read().ok().and_then(|handles| {
            let (_, counter, histogram) =
                handles.get(name)?.iter().find(|(o, _, _)| *o == outcome)?;
            counter.increment(1);
            histogram.record(seconds);
            Some(())
        });
        if found.is_some() {
            return;
        }
        // First time for this pair: the recorder must exist before handles
        // are taken from it (a handle taken earlier would count nothing).
        handle();
        let labels = [
            (self.name_label, name.to_string()),
            (self.outcome_label, outcome.to_string()),
        ];
        let counter = metrics::counter!(self.requests, &labels);
        let histogram = metrics::histogram!(self.duration, &labels);
        counter.increment(1);
        histogram.record(seconds);
        if let Ok(mut handles) = self.handles.write() {
            let entry = handles.entry(name.to_string()).or_default();
            if !entry.iter().any(|(o, _, _)| *o == outcome) {
                entry.push((outcome, counter, histogram));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_request_is_counted_under_its_labels() {
        let red = Red::new(
            "test_red_requests_total",
            "test_red_duration_seconds",
            "route",
            "status",
        );
        for _ in 0..3 {
            red.record("/v1/things/{id}", 200, std::time::Duration::from_millis(2));
        }
        red.record("/v1/things/{id}", 404, std::time::Duration::from_millis(1));
        let text = render();
        assert!(
            text.contains(r#"test_red_requests_total{route="/v1/things/{id}",status="200"} 3"#),
            "{text}"
        );
        assert!(
            text.contains(r#"test_red_requests_total{route="/v1/things/{id}",status="404"} 1"#),
            "{text}"
        );
        assert!(
            text.contains(
                r#"test_red_duration_seconds_count{route="/v1/things/{id}",status="200"} 3"#
            ),
            "{text}"
        );
    }
}
