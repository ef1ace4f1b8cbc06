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

// ---- in a real browser -------------------------------------------------------
//
// Headless Chromium (Debian's `chromium`; `.ci/run` installs it when missing)
// loads pages and prints the DOM once their scripts have run. Without a
// browser these tests say so and pass, unless GEARSHIFT_TEST_REQUIRE_BROWSER=1
// (CI), where a missing browser fails the run.

const REQUIRE_BROWSER_VAR: &str = "GEARSHIFT_TEST_REQUIRE_BROWSER";

fn browser() -> Option<std::path::PathBuf> {
    let found = ["chromium", "chromium-browser", "google-chrome"]
        .iter()
        .filter_map(|name| {
            std::env::var_os("PATH").and_then(|paths| {
                std::env::split_paths(&paths)
                    .map(|dir| dir.join(name))
                    .find(|p| p.is_file())
            })
        })
        .next();
    if found.is_none() {
        if std::env::var(REQUIRE_BROWSER_VAR).is_ok_and(|v| v == "1") {
            panic!("{REQUIRE_BROWSER_VAR}=1 but no chromium on PATH");
        }
        eprintln!("skipping: install chromium to run the browser tests");
    }
    found
}

/// The page at `url` as the browser leaves it after its scripts ran.
async fn rendered(browser: &std::path::Path, url: String) -> String {
    let browser = browser.to_path_buf();
    tokio::task::spawn_blocking(move || {
        let profile = tempfile::tempdir().unwrap();
        let output = std::process::Command::new(browser)
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-extensions",
                "--no-first-run",
                "--virtual-time-budget=15000",
                "--dump-dom",
            ])
            .arg(format!("--user-data-dir={}", profile.path().display()))
            .arg(&url)
            .output()
            .expect("the browser runs");
        String::from_utf8_lossy(&output.stdout).into_owned()
    })
    .await
    .unwrap()
}

/// Serves `page` (set later) to every request: a site on its own origin.
async fn site() -> (String, std::sync::Arc<std::sync::Mutex<String>>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let origin = format!("http://{}", listener.local_addr().unwrap());
    let page = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
    let served = page.clone();
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            let body = served.lock().unwrap().clone();
            tokio::spawn(async move {
                let mut head = vec![0u8; 4096];
                let _ = stream.read(&mut head).await;
                let response = format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\n\
                     Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = stream.write_all(response.as_bytes()).await;
            });
        }
    });
    (origin, page)
}

/// A frontend's page: registers a company with the key, then reads it back.
fn portal_page(api: &str, key: &str, number: &str) -> String {
    format!(
        r#"<!doctype html><html><head><meta charset="utf-8"></head><body>
<pre id="result">pending</pre>
<script>
(async () => {{
  const out = document.getElementById('result');
  try {{
    const auth = {{'Authorization': 'Bearer {key}'}};
    const created = await fetch('{api}/v1/suppliers', {{
      method: 'POST',
      headers: {{...auth, 'Content-Type': 'application/json', 'Idempotency-Key': 'browser-{number}'}},
      body: JSON.stringify({{businessNumber: '{number}', legalName: '브라우저 부품'}}),
    }});
    const supplier = await created.json();
    const read = await fetch('{api}/v1/suppliers/' + supplier.id, {{headers: auth}});
    const again = await read.json();
    out.textContent = ['created', created.status, supplier.id, 'read', read.status,
                       again.legalName, 'etag', read.headers.get('ETag')].join(' ');
  }} catch (e) {{
    out.textContent = 'refused ' + e.name;
  }}
}})();
</script></body></html>"#
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_a_browser_the_reference_page_lists_every_operation() {
    let Some(browser) = browser() else { return };
    let app = spawn_app(Engine::Sqlite).await;
    let doc = app.openapi().await;

    let dom = rendered(&browser, format!("{}/docs", app.base)).await;

    let mut listed = 0;
    for operations in doc["paths"].as_object().unwrap().values() {
        for op in operations.as_object().unwrap().values() {
            let id = op["operationId"].as_str().unwrap();
            assert!(
                dom.contains(&format!("operation/{id}")),
                "{id} not on the page"
            );
            listed += 1;
        }
    }
    assert!(listed > 20, "{listed} operations");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_a_browser_an_allowed_origin_works_and_another_is_refused() {
    let Some(browser) = browser() else { return };
    let (allowed, allowed_page) = site().await;
    let (other, other_page) = site().await;
    let dir = tempfile::tempdir().unwrap();
    let mut args = test_args(Engine::Sqlite, dir.path()).await;
    args.gateway.cors_origins = vec![allowed.clone()];
    let app = spawn_with(args, dir).await;
    *allowed_page.lock().unwrap() = portal_page(&app.base, &app.admin_key, NAVER);
    *other_page.lock().unwrap() = portal_page(&app.base, &app.admin_key, KAKAO);

    let dom = rendered(&browser, allowed.clone()).await;
    assert!(
        dom.contains("created 200 sup_") && dom.contains("read 200 브라우저 부품 etag \"r1\""),
        "{allowed}: {dom}"
    );

    let dom = rendered(&browser, other.clone()).await;
    assert!(dom.contains("refused TypeError"), "{other}: {dom}");
    // The preflight was refused, so the browser never sent the write.
    let number = app
        .get(
            "/v1/suppliers:lookup?businessNumber=120-81-47521",
            &app.admin_key,
        )
        .await;
    assert_eq!(number.status, 404, "{}", number.text);
}
