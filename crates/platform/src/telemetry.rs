//! Logs and traces, configured once by the binary (`init`); libraries only
//! emit `tracing` events and spans.
//!
//! Every span is also an OpenTelemetry span, so each request has a trace id
//! from the gateway through each gRPC hop (W3C `traceparent` in metadata) to
//! the SQL it runs, and the id appears in logs and problem documents. Spans
//! are exported over OTLP/gRPC only when `OTEL_EXPORTER_OTLP_ENDPOINT` is set.

use std::str::FromStr;

use opentelemetry::propagation::{Extractor, Injector, TextMapPropagator};
use opentelemetry::trace::{TraceContextExt, TracerProvider as _};
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::SdkTracerProvider;
use tracing_opentelemetry::OpenTelemetrySpanExt;
use tracing_subscriber::EnvFilter;
use tracing_subscriber::Layer as _;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines (the default).
    Text,
    /// One JSON object per line, for log collectors.
    Json,
}

/// Keeps the tracer provider alive; flushes pending spans when dropped.
pub struct TelemetryGuard {
    provider: SdkTracerProvider,
}

impl Drop for TelemetryGuard {
    fn drop(&mut self) {
        let _ = self.provider.shutdown();
    }
}

/// The log filter when `RUST_LOG` is not set.
pub const DEFAULT_LOG_FILTER: &str =
    "info,sqlx=warn,h2=warn,hyper=warn,tower=warn,opentelemetry=warn";

/// What becomes a span of the trace, whatever the log filter says: every
/// span at info and above (each request, gRPC hop and store call) except the
/// transport's own. Independent of `RUST_LOG`, so raising the log level
/// never removes trace ids from problem documents or exported traces.
pub const TRACE_FILTER: &str = "info,h2=off,hyper=off,tower=off,opentelemetry=off";

/// Installs the global subscriber. `RUST_LOG` overrides the log filter (and
/// only that). `writer` is where log lines go (stderr in the binary, a sink
/// in tests).
pub fn init<W>(format: LogFormat, service_name: &str, writer: W) -> anyhow::Result<TelemetryGuard>
where
    W: for<'a> tracing_subscriber::fmt::MakeWriter<'a> + Send + Sync + 'static,
{
    let log_filter = match std::env::var("RUST_LOG") {
        Ok(filter) if !filter.is_empty() => filter,
        _ => DEFAULT_LOG_FILTER.to_string(),
    };
    let mut builder = SdkTracerProvider::builder().with_resource(
        opentelemetry_sdk::Resource::builder()
            .with_service_name(service_name.to_string())
            .build(),
    );
    let exporting = std::env::var("OTEL_EXPORTER_OTLP_ENDPOINT").is_ok_and(|v| !v.is_empty());
    if exporting {
        let exporter = opentelemetry_otlp::SpanExporter::builder()
            .with_tonic()
            .build()?;
        builder = builder.with_batch_exporter(exporter);
    }
    let provider = builder.build();
    opentelemetry::global::set_text_map_propagator(TraceContextPropagator::new());
    let spans = if exporting {
        TraceSpans::All
    } else {
        TraceSpans::Requests
    };
    subscriber(format, &log_filter, &provider, spans, writer)?.try_init()?;
    if exporting {
        tracing::info!("exporting traces over OTLP");
    }
    Ok(TelemetryGuard { provider })
}

/// Which spans become OpenTelemetry spans.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TraceSpans {
    /// Every span [`TRACE_FILTER`] admits: each request, gRPC hop, handler
    /// and store call (when traces are exported).
    All,
    /// Only the spans that begin a request in a process (`http.request`,
    /// `grpc.server`): enough for trace ids in problem documents, logs and
    /// events, and for `traceparent` to travel on. Each OpenTelemetry span
    /// costs a measurable part of a request (BENCHMARKS.md), so when nothing
    /// is exported the rest stay plain tracing spans.
    Requests,
}

/// The spans that begin a request in a process.
const REQUEST_SPANS: [&str; 2] = ["http.request", "grpc.server"];

/// The subscriber `init` installs: log lines filtered by `log_filter`, and
/// OpenTelemetry spans filtered by [`TRACE_FILTER`] and `spans`, each on
/// its own.
pub fn subscriber<W>(
    format: LogFormat,
    log_filter: &str,
    provider: &SdkTracerProvider,
    spans: TraceSpans,
    writer: W,
) -> anyhow::Result<impl tracing::Subscriber + Send + Sync>
where
    W: for<'a> tracing_subscriber::fmt::MakeWriter<'a> + Send + Sync + 'static,
{
    let log_filter = EnvFilter::from_str(log_filter)
        .map_err(|e| anyhow::anyhow!("RUST_LOG {log_filter:?} is not a filter: {e}"))?;
    // Each attribute and timer here is paid on every span of every request:
    // busy/idle timing (two clock reads per enter/exit), source locations,
    // thread names.
    let otel = tracing_opentelemetry::layer()
        .with_tracer(provider.tracer("gearshift"))
        .with_tracked_inactivity(false)
        .with_location(false)
        .with_threads(false);
    let trace_filter = EnvFilter::from_str(TRACE_FILTER)?;
    let otel = match spans {
        TraceSpans::All => otel.with_filter(trace_filter).boxed(),
        TraceSpans::Requests => otel
            .with_filter(tracing_subscriber::filter::FilterExt::and(
                trace_filter,
                tracing_subscriber::filter::filter_fn(|meta| {
                    !meta.is_span() || REQUEST_SPANS.contains(&meta.name())
                }),
            ))
            .boxed(),
    };
    let logs = match format {
        LogFormat::Text => tracing_subscriber::fmt::layer()
            .with_writer(writer)
            .with_filter(log_filter)
            .boxed(),
        LogFormat::Json => tracing_subscriber::fmt::layer()
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_writer(writer)
            .with_filter(log_filter)
            .boxed(),
    };
    Ok(tracing_subscriber::registry().with(otel).with(logs))
}

/// The current trace id (32 hex digits), or empty when there is none.
pub fn current_trace_id() -> String {
    let cx = current_context();
    let span = cx.span();
    let sc = span.span_context();
    if sc.is_valid() {
        sc.trace_id().to_string()
    } else {
        String::new()
    }
}

/// The OpenTelemetry context of the nearest span, from the current one up,
/// that is an OpenTelemetry span ([`TraceSpans::Requests`] leaves the inner
/// ones plain).
fn current_context() -> opentelemetry::Context {
    use tracing_subscriber::registry::LookupSpan;
    let current = tracing::Span::current();
    tracing::dispatcher::get_default(|dispatch| {
        let (Some(id), Some(registry)) = (
            current.id(),
            dispatch.downcast_ref::<tracing_subscriber::Registry>(),
        ) else {
            return current.context();
        };
        // Collected first: no span's extensions may be held while the
        // OpenTelemetry layer reads them.
        let scope: Vec<tracing::span::Id> = match registry.span(&id) {
            Some(span) => span.scope().map(|s| s.id()).collect(),
            None => return current.context(),
        };
        scope
            .iter()
            .find_map(|id| tracing_opentelemetry::get_otel_context(id, dispatch))
            .unwrap_or_else(|| current.context())
    })
}

/// Writes the current span's context into outgoing gRPC metadata.
pub fn inject(metadata: &mut tonic::metadata::MetadataMap) {
    let cx = current_context();
    TraceContextPropagator::new().inject_context(&cx, &mut MetadataInjector(metadata));
}

/// Makes `span` a child of the trace context in incoming headers, if any.
pub fn set_parent_from(span: &tracing::Span, headers: &http::HeaderMap) {
    let cx = TraceContextPropagator::new().extract(&HeaderExtractor(headers));
    if cx.span().span_context().is_valid() {
        let _ = span.set_parent(cx);
    }
}

struct MetadataInjector<'a>(&'a mut tonic::metadata::MetadataMap);

impl Injector for MetadataInjector<'_> {
    fn set(&mut self, key: &str, value: String) {
        if let (Ok(k), Ok(v)) = (
            tonic::metadata::MetadataKey::from_bytes(key.as_bytes()),
            tonic::metadata::MetadataValue::try_from(&value),
        ) {
            self.0.insert(k, v);
        }
    }
}

struct HeaderExtractor<'a>(&'a http::HeaderMap);

impl Extractor for HeaderExtractor<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).and_then(|v| v.to_str().ok())
    }

    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(|k| k.as_str()).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trace_ids_do_not_depend_on_the_log_level() {
        let provider = SdkTracerProvider::builder().build();
        for log_filter in ["info", "warn", "error", "off"] {
            let subscriber = subscriber(
                LogFormat::Text,
                log_filter,
                &provider,
                TraceSpans::Requests,
                std::io::sink,
            )
            .unwrap();
            tracing::subscriber::with_default(subscriber, || {
                let span = tracing::info_span!("http.request");
                let _entered = span.enter();
                let id = current_trace_id();
                assert_eq!(id.len(), 32, "RUST_LOG={log_filter}: trace id {id:?}");
                // A handler's or store's span inside the request: the same trace.
                let inner = tracing::info_span!("handler");
                let _inner = inner.enter();
                assert_eq!(current_trace_id(), id, "RUST_LOG={log_filter}");
            });
        }
    }

    #[test]
    fn a_bad_log_filter_is_a_clear_error() {
        let provider = SdkTracerProvider::builder().build();
        let err = subscriber(
            LogFormat::Json,
            "info,=x=y",
            &provider,
            TraceSpans::All,
            std::io::sink,
        )
        .err()
        .expect("refused");
        assert!(err.to_string().contains("RUST_LOG"), "{err}");
    }
}
