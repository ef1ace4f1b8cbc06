//! Logs and traces, configured once by the binary (`init`); libraries only
//! emit `tracing` events and spans.
//!
//! Every request has a W3C trace context from the gateway through each gRPC
//! hop (`traceparent` in metadata), and its trace id appears in logs,
//! problem documents and outbox events. With `OTEL_EXPORTER_OTLP_ENDPOINT`
//! set, every span is an OpenTelemetry span, exported over OTLP/gRPC (one
//! trace down to each SQL statement). Without it, nothing would read those
//! spans, so a small layer here keeps just the trace context on the spans
//! that begin a request ([`TraceSpans::Requests`]): each OpenTelemetry span
//! costs a measurable part of a request (BENCHMARKS.md).

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

/// Which spans carry the trace.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TraceSpans {
    /// Every span [`TRACE_FILTER`] admits is an OpenTelemetry span: each
    /// request, gRPC hop, handler and store call (when traces are exported).
    All,
    /// Only the spans that begin a request in a process (`http.request`,
    /// `grpc.server`) carry a trace context, kept by [`LocalTraceLayer`]:
    /// enough for trace ids in problem documents, logs and events, and for
    /// `traceparent` to travel on, without OpenTelemetry's cost.
    Requests,
}

/// A request span's W3C trace context (when nothing is exported).
#[derive(Debug, Clone, Copy)]
struct LocalTrace {
    trace_id: [u8; 16],
    span_id: [u8; 8],
}

impl LocalTrace {
    fn random_span_id() -> [u8; 8] {
        trace_random().to_ne_bytes()
    }

    fn random_trace_id() -> [u8; 16] {
        let mut id = [0u8; 16];
        id[..8].copy_from_slice(&trace_random().to_ne_bytes());
        id[8..].copy_from_slice(&trace_random().to_ne_bytes());
        id
    }

    fn traceparent(&self) -> String {
        let mut out = String::with_capacity(55);
        out.push_str("00-");
        out.push_str(&crate::idempotency::hex(&self.trace_id));
        out.push('-');
        out.push_str(&crate::idempotency::hex(&self.span_id));
        out.push_str("-01");
        out
    }
}

/// A random 64-bit number for trace and span ids: wyrand over a per-thread
/// state seeded once from the OS. Trace ids correlate, they guard nothing,
/// so a fast generator is enough; two `getrandom` system calls per request
/// were ~2 % of the gateway's CPU (BENCHMARKS.md). Never zero, so an id is
/// never the all-zero "no trace" value.
fn trace_random() -> u64 {
    use std::cell::Cell;
    thread_local! {
        static STATE: Cell<u64> = Cell::new({
            let mut seed = [0u8; 8];
            // Without an OS source, the thread's address still differs per thread.
            if getrandom::fill(&mut seed).is_err() {
                seed = (&seed as *const _ as u64).to_ne_bytes();
            }
            u64::from_ne_bytes(seed)
        });
    }
    STATE.with(|state| {
        let s = state.get().wrapping_add(0xa076_1d64_78bd_642f);
        state.set(s);
        let t = u128::from(s) * u128::from(s ^ 0xe703_7ed1_a0b4_28db);
        (((t >> 64) as u64) ^ (t as u64)).max(1)
    })
}

/// `00-<32 hex trace id>-<16 hex span id>-<2 hex flags>`, with a non-zero trace id.
fn parse_traceparent(value: &str) -> Option<[u8; 16]> {
    let mut parts = value.trim().split('-');
    let (version, trace, span, flags) =
        (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
    if version.len() != 2 || trace.len() != 32 || span.len() != 16 || flags.len() != 2 {
        return None;
    }
    let mut id = [0u8; 16];
    for (i, byte) in id.iter_mut().enumerate() {
        *byte = u8::from_str_radix(trace.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    (id != [0u8; 16]).then_some(id)
}

/// Gives each span that begins a request a trace context: its parent
/// request span's trace (an in-process call), or a new one; the caller's
/// `traceparent` replaces it (`set_parent_from`).
pub struct LocalTraceLayer;

impl<S> tracing_subscriber::Layer<S> for LocalTraceLayer
where
    S: tracing::Subscriber + for<'a> tracing_subscriber::registry::LookupSpan<'a>,
{
    fn on_new_span(
        &self,
        attrs: &tracing::span::Attributes<'_>,
        id: &tracing::span::Id,
        ctx: tracing_subscriber::layer::Context<'_, S>,
    ) {
        if !REQUEST_SPANS.contains(&attrs.metadata().name()) {
            return;
        }
        let Some(span) = ctx.span(id) else { return };
        let inherited = span
            .scope()
            .skip(1)
            .find_map(|s| s.extensions().get::<LocalTrace>().map(|t| t.trace_id));
        let trace_id = inherited.unwrap_or_else(LocalTrace::random_trace_id);
        span.extensions_mut().insert(LocalTrace {
            trace_id,
            span_id: LocalTrace::random_span_id(),
        });
    }
}

/// The trace context of the nearest request span, from the current one up.
fn local_trace() -> Option<LocalTrace> {
    use tracing_subscriber::registry::LookupSpan;
    let current = tracing::Span::current();
    tracing::dispatcher::get_default(|dispatch| {
        let registry = dispatch.downcast_ref::<tracing_subscriber::Registry>()?;
        let span = registry.span(&current.id()?)?;
        span.scope()
            .find_map(|s| s.extensions().get::<LocalTrace>().copied())
    })
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
    let trace_filter = EnvFilter::from_str(TRACE_FILTER)?;
    let traces = match spans {
        // Each attribute and timer here is paid on every span: busy/idle
        // timing (clock reads per enter/exit), source locations, threads.
        TraceSpans::All => tracing_opentelemetry::layer()
            .with_tracer(provider.tracer("gearshift"))
            .with_tracked_inactivity(false)
            .with_location(false)
            .with_threads(false)
            .with_filter(trace_filter)
            .boxed(),
        TraceSpans::Requests => LocalTraceLayer.with_filter(trace_filter).boxed(),
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
    Ok(tracing_subscriber::registry().with(traces).with(logs))
}

/// The current trace id (32 hex digits), or empty when there is none.
pub fn current_trace_id() -> String {
    if let Some(trace) = local_trace() {
        return crate::idempotency::hex(&trace.trace_id);
    }
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
    if let Some(trace) = local_trace() {
        if let Ok(value) = tonic::metadata::MetadataValue::try_from(trace.traceparent()) {
            metadata.insert("traceparent", value);
        }
        return;
    }
    let cx = current_context();
    TraceContextPropagator::new().inject_context(&cx, &mut MetadataInjector(metadata));
}

/// Makes `span` a child of the trace context in incoming headers, if any.
pub fn set_parent_from(span: &tracing::Span, headers: &http::HeaderMap) {
    let caller = headers
        .get("traceparent")
        .and_then(|v| v.to_str().ok())
        .and_then(parse_traceparent);
    let continued = tracing::dispatcher::get_default(|dispatch| {
        use tracing_subscriber::registry::LookupSpan;
        let registry = dispatch.downcast_ref::<tracing_subscriber::Registry>()?;
        let span = registry.span(&span.id()?)?;
        let mut extensions = span.extensions_mut();
        let trace = extensions.get_mut::<LocalTrace>()?;
        if let Some(trace_id) = caller {
            trace.trace_id = trace_id;
        }
        Some(())
    });
    if continued.is_some() {
        return;
    }
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
    fn trace_ids_are_distinct_across_requests_and_threads() {
        let mut seen = std::collections::HashSet::new();
        for _ in 0..10_000 {
            let id = LocalTrace::random_trace_id();
            assert_ne!(id, [0u8; 16]);
            assert!(seen.insert(id), "a trace id came twice");
        }
        let other: Vec<[u8; 16]> =
            std::thread::spawn(|| (0..10_000).map(|_| LocalTrace::random_trace_id()).collect())
                .join()
                .unwrap();
        assert!(
            other.iter().all(|id| seen.insert(*id)),
            "threads repeat ids"
        );
        let trace = LocalTrace {
            trace_id: [0xab; 16],
            span_id: [0x01; 8],
        };
        assert_eq!(
            trace.traceparent(),
            format!("00-{}-{}-01", "ab".repeat(16), "01".repeat(8))
        );
        assert_eq!(parse_traceparent(&trace.traceparent()), Some([0xab; 16]));
    }

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
    fn a_callers_traceparent_is_continued_and_passed_on() {
        let provider = SdkTracerProvider::builder().build();
        for spans in [TraceSpans::Requests, TraceSpans::All] {
            let subscriber =
                subscriber(LogFormat::Text, "off", &provider, spans, std::io::sink).unwrap();
            tracing::subscriber::with_default(subscriber, || {
                let trace = "4bf92f3577b34da6a3ce929d0e0e4736";
                let mut headers = http::HeaderMap::new();
                headers.insert(
                    "traceparent",
                    format!("00-{trace}-00f067aa0ba902b7-01").parse().unwrap(),
                );
                let span = tracing::info_span!("http.request");
                set_parent_from(&span, &headers);
                let _entered = span.enter();
                assert_eq!(current_trace_id(), trace, "{spans:?}");
                let mut metadata = tonic::metadata::MetadataMap::new();
                inject(&mut metadata);
                let sent = metadata.get("traceparent").unwrap().to_str().unwrap();
                assert!(
                    sent.starts_with(&format!("00-{trace}-")),
                    "{spans:?}: {sent}"
                );
                // The next hop's request span continues it.
                let hop = tracing::info_span!("grpc.server");
                let _hop = hop.enter();
                assert_eq!(current_trace_id(), trace, "{spans:?}");
            });
        }
        assert_eq!(
            parse_traceparent("00-00000000000000000000000000000000-00f067aa0ba902b7-01"),
            None
        );
        assert_eq!(parse_traceparent("garbage"), None);
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
