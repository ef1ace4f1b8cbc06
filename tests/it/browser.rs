//! The door for browsers: CORS for pages on other origins, and the API
//! reference at `/docs`. The same rules in a real browser are in
//! `browser_real`.

use reqwest::Method;

use crate::common::*;

const PORTAL: &str = "https://portal.example.kr";

async fn spawn_with_cors(origins: &[&str]) -> TestApp {
    let dir = tempfile::tempdir().unwrap();
    let mut args = test_args(Engine::Sqlite, dir.path()).await;
    args.gateway.cors_origins = origins.iter().map(|s| s.to_string()).collect();
    spawn_with(args, dir).await
}

fn header<'a>(r: &'a reqwest::Response, name: &str) -> Option<&'a str> {
    r.headers().get(name).and_then(|v| v.to_str().ok())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_preflight_from_an_allowed_origin_names_the_paths_methods_and_headers() {
    let app = spawn_with_cors(&[PORTAL]).await;

    for (path, expected) in [
        ("/v1/suppliers", vec!["GET", "POST"]),
        (
            "/v1/suppliers/sup_01m8gc4vy40mf450tzes33dn7x",
            vec!["GET", "PATCH"],
        ),
        (
            "/v1/apiKeys/key_01m8gc4vy40mf450tzes33dn7x:revoke",
            vec!["POST"],
        ),
    ] {
        let r = app
            .client
            .request(Method::OPTIONS, format!("{}{path}", app.base))
            .header("Origin", PORTAL)
            .header("Access-Control-Request-Method", expected[0])
            .header(
                "Access-Control-Request-Headers",
                "authorization, content-type, idempotency-key",
            )
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 204, "{path}");
        assert_eq!(header(&r, "access-control-allow-origin"), Some(PORTAL));
        let mut methods: Vec<&str> = header(&r, "access-control-allow-methods")
            .unwrap()
            .split(", ")
            .collect();
        methods.sort();
        assert_eq!(methods, expected, "{path}");
        let allowed = header(&r, "access-control-allow-headers")
            .unwrap()
            .to_lowercase();
        for h in [
            "authorization",
            "content-type",
            "idempotency-key",
            "if-match",
            "traceparent",
        ] {
            assert!(allowed.contains(h), "{path}: {h} in {allowed}");
        }
        assert!(header(&r, "access-control-allow-credentials").is_none());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_allowed_origin_reads_responses_and_their_etag() {
    let app = spawn_with_cors(&[PORTAL]).await;
    let created = app.create_supplier(SAMSUNG, "광주정밀").await;

    let r = app
        .client
        .get(format!(
            "{}/v1/suppliers/{}",
            app.base,
            created["id"].as_str().unwrap()
        ))
        .bearer_auth(&app.admin_key)
        .header("Origin", PORTAL)
        .send()
        .await
        .unwrap();

    assert_eq!(r.status(), 200);
    assert_eq!(header(&r, "access-control-allow-origin"), Some(PORTAL));
    assert_eq!(header(&r, "access-control-expose-headers"), Some("ETag"));
    assert!(header(&r, "vary").unwrap_or_default().contains("Origin"));
    assert_eq!(header(&r, "etag"), Some("\"r1\""));
    // Errors too: a script must be able to read the problem document.
    let r = app
        .client
        .get(format!("{}/v1/suppliers", app.base))
        .header("Origin", PORTAL)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    assert_eq!(header(&r, "access-control-allow-origin"), Some(PORTAL));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_origin_gets_no_cors_headers_and_its_preflight_is_refused() {
    for app in [spawn_with_cors(&[PORTAL]).await, spawn_with_cors(&[]).await] {
        let preflight = app
            .client
            .request(Method::OPTIONS, format!("{}/v1/suppliers", app.base))
            .header("Origin", "https://evil.example")
            .header("Access-Control-Request-Method", "POST")
            .send()
            .await
            .unwrap();
        assert_eq!(preflight.status(), 403);
        assert!(header(&preflight, "access-control-allow-origin").is_none());

        let r = app
            .client
            .get(format!("{}/v1/suppliers", app.base))
            .bearer_auth(&app.admin_key)
            .header("Origin", "https://evil.example")
            .send()
            .await
            .unwrap();
        assert!(header(&r, "access-control-allow-origin").is_none());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wildcard_with_credentials_is_refused_at_start() {
    let dir = tempfile::tempdir().unwrap();
    let mut args = test_args(Engine::Sqlite, dir.path()).await;
    args.gateway.cors_origins = vec!["*".into()];
    args.gateway.cors_allow_credentials = true;
    let err = gearshift::Platform::build(&args)
        .await
        .err()
        .expect("refused");
    assert!(err.to_string().contains("GEARSHIFT_CORS_ORIGINS"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_reference_page_and_its_renderer_are_served_without_a_key() {
    let app = spawn_app(Engine::Sqlite).await;
    let page = app
        .client
        .get(format!("{}/docs", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    assert!(
        header(&page, "content-type")
            .unwrap()
            .starts_with("text/html")
    );
    let html = page.text().await.unwrap();
    assert!(html.contains("spec-url=\"/openapi.json\""));
    assert!(html.contains("src=\"/docs/redoc.standalone.js\""), "no CDN");
    let script = app
        .client
        .get(format!("{}/docs/redoc.standalone.js", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(script.status(), 200);
    assert!(
        header(&script, "content-type")
            .unwrap()
            .starts_with("text/javascript")
    );
    assert!(script.bytes().await.unwrap().len() > 500_000);
}
