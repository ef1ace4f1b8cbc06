//! REST ⇄ gRPC transcoding driven by the descriptors, with no handler per
//! endpoint (the way grpc-gateway and Envoy's transcoder work).
//!
//! A request is turned into one JSON object for the RPC's input message —
//! the body (or the body field), then path variables, then query parameters
//! — and parsed once with proto3 JSON rules, unknown fields refused. The
//! message goes to the owning service as raw protobuf over gRPC with the
//! caller's signed principal, `Idempotency-Key`, `If-Match`, the trace
//! context and a deadline; the reply comes back as proto3 JSON.

// A `Problem` is the error half of most results here; it is built once per
// failed request, so its size costs nothing that matters.
#![allow(clippy::result_large_err)]

use std::time::{Duration, Instant};

use axum::response::{IntoResponse, Response};
use bytes::{Buf, Bytes};
use http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use prost::Message as _;
use prost_reflect::{DeserializeOptions, DynamicMessage, Kind, MessageDescriptor};
use serde::Serialize as _;
use serde_json::{Map, Value};
use tonic::codec::{Codec, DecodeBuf, Decoder, EncodeBuf, Encoder};
use tonic::metadata::{MetadataMap, MetadataValue};

use crate::problem::{Problem, Violation};
use crate::routes::{BodyRule, Route};
use crate::{Backend, GatewayState};

/// `http_server_requests_total` and `http_server_duration_seconds` by route and status.
static HTTP_RED: std::sync::LazyLock<gearshift_platform::metrics::Red> =
    std::sync::LazyLock::new(|| {
        gearshift_platform::metrics::Red::new(
            "http_server_requests_total",
            "http_server_duration_seconds",
            "route",
            "status",
        )
    });

/// Handles every request that is not one of the gateway's own pages.
pub async fn handle(state: &GatewayState, request: http::Request<axum::body::Body>) -> Response {
    let started = Instant::now();
    let span = tracing::info_span!(
        "http.request",
        otel.name = %request.method(),
        otel.kind = "server",
        http.request.method = %request.method(),
        http.route = tracing::field::Empty,
        http.response.status_code = tracing::field::Empty,
    );
    gearshift_platform::telemetry::set_parent_from(&span, request.headers());
    let (response, route) =
        tracing::Instrument::instrument(route_and_call(state, request), span.clone()).await;
    span.record("http.response.status_code", response.status().as_u16());
    HTTP_RED.record(
        route.unwrap_or("unmatched"),
        response.status().as_u16(),
        started.elapsed(),
    );
    response
}

/// Finds the route and calls it; returns the response and the route's template.
async fn route_and_call(
    state: &GatewayState,
    request: http::Request<axum::body::Body>,
) -> (Response, Option<&str>) {
    let (parts, body) = request.into_parts();
    let (route, bound) = match crate::routes::lookup(&state.routes, &parts.method, parts.uri.path())
    {
        crate::routes::Lookup::Found(route, bound) => (route, bound),
        crate::routes::Lookup::MethodNotAllowed(allowed) => {
            let allow: Vec<&str> = allowed.iter().map(Method::as_str).collect();
            let problem = Problem::new(
                StatusCode::METHOD_NOT_ALLOWED,
                "METHOD_NOT_ALLOWED",
                format!(
                    "{} is not allowed here; allowed: {}",
                    parts.method,
                    allow.join(", ")
                ),
            )
            .with_header(header::ALLOW, &allow.join(", "));
            return (problem.into_response(), None);
        }
        crate::routes::Lookup::NotFound => {
            let problem = Problem::new(
                StatusCode::NOT_FOUND,
                "ROUTE_NOT_FOUND",
                format!(
                    "no route for {} {}; the API is described at /openapi.json",
                    parts.method,
                    parts.uri.path()
                ),
            );
            return (problem.into_response(), None);
        }
    };
    let span = tracing::Span::current();
    span.record("otel.name", route.span_name.as_str());
    span.record("http.route", route.template.raw.as_str());
    let response = match call(state, route, bound, &parts, body).await {
        Ok(response) => response,
        Err(problem) => problem.into_response(),
    };
    (response, Some(route.template.raw.as_str()))
}

async fn call(
    state: &GatewayState,
    route: &Route,
    bound: Vec<(Vec<String>, String)>,
    parts: &http::request::Parts,
    body: axum::body::Body,
) -> Result<Response, Problem> {
    // A public method is called as the anonymous principal unless a key is
    // sent (then the key's own view applies, drafts included).
    let principal = if route.public && !parts.headers.contains_key(header::AUTHORIZATION) {
        gearshift_platform::Principal {
            subject: "anonymous".into(),
            role: gearshift_platform::Role::Public,
        }
    } else {
        authenticate(state, &parts.headers).await?
    };
    let body = read_body(body, state.max_body_bytes).await?;
    let json = request_json(route, &bound, parts, &body)?;
    let input = parse_message(route.input(), json)?;

    let mut metadata = MetadataMap::new();
    let token = state
        .principal_key
        .sign_cached(&state.signed, &principal)
        .map_err(|_| internal("principal token"))?;
    metadata.insert(gearshift_platform::principal::METADATA_KEY, token);
    for (header, key) in [
        (
            "idempotency-key",
            gearshift_platform::idempotency::METADATA_KEY,
        ),
        ("if-match", "if-match"),
    ] {
        if let Some(value) = parts.headers.get(header) {
            let value = value
                .to_str()
                .ok()
                .and_then(|v| MetadataValue::try_from(v).ok())
                .ok_or_else(|| {
                    Problem::invalid_field(header_name(header), "must be printable ASCII")
                })?;
            metadata.insert(key, value);
        }
    }
    gearshift_platform::telemetry::inject(&mut metadata);

    let backend = state
        .backends
        .get(route.rpc.parent_service().full_name())
        .ok_or_else(|| internal("no backend for service"))?;
    let output = invoke(backend, route, input, metadata, state.request_timeout).await?;

    let desc = route.rpc.output();
    let mut buf = Vec::with_capacity(256 + output.len() * 2);
    let reply = crate::json::Reply {
        desc: &desc,
        bytes: &output,
    };
    reply
        .serialize(&mut serde_json::Serializer::new(&mut buf))
        .map_err(|e| {
            tracing::error!(error = %e, "the service's reply could not be written as JSON");
            internal("response encoding")
        })?;
    let mut response = (StatusCode::OK, buf).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    if let Some(etag) = crate::json::string_field(&desc, &output, "etag").filter(|e| !e.is_empty())
        && let Ok(v) = HeaderValue::from_str(&format!("\"{etag}\""))
    {
        headers.insert(header::ETAG, v);
    }
    Ok(response)
}

/// Reads the body up to `limit` bytes. A larger body is read on (and
/// dropped) up to 16 times the limit before the 413 goes out, so a client
/// still sending gets the answer instead of a reset connection.
async fn read_body(body: axum::body::Body, limit: usize) -> Result<Bytes, Problem> {
    use http_body_util::BodyExt;
    let mut body = body;
    let mut buf = bytes::BytesMut::new();
    let mut seen = 0usize;
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|_| Problem::invalid_field("body", "could not be read"))?;
        if let Ok(data) = frame.into_data() {
            seen += data.len();
            if seen <= limit {
                buf.extend_from_slice(&data);
            } else if seen > limit.saturating_mul(16) {
                break;
            }
        }
    }
    if seen > limit {
        return Err(Problem::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "PAYLOAD_TOO_LARGE",
            format!("the body is larger than {limit} bytes"),
        ));
    }
    Ok(buf.freeze())
}

fn header_name(h: &str) -> &'static str {
    match h {
        "idempotency-key" => "Idempotency-Key",
        _ => "If-Match",
    }
}

fn internal(what: &str) -> Problem {
    tracing::error!(what, "gateway internal error");
    Problem::new(
        StatusCode::INTERNAL_SERVER_ERROR,
        "INTERNAL",
        "internal error",
    )
}

async fn authenticate(
    state: &GatewayState,
    headers: &HeaderMap,
) -> Result<gearshift_platform::Principal, Problem> {
    let unauthorized = |detail: &str| {
        Problem::new(StatusCode::UNAUTHORIZED, "UNAUTHENTICATED", detail)
            .with_header(header::WWW_AUTHENTICATE, "Bearer realm=\"gearshift\"")
    };
    let value = headers
        .get(header::AUTHORIZATION)
        .ok_or_else(|| unauthorized("send an API key as `Authorization: Bearer <key>`"))?;
    let token = value
        .to_str()
        .ok()
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .ok_or_else(|| unauthorized("the Authorization header must be `Bearer <key>`"))?;
    state.auth.authenticate(token).await.map_err(|e| match e {
        gearshift_platform::Error::Unauthenticated(msg) => unauthorized(&msg),
        other => Problem::from_status(&tonic::Status::from(other)),
    })
}

/// The JSON object for the input message: body, path variables, query.
fn request_json(
    route: &Route,
    bound: &[(Vec<String>, String)],
    parts: &http::request::Parts,
    body: &Bytes,
) -> Result<Value, Problem> {
    let input = route.input();
    let body_value = if body.iter().all(u8::is_ascii_whitespace) {
        None
    } else {
        let is_json = parts
            .headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .map(|v| {
                let v = v.trim();
                v == "application/json" || v.ends_with("+json")
            })
            .unwrap_or(false);
        if !is_json {
            return Err(Problem::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "UNSUPPORTED_MEDIA_TYPE",
                "send the body as JSON with `Content-Type: application/json`",
            ));
        }
        let value: Value = serde_json::from_slice(body)
            .map_err(|e| Problem::invalid_field("body", format!("is not valid JSON: {e}")))?;
        Some(value)
    };

    let mut root = Map::new();
    match (&route.body, body_value) {
        (BodyRule::None, Some(_)) => {
            return Err(Problem::invalid_field(
                "body",
                format!("{} takes no body", route.http_method),
            ));
        }
        (_, None) => {}
        (BodyRule::Whole, Some(Value::Object(map))) => root = map,
        (BodyRule::Field(field), Some(Value::Object(map))) => {
            fill_update_mask(route, &input, field, &map, parts, &mut root);
            root.insert(field.json_name().to_string(), Value::Object(map));
        }
        (_, Some(_)) => return Err(Problem::invalid_field("body", "must be a JSON object")),
    }

    for (path, value) in bound {
        let json_path = json_path(&input, path).ok_or_else(|| internal("path variable"))?;
        set_path(&mut root, &json_path, Value::String(value.clone()));
    }

    if let Some(query) = parts.uri.query() {
        let pairs: Vec<(String, String)> = serde_urlencoded::from_str(query)
            .map_err(|e| Problem::invalid_field("query", format!("is malformed: {e}")))?;
        let mut violations = Vec::new();
        for (key, raw) in pairs {
            match query_value(route, &input, &key, raw) {
                Ok((json_path, value, repeated)) => {
                    if repeated {
                        push_path(&mut root, &json_path, value);
                    } else {
                        set_path(&mut root, &json_path, value);
                    }
                }
                Err(description) => violations.push(Violation {
                    field: key,
                    description,
                }),
            }
        }
        if !violations.is_empty() {
            return Err(Problem::invalid(violations));
        }
    }
    Ok(Value::Object(root))
}

/// AIP-134: without an explicit `updateMask`, update the fields present in
/// the body (less the ones that only identify or guard the record).
fn fill_update_mask(
    route: &Route,
    input: &MessageDescriptor,
    body_field: &prost_reflect::FieldDescriptor,
    body: &Map<String, Value>,
    parts: &http::request::Parts,
    root: &mut Map<String, Value>,
) {
    let Some(mask) = input.get_field_by_name("update_mask") else {
        return;
    };
    let is_mask =
        matches!(mask.kind(), Kind::Message(m) if m.full_name() == "google.protobuf.FieldMask");
    let given = parts.uri.query().is_some_and(|q| {
        q.split('&')
            .any(|kv| kv.starts_with("updateMask=") || kv.starts_with("update_mask="))
    });
    if !is_mask || given {
        return;
    }
    let bound: Vec<&str> = route
        .template
        .variables()
        .filter(|v| v.len() == 2 && v[0] == body_field.name())
        .map(|v| v[1].as_str())
        .collect();
    let Kind::Message(resource) = body_field.kind() else {
        return;
    };
    let paths: Vec<String> = body
        .keys()
        .filter_map(|k| {
            resource
                .get_field_by_json_name(k)
                .or_else(|| resource.get_field_by_name(k))
        })
        .filter(|f| f.name() != "etag" && !bound.contains(&f.name()))
        .map(|f| f.json_name().to_string())
        .collect();
    root.insert(mask.json_name().to_string(), Value::String(paths.join(",")));
}

/// Resolves a query parameter (`pageSize`, `page_size`, `filter.status`).
fn query_value(
    route: &Route,
    input: &MessageDescriptor,
    key: &str,
    raw: String,
) -> Result<(Vec<String>, Value, bool), String> {
    let mut message = input.clone();
    let mut json_path = Vec::new();
    let mut proto_path: Vec<String> = Vec::new();
    let names: Vec<&str> = key.split('.').collect();
    for (i, name) in names.iter().enumerate() {
        let field = message
            .get_field_by_json_name(name)
            .or_else(|| message.get_field_by_name(name))
            .ok_or_else(|| "is not a parameter of this endpoint".to_string())?;
        proto_path.push(field.name().to_string());
        // google.api.http: only fields the path does not bind may come from
        // the query string, so `?id=B` cannot redirect `/v1/suppliers/A`.
        if route.template.variables().any(|bound| {
            let n = bound.len().min(proto_path.len());
            bound[..n] == proto_path[..n]
        }) && i + 1 == names.len()
        {
            return Err("is set by the URL path and cannot be given as a query parameter".into());
        }
        if i == 0 {
            let in_body = match &route.body {
                BodyRule::Whole => true,
                BodyRule::Field(f) => f.name() == field.name(),
                BodyRule::None => false,
            };
            if in_body {
                return Err("belongs in the request body".into());
            }
        }
        json_path.push(field.json_name().to_string());
        let last = i + 1 == names.len();
        match field.kind() {
            Kind::Message(m) if !last && !field.is_list() && !field.is_map() => message = m,
            _ if !last => return Err("is not a parameter of this endpoint".into()),
            Kind::Bool => {
                let value = match raw.as_str() {
                    "true" => true,
                    "false" => false,
                    _ => return Err("must be true or false".into()),
                };
                return Ok((json_path, Value::Bool(value), field.is_list()));
            }
            _ if field.is_map() => return Err("cannot be set from the query string".into()),
            _ => return Ok((json_path, Value::String(raw), field.is_list())),
        }
    }
    Err("is not a parameter of this endpoint".into())
}

fn json_path(message: &MessageDescriptor, path: &[String]) -> Option<Vec<String>> {
    let mut current = message.clone();
    let mut out = Vec::new();
    for (i, name) in path.iter().enumerate() {
        let field = current.get_field_by_name(name)?;
        out.push(field.json_name().to_string());
        if i + 1 < path.len() {
            current = field.kind().as_message()?.clone();
        }
    }
    Some(out)
}

fn parent<'a>(root: &'a mut Map<String, Value>, path: &[String]) -> &'a mut Map<String, Value> {
    let mut current = root;
    for key in &path[..path.len().saturating_sub(1)] {
        let entry = current
            .entry(key.clone())
            .or_insert_with(|| Value::Object(Map::new()));
        if !entry.is_object() {
            *entry = Value::Object(Map::new());
        }
        current = match entry {
            Value::Object(map) => map,
            _ => unreachable!("made an object just above"),
        };
    }
    current
}

fn set_path(root: &mut Map<String, Value>, path: &[String], value: Value) {
    if let Some(last) = path.last() {
        parent(root, path).insert(last.clone(), value);
    }
}

fn push_path(root: &mut Map<String, Value>, path: &[String], value: Value) {
    if let Some(last) = path.last() {
        let slot = parent(root, path)
            .entry(last.clone())
            .or_insert_with(|| Value::Array(Vec::new()));
        if let Value::Array(items) = slot {
            items.push(value);
        } else {
            *slot = Value::Array(vec![value]);
        }
    }
}

/// Parses with proto3 JSON rules; a failure names the field and the reason.
fn parse_message(desc: MessageDescriptor, json: Value) -> Result<DynamicMessage, Problem> {
    let mut track = serde_path_to_error::Track::new();
    let de = serde_path_to_error::Deserializer::new(json, &mut track);
    DynamicMessage::deserialize_with_options(
        desc,
        de,
        &DeserializeOptions::new().deny_unknown_fields(true),
    )
    .map_err(|e| {
        let path = track.path().to_string();
        let mut field = if path == "." || path.is_empty() {
            String::new()
        } else {
            path
        };
        let message = e.to_string();
        // An unknown field is reported at its parent; name the field itself.
        if let Some(name) = unknown_field_name(&message) {
            field = if field.is_empty() {
                name.to_string()
            } else {
                format!("{field}.{name}")
            };
            return Problem::invalid_field(&field, "is not a field of this request");
        }
        if field.is_empty() {
            field = "body".into();
        }
        Problem::invalid_field(&field, message)
    })
}

/// The name in prost-reflect's "unrecognized field name 'x'" error.
fn unknown_field_name(message: &str) -> Option<&str> {
    let rest = message.split("unrecognized field name '").nth(1)?;
    rest.split('\'').next()
}

/// Calls the RPC with raw protobuf bytes and decodes the reply dynamically.
async fn invoke(
    backend: &Backend,
    route: &Route,
    input: DynamicMessage,
    metadata: MetadataMap,
    timeout: Duration,
) -> Result<Bytes, Problem> {
    let path = route.grpc_path.clone();
    let mut request = tonic::Request::from_parts(metadata, tonic::Extensions::default(), input);
    // The deadline travels as `grpc-timeout`; the service stops work past it.
    request.set_timeout(timeout);
    let call = unary(backend.clone(), path, request);
    let started = tokio::time::Instant::now();
    let result = tokio::time::timeout(timeout, call).await;
    // The service, or the channel, may notice the same deadline a moment
    // before our timer does, and says so in its own words (tonic: CANCELLED
    // "Timeout expired", or a wrapped transport error). Past the deadline,
    // any failure is the deadline.
    let past_deadline = started.elapsed() >= timeout;
    match result {
        Err(_) => Err(deadline_exceeded(timeout)),
        Ok(Err(_)) if past_deadline => Err(deadline_exceeded(timeout)),
        Ok(Err(status)) => {
            if status.code() == tonic::Code::Unavailable {
                tracing::warn!(service = %route.service_name(), message = status.message(), "backend unavailable");
            }
            Err(Problem::from_status(&status))
        }
        Ok(Ok(response)) => Ok(response),
    }
}

fn deadline_exceeded(timeout: Duration) -> Problem {
    Problem::new(
        StatusCode::GATEWAY_TIMEOUT,
        "DEADLINE_EXCEEDED",
        format!(
            "the service did not answer within {} ms",
            timeout.as_millis()
        ),
    )
}

async fn unary(
    backend: Backend,
    path: http::uri::PathAndQuery,
    request: tonic::Request<DynamicMessage>,
) -> Result<Bytes, tonic::Status> {
    let mut grpc = tonic::client::Grpc::new(backend);
    grpc.ready()
        .await
        .map_err(|e| tonic::Status::unavailable(format!("the service is unavailable: {e}")))?;
    let response = grpc.unary(request, path, DynamicCodec).await?;
    Ok(response.into_inner())
}

/// Sends a message known only by descriptor; keeps the reply's protobuf
/// bytes, which `json::Reply` writes as JSON without decoding them first.
#[derive(Clone)]
struct DynamicCodec;

impl Codec for DynamicCodec {
    type Encode = DynamicMessage;
    type Decode = Bytes;
    type Encoder = DynamicEncoder;
    type Decoder = RawDecoder;

    fn encoder(&mut self) -> Self::Encoder {
        DynamicEncoder
    }

    fn decoder(&mut self) -> Self::Decoder {
        RawDecoder
    }
}

struct DynamicEncoder;

impl Encoder for DynamicEncoder {
    type Item = DynamicMessage;
    type Error = tonic::Status;

    fn encode(&mut self, item: Self::Item, dst: &mut EncodeBuf<'_>) -> Result<(), Self::Error> {
        item.encode(dst)
            .map_err(|e| tonic::Status::internal(format!("encoding the request: {e}")))
    }
}

struct RawDecoder;

impl Decoder for RawDecoder {
    type Item = Bytes;
    type Error = tonic::Status;

    fn decode(&mut self, src: &mut DecodeBuf<'_>) -> Result<Option<Self::Item>, Self::Error> {
        Ok(Some(src.copy_to_bytes(src.remaining())))
    }
}
