//! The door for browsers: CORS for frontends on other origins, and the
//! human-readable API reference at `/docs`.
//!
//! CORS follows the Fetch standard. A preflight (`OPTIONS` with `Origin` and
//! `Access-Control-Request-Method`) from an allowed origin is answered for
//! every routed path with the methods that path serves and the headers the
//! API reads; actual responses to an allowed origin carry
//! `Access-Control-Allow-Origin` and expose `ETag` to scripts. Origins not
//! on the list get no CORS headers, so their browser refuses the response.
//! The reference page is Redoc, served from the binary (`assets/redoc`): the
//! machine that runs the gateway may have no internet.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http::{HeaderValue, Method, StatusCode, header};

use crate::GatewayState;
use crate::problem::Problem;

/// The headers a browser may send to the API (beyond the CORS-safelisted).
const ALLOWED_HEADERS: &str = "Authorization, Content-Type, Idempotency-Key, If-Match, traceparent";
/// Response headers scripts may read.
const EXPOSED_HEADERS: &str = "ETag";
/// How long a browser may cache a preflight answer, in seconds.
const MAX_AGE: &str = "600";

/// Which origins may call the API from a browser.
#[derive(Debug, Clone, Default)]
pub struct CorsPolicy {
    origins: Vec<String>,
    any: bool,
    credentials: bool,
}

impl CorsPolicy {
    /// `origins` as configured (`https://portal.example.kr`, or `*`).
    /// `*` together with credentials is refused: browsers reject it, and
    /// it would hand every site the callers' cookies.
    pub fn new(origins: &[String], credentials: bool) -> Result<Self, String> {
        let mut policy = CorsPolicy {
            credentials,
            ..Default::default()
        };
        for origin in origins.iter().map(|o| o.trim()).filter(|o| !o.is_empty()) {
            if origin == "*" {
                policy.any = true;
                continue;
            }
            let valid = (origin.starts_with("http://") || origin.starts_with("https://"))
                && !origin.ends_with('/')
                && origin
                    .split("://")
                    .nth(1)
                    .is_some_and(|h| !h.is_empty() && !h.contains('/'));
            if !valid {
                return Err(format!(
                    "CORS origin {origin:?} must be scheme://host[:port], e.g. https://portal.example.kr"
                ));
            }
            policy.origins.push(origin.to_string());
        }
        if policy.any && credentials {
            return Err(
                "CORS origin `*` cannot be combined with credentials; list the origins".into(),
            );
        }
        Ok(policy)
    }

    fn allows(&self, origin: &str) -> bool {
        self.any || self.origins.iter().any(|o| o == origin)
    }

    /// `Access-Control-Allow-Origin` and friends for an allowed origin.
    fn decorate(&self, origin: &HeaderValue, headers: &mut http::HeaderMap) {
        let value = if self.any && !self.credentials {
            HeaderValue::from_static("*")
        } else {
            origin.clone()
        };
        headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, value);
        if self.credentials {
            headers.insert(
                header::ACCESS_CONTROL_ALLOW_CREDENTIALS,
                HeaderValue::from_static("true"),
            );
        }
        headers.append(header::VARY, HeaderValue::from_static("Origin"));
    }
}

/// The CORS layer, around every route the gateway serves.
pub async fn cors(
    State(state): State<Arc<GatewayState>>,
    request: Request,
    next: Next,
) -> Response {
    let origin = request.headers().get(header::ORIGIN).cloned();
    let Some(origin) = origin else {
        return next.run(request).await;
    };
    let allowed = origin.to_str().is_ok_and(|o| state.cors.allows(o));
    let preflight = request.method() == Method::OPTIONS
        && request
            .headers()
            .contains_key(header::ACCESS_CONTROL_REQUEST_METHOD);
    if preflight {
        return preflight_answer(&state, &request, allowed.then_some(&origin));
    }
    let mut response = next.run(request).await;
    if allowed {
        let headers = response.headers_mut();
        state.cors.decorate(&origin, headers);
        headers.insert(
            header::ACCESS_CONTROL_EXPOSE_HEADERS,
            HeaderValue::from_static(EXPOSED_HEADERS),
        );
    } else {
        response
            .headers_mut()
            .append(header::VARY, HeaderValue::from_static("Origin"));
    }
    response
}

fn preflight_answer(
    state: &GatewayState,
    request: &Request,
    origin: Option<&HeaderValue>,
) -> Response {
    let Some(origin) = origin else {
        return Problem::new(
            StatusCode::FORBIDDEN,
            "CORS_ORIGIN_NOT_ALLOWED",
            "this origin may not call the API from a browser; ask an operator to add it to GEARSHIFT_CORS_ORIGINS",
        )
        .into_response();
    };
    let path = request.uri().path();
    let methods: Vec<Method> = match crate::routes::lookup(&state.routes, &Method::OPTIONS, path) {
        crate::routes::Lookup::MethodNotAllowed(methods) => methods,
        _ if matches!(path, "/openapi.json" | "/docs" | "/healthz" | "/readyz") => {
            vec![Method::GET]
        }
        _ => {
            return Problem::new(
                StatusCode::NOT_FOUND,
                "ROUTE_NOT_FOUND",
                format!("no route for {path}; the API is described at /openapi.json"),
            )
            .into_response();
        }
    };
    let list: Vec<&str> = methods.iter().map(Method::as_str).collect();
    let mut response = StatusCode::NO_CONTENT.into_response();
    let headers = response.headers_mut();
    state.cors.decorate(origin, headers);
    if let Ok(v) = HeaderValue::from_str(&list.join(", ")) {
        headers.insert(header::ACCESS_CONTROL_ALLOW_METHODS, v);
    }
    headers.insert(
        header::ACCESS_CONTROL_ALLOW_HEADERS,
        HeaderValue::from_static(ALLOWED_HEADERS),
    );
    headers.insert(
        header::ACCESS_CONTROL_MAX_AGE,
        HeaderValue::from_static(MAX_AGE),
    );
    response
}

const REDOC: &[u8] = include_bytes!("../assets/redoc/redoc.standalone.js");

/// `/docs`: the API reference, rendered in the browser from `/openapi.json`.
pub async fn docs_page() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        r#"<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>Gearshift API reference</title>
  <style>body { margin: 0; }</style>
</head>
<body>
  <redoc spec-url="/openapi.json" hide-download-button="false"></redoc>
  <script src="/docs/redoc.standalone.js"></script>
</body>
</html>
"#,
    )
}

/// The renderer's script, from the binary.
pub async fn docs_script() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=86400"),
        ],
        REDOC,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_are_checked_and_a_wildcard_never_goes_with_credentials() {
        let list = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let policy = CorsPolicy::new(&list(&["https://portal.example.kr", " "]), true).unwrap();
        assert!(policy.allows("https://portal.example.kr"));
        assert!(!policy.allows("https://evil.example"));
        assert!(!CorsPolicy::default().allows("https://portal.example.kr"));
        assert!(
            CorsPolicy::new(&list(&["*"]), false)
                .unwrap()
                .allows("https://any.example")
        );
        let err = CorsPolicy::new(&list(&["*"]), true).unwrap_err();
        assert!(err.contains("credentials"), "{err}");
        for bad in [
            "portal.example.kr",
            "https://portal.example.kr/",
            "https://",
            "ftp://x",
        ] {
            assert!(CorsPolicy::new(&list(&[bad]), false).is_err(), "{bad}");
        }
    }
}
