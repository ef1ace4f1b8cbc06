//! The frame every gRPC target runs in: one listener serving the service's
//! gRPC API, the gRPC health protocol and reflection, and plain HTTP
//! `/healthz`, `/readyz` and `/metrics` (HTTP/1 is accepted for those), with
//! a span and RED metrics per call and a graceful drain on shutdown.

use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use axum::http::StatusCode;
use axum::response::IntoResponse;
use futures_util::future::BoxFuture;
use tokio::net::TcpListener;
use tonic::service::Routes;
use tonic::transport::server::TcpIncoming;
use tonic_health::ServingStatus;

use crate::shutdown::Shutdown;
use crate::telemetry;

/// Answers whether the target can do its work (database reachable, the
/// services it calls reachable); the error says what is missing.
pub type ReadinessCheck = Arc<dyn Fn() -> BoxFuture<'static, Result<(), String>> + Send + Sync>;

/// Binds a listener; port 0 picks a free one (tests).
pub async fn bind(addr: SocketAddr) -> anyhow::Result<(TcpListener, SocketAddr)> {
    let listener = TcpListener::bind(addr)
        .await
        .map_err(|e| anyhow::anyhow!("cannot listen on {addr}: {e}"))?;
    let local = listener.local_addr()?;
    Ok((listener, local))
}

/// How a service that owns a database runs: `routes` served on `listener`
/// (ready while the database answers a ping), expired idempotency keys
/// purged in the background, and, once in-flight calls have drained after
/// `shutdown`, the service's own `background` tasks stopped before the
/// database is closed.
pub async fn serve_with_db(
    listener: TcpListener,
    routes: Routes,
    grpc_names: &[&str],
    db: crate::db::Db,
    background: Vec<tokio::task::JoinHandle<()>>,
    shutdown: Shutdown,
) -> anyhow::Result<()> {
    let probe = db.clone();
    let readiness: ReadinessCheck = Arc::new(move || {
        let db = probe.clone();
        Box::pin(async move { db.ping().await.map_err(|e| format!("database: {e}")) })
    });
    let maintenance = tokio::spawn(crate::idempotency::purge_periodically(
        db.clone(),
        shutdown.clone(),
    ));
    let result = serve_grpc(listener, routes, grpc_names, readiness, shutdown).await;
    maintenance.abort();
    for task in background {
        task.abort();
    }
    db.close().await;
    result
}

/// Serves `routes` (the service's own gRPC services) on `listener` until
/// `shutdown`, then drains in-flight calls. `grpc_names` are the full
/// service names reported SERVING by the health protocol.
pub async fn serve_grpc(
    listener: TcpListener,
    routes: Routes,
    grpc_names: &[&str],
    readiness: ReadinessCheck,
    shutdown: Shutdown,
) -> anyhow::Result<()> {
    crate::metrics::handle();
    let (reporter, health) = tonic_health::server::health_reporter();
    reporter
        .set_service_status("", ServingStatus::Serving)
        .await;
    for name in grpc_names {
        reporter
            .set_service_status(*name, ServingStatus::Serving)
            .await;
    }
    // Reflection in both versions: grpcurl and current tools speak v1, while
    // Python's grpcio-reflection, older grpcurl and IDE plugins ask v1alpha.
    let reflection = || {
        tonic_reflection::server::Builder::configure()
            .register_encoded_file_descriptor_set(gearshift_proto::FILE_DESCRIPTOR_SET)
            .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
    };
    let reflection_v1 = reflection().build_v1()?;
    let reflection_v1alpha = reflection().build_v1alpha()?;

    let admin = admin_router(readiness);
    let routes = routes
        .add_service(health)
        .add_service(reflection_v1)
        .add_service(reflection_v1alpha)
        .into_axum_router()
        .merge(admin);

    // Nagle's algorithm plus delayed ACKs add ~40 ms to small loopback calls.
    let incoming = TcpIncoming::from(listener).with_nodelay(Some(true));
    let drain = shutdown.clone();
    let names: Vec<String> = grpc_names.iter().map(|n| n.to_string()).collect();
    let on_shutdown = async move {
        drain.wait().await;
        reporter
            .set_service_status("", ServingStatus::NotServing)
            .await;
        for name in names {
            reporter
                .set_service_status(name, ServingStatus::NotServing)
                .await;
        }
    };
    tonic::transport::Server::builder()
        // Plain HTTP/1 for /healthz, /readyz and /metrics probes and curl.
        .accept_http1(true)
        .trace_fn(grpc_span)
        .layer(RedMetricsLayer)
        .add_routes(Routes::from(routes))
        .serve_with_incoming_shutdown(incoming, on_shutdown)
        .await?;
    Ok(())
}

/// A target's gRPC services for another target in this process: the same
/// handlers, interceptors (the principal check), per-call span, method name
/// and RED metrics as over the network, without a socket, HTTP/2 framing or
/// the hand-off between connection tasks. A deadline is the caller's: when
/// it drops the call, the handler's future is dropped with it, and an open
/// transaction rolls back.
pub fn local_service(routes: Routes) -> crate::target::LocalService {
    crate::target::LocalService::new(RedMetrics {
        inner: routes.prepare(),
        span: true,
    })
}

/// `/healthz` (the process is alive), `/readyz` (it can serve), `/metrics`.
pub fn admin_router(readiness: ReadinessCheck) -> axum::Router {
    axum::Router::new()
        .route("/healthz", axum::routing::get(|| async { "ok\n" }))
        .route(
            "/readyz",
            axum::routing::get(move || {
                let check = readiness.clone();
                async move {
                    match check().await {
                        Ok(()) => (StatusCode::OK, "ready\n".to_string()).into_response(),
                        Err(why) => (
                            StatusCode::SERVICE_UNAVAILABLE,
                            format!("not ready: {why}\n"),
                        )
                            .into_response(),
                    }
                }
            }),
        )
        .route(
            "/metrics",
            axum::routing::get(|| async {
                (
                    [(http::header::CONTENT_TYPE, "text/plain; version=0.0.4")],
                    crate::metrics::render(),
                )
            }),
        )
}

/// One span per call, continuing the caller's trace (`traceparent`).
fn grpc_span(request: &http::Request<()>) -> tracing::Span {
    call_span(request.uri().path(), request.headers())
}

fn call_span(path: &str, headers: &http::HeaderMap) -> tracing::Span {
    let span = tracing::info_span!(
        "grpc.server",
        otel.name = %path.trim_start_matches('/'),
        otel.kind = "server",
        rpc.system = "grpc",
    );
    telemetry::set_parent_from(&span, headers);
    span
}

/// The full gRPC method name of a call (`/pkg.Service/Method`), put in the
/// request's extensions by the server frame: idempotency scopes come from
/// it, never from a literal in a handler.
#[derive(Debug, Clone)]
pub struct GrpcMethodName(std::sync::Arc<str>);

impl GrpcMethodName {
    pub fn new(path: &str) -> Self {
        Self(path.into())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Records the call's [`GrpcMethodName`], and
/// `grpc_server_requests_total` and `grpc_server_duration_seconds`
/// per method and status code.
#[derive(Clone, Copy, Debug)]
pub struct RedMetricsLayer;

impl RedMetricsLayer {
    /// Wraps a gRPC service served in-process (not through [`serve_grpc`]),
    /// so its calls get the same method name and metrics.
    pub fn wrap<S>(service: S) -> RedMetrics<S> {
        RedMetrics {
            inner: service,
            span: false,
        }
    }
}

impl<S> tower::Layer<S> for RedMetricsLayer {
    type Service = RedMetrics<S>;
    fn layer(&self, inner: S) -> Self::Service {
        // Over the network, `trace_fn` opens the call's span.
        RedMetrics { inner, span: false }
    }
}

/// `grpc_server_requests_total` and `grpc_server_duration_seconds` by method and code.
static GRPC_RED: std::sync::LazyLock<crate::metrics::Red> = std::sync::LazyLock::new(|| {
    crate::metrics::Red::new(
        "grpc_server_requests_total",
        "grpc_server_duration_seconds",
        "method",
        "code",
    )
});

#[derive(Clone, Debug)]
pub struct RedMetrics<S> {
    inner: S,
    /// Open the call's `grpc.server` span here (calls made in-process, which
    /// no server's `trace_fn` sees).
    span: bool,
}

impl<S, B, ResBody> tower::Service<http::Request<B>> for RedMetrics<S>
where
    S: tower::Service<http::Request<B>, Response = http::Response<ResBody>>,
    S::Future: Send + 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<S::Response, S::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: http::Request<B>) -> Self::Future {
        let method = request.uri().path().to_string();
        request
            .extensions_mut()
            .insert(GrpcMethodName(method.as_str().into()));
        let grpc = request
            .headers()
            .get(http::header::CONTENT_TYPE)
            .is_some_and(|v| v.as_bytes().starts_with(b"application/grpc"));
        let span = self
            .span
            .then(|| call_span(request.uri().path(), request.headers()));
        let started = Instant::now();
        let future = self.inner.call(request);
        let future = async move {
            let result = future.await;
            if grpc {
                // Errors come back trailers-only, so the status is in the
                // headers; a success carries it in trailers (always 0 then).
                let code = match &result {
                    Ok(response) => response
                        .headers()
                        .get("grpc-status")
                        .and_then(|v| v.to_str().ok())
                        .and_then(|v| v.parse().ok())
                        .unwrap_or(0),
                    Err(_) => 2,
                };
                GRPC_RED.record(&method, code, started.elapsed());
            }
            result
        };
        match span {
            Some(span) => Box::pin(tracing::Instrument::instrument(future, span)),
            None => Box::pin(future),
        }
    }
}

/// Runs `serve` and, once `shutdown` fires, gives it `grace` to drain before
/// giving up on stragglers.
pub async fn with_drain_deadline<F>(
    serve: F,
    shutdown: Shutdown,
    grace: Duration,
) -> anyhow::Result<()>
where
    F: Future<Output = anyhow::Result<()>>,
{
    tokio::pin!(serve);
    tokio::select! {
        r = &mut serve => r,
        _ = async { shutdown.wait().await; tokio::time::sleep(grace).await } => {
            tracing::warn!(?grace, "drain deadline passed; closing remaining connections");
            Ok(())
        }
    }
}
