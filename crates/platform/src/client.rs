//! Calling another target's gRPC services: in this process when it runs
//! here (its tonic routes as a tower service, no socket), over the network
//! otherwise; the same checks either way. Each call carries the caller's
//! principal, a deadline and the trace context (`outgoing`).

use std::time::Duration;

use anyhow::Context as _;
use bytes::Bytes;
use tonic::metadata::{Ascii, MetadataValue};
use tonic::transport::Channel;

use crate::principal::METADATA_KEY;
use crate::target::Endpoint;

/// A gRPC service another target serves, over the network or in-process:
/// what a generated tonic client is built on
/// (`SupplierRegistryClient::new(backend)`).
pub type Backend = tower::util::BoxCloneSyncService<
    http::Request<tonic::body::Body>,
    http::Response<tonic::body::Body>,
    BackendError,
>;

/// A transport failure reaching a backend, carried as an UNAVAILABLE
/// status so tonic's client finds it in the error's source chain and the
/// caller gets 503, not 500 UNKNOWN. (A concrete type rather than a boxed
/// `dyn Error`: with the latter, proving the client future `Send` runs into
/// a compiler limitation with higher-ranked lifetimes.)
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct BackendError(#[source] tonic::Status);

impl BackendError {
    fn unreachable(cause: tower::BoxError) -> Self {
        tracing::warn!(error = %cause, "backend unreachable");
        BackendError(tonic::Status::unavailable(
            "the service behind this route is unreachable; retry shortly",
        ))
    }
}

/// Any gRPC service (a channel, or a server in this process) as a backend.
pub fn backend<S, B>(service: S) -> Backend
where
    S: tower::Service<http::Request<tonic::body::Body>, Response = http::Response<B>>
        + Clone
        + Send
        + Sync
        + 'static,
    S::Future: Send + 'static,
    S::Error: Into<tower::BoxError>,
    B: http_body::Body<Data = Bytes> + Send + 'static,
    B::Error: Into<tower::BoxError>,
{
    let service = tower::util::MapResponse::new(service, |r: http::Response<B>| {
        r.map(tonic::body::Body::new)
    });
    Backend::new(tower::util::MapErr::new(service, |e: S::Error| {
        BackendError::unreachable(e.into())
    }))
}

/// A lazily connected channel to `url`: the first call connects, and a
/// lost connection is made again on the next call.
pub fn channel(url: &str) -> anyhow::Result<Channel> {
    Ok(tonic::transport::Endpoint::from_shared(url.to_string())
        .with_context(|| {
            format!("service address {url:?} is not a URL like http://127.0.0.1:50051")
        })?
        .connect_timeout(Duration::from_secs(2))
        .tcp_nodelay(true)
        .connect_lazy())
}

/// The backend for a directory entry: the service itself when its target
/// runs in this process, else a channel to its URL.
pub fn connect(endpoint: &Endpoint) -> anyhow::Result<Backend> {
    Ok(match &endpoint.local {
        Some(local) => backend(local.clone()),
        None => backend(channel(&endpoint.url)?),
    })
}

/// A request to another service on behalf of the caller of `incoming`:
/// the same signed principal, a deadline of `timeout` (or the caller's
/// own, when sooner) and the trace context.
pub fn outgoing<T, M>(
    incoming: &tonic::Request<T>,
    message: M,
    timeout: Duration,
) -> tonic::Request<M> {
    let mut request = tonic::Request::new(message);
    let token: Option<&MetadataValue<Ascii>> = incoming.metadata().get(METADATA_KEY);
    if let Some(token) = token {
        request.metadata_mut().insert(METADATA_KEY, token.clone());
    }
    let remaining = incoming
        .metadata()
        .get("grpc-timeout")
        .and_then(|v| v.to_str().ok())
        .and_then(parse_grpc_timeout);
    request.set_timeout(remaining.map_or(timeout, |r| r.min(timeout)));
    crate::telemetry::inject(request.metadata_mut());
    request
}

/// `grpc-timeout` (`100m`, `5S`, …) as a duration.
fn parse_grpc_timeout(raw: &str) -> Option<Duration> {
    let (digits, unit) = raw.split_at(raw.len().checked_sub(1)?);
    let n: u64 = digits.parse().ok()?;
    Some(match unit {
        "H" => Duration::from_secs(n.checked_mul(3600)?),
        "M" => Duration::from_secs(n.checked_mul(60)?),
        "S" => Duration::from_secs(n),
        "m" => Duration::from_millis(n),
        "u" => Duration::from_micros(n),
        "n" => Duration::from_nanos(n),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grpc_timeouts_parse() {
        assert_eq!(parse_grpc_timeout("250m"), Some(Duration::from_millis(250)));
        assert_eq!(parse_grpc_timeout("5S"), Some(Duration::from_secs(5)));
        assert_eq!(parse_grpc_timeout("2M"), Some(Duration::from_secs(120)));
        assert_eq!(parse_grpc_timeout("x"), None);
        assert_eq!(parse_grpc_timeout(""), None);
    }

    #[test]
    fn the_callers_sooner_deadline_wins() {
        let mut incoming = tonic::Request::new(());
        incoming.set_timeout(Duration::from_millis(300));
        let out = outgoing(&incoming, (), Duration::from_secs(5));
        assert_eq!(
            out.metadata()
                .get("grpc-timeout")
                .and_then(|v| v.to_str().ok()),
            Some("300000u")
        );
        let out = outgoing(&tonic::Request::new(()), (), Duration::from_secs(5));
        assert_eq!(
            out.metadata()
                .get("grpc-timeout")
                .and_then(|v| v.to_str().ok()),
            Some("5000000u")
        );
    }
}
