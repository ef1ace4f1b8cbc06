//! The gateway's own surface: routes, OpenAPI, health, metrics, errors.

use crate::common::*;
use gearshift_platform::engine_tests;
use reqwest::Method;
use serde_json::Value;

engine_tests!(
    openapi_lists_exactly_the_served_routes,
    health_readiness_and_metrics_answer_without_a_key,
    unknown_routes_and_methods_are_problems,
    problems_carry_a_trace_id,
    a_request_in_flight_at_shutdown_is_answered_and_stored,
);

/// SIGTERM while a client is still sending its body: the gateway drains it,
/// and the registry it calls keeps answering until the gateway is done.
async fn a_request_in_flight_at_shutdown_is_answered_and_stored(engine: Engine) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let app = spawn_app(engine).await;
    let body = serde_json::json!({"businessNumber": KIA, "legalName": "기아 주식회사"}).to_string();
    let head = format!(
        "POST /v1/suppliers HTTP/1.1\r\nHost: gearshift\r\nAuthorization: Bearer {}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        app.admin_key,
        body.len()
    );
    let (first, rest) = body.as_bytes().split_at(body.len() / 2);
    let mut stream = tokio::net::TcpStream::connect(app.gateway_addr())
        .await
        .unwrap();
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.write_all(first).await.unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;

    app.begin_shutdown();
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    stream.write_all(rest).await.unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).await.unwrap();

    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    assert!(response.contains("\"119-81-02316\""), "{response}");
    app.stop().await.expect("every target stops cleanly");
}

async fn openapi_lists_exactly_the_served_routes(engine: Engine) {
    let app = spawn_app(engine).await;
    let doc: Value = app.openapi().await;
    assert_eq!(doc["openapi"], "3.1.0");
    let paths = doc["paths"].as_object().unwrap();
    // OpenAPI forbids two templates that differ only in variable names.
    let mut shapes = std::collections::BTreeSet::new();
    for path in paths.keys() {
        let shape: String = path
            .split('{')
            .map(|part| part.split_once('}').map_or(part, |(_, rest)| rest))
            .collect::<Vec<_>>()
            .join("{}");
        assert!(shapes.insert(shape), "{path} repeats another path's shape");
        for (_, op) in paths[path].as_object().unwrap() {
            let declared: Vec<String> = op["parameters"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|p| p["in"] == "path")
                .map(|p| format!("{{{}}}", p["name"].as_str().unwrap()))
                .collect();
            for name in declared {
                assert!(path.contains(&name), "{path} lacks {name}");
            }
        }
    }

    let mut operations = 0;
    for (path, methods) in paths {
        for (method, op) in methods.as_object().unwrap() {
            operations += 1;
            // Fill the path variables with an id of the right kind.
            let url: String = path
                .split('/')
                .map(|seg| {
                    if seg.starts_with('{') {
                        let verb = seg
                            .split_once("}:")
                            .map(|(_, v)| format!(":{v}"))
                            .unwrap_or_default();
                        let id = if path.contains("apiKeys") {
                            "key_00000000000000000000000000"
                        } else {
                            "sup_00000000000000000000000000"
                        };
                        format!("{id}{verb}")
                    } else {
                        seg.to_string()
                    }
                })
                .collect::<Vec<_>>()
                .join("/");
            let m = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            let mut rb = app.request(m, &url, Some(&app.admin_key));
            if op.get("requestBody").is_some() {
                rb = rb.json(&serde_json::json!({}));
            }
            let r = TestApp::send(rb).await;
            assert_ne!(
                r.code(),
                "ROUTE_NOT_FOUND",
                "{method} {url} is documented but not served"
            );
            assert_ne!(
                r.code(),
                "METHOD_NOT_ALLOWED",
                "{method} {url} is documented but not served"
            );
            assert!(r.status.as_u16() < 500, "{method} {url}: {}", r.text);
            assert!(
                op["operationId"].is_string()
                    && op["description"].as_str().is_some_and(|d| !d.is_empty())
            );
        }
    }
    // Every RPC with an HTTP rule has exactly one documented operation.
    let annotated = annotated_rpcs();
    assert_eq!(operations, annotated.len());
    let ids: Vec<&str> = paths
        .values()
        .flat_map(|m| m.as_object().unwrap().values())
        .map(|op| op["operationId"].as_str().unwrap())
        .collect();
    for rpc in &annotated {
        assert!(ids.contains(&rpc.as_str()), "{rpc} is not documented");
    }

    // Schemas are there for what the operations reference, with proto comments.
    let supplier = &doc["components"]["schemas"]["gearshift.registry.v1.Supplier"];
    assert_eq!(supplier["properties"]["businessNumber"]["type"], "string");
    assert_eq!(supplier["properties"]["id"]["readOnly"], true);
    assert_eq!(supplier["properties"]["createTime"]["format"], "date-time");
    assert!(
        supplier["properties"]["status"]["enum"]
            .as_array()
            .unwrap()
            .contains(&Value::from("PENDING_VERIFICATION"))
    );
    let list_params = doc["paths"]["/v1/suppliers"]["get"]["parameters"]
        .as_array()
        .unwrap();
    assert!(
        list_params
            .iter()
            .any(|p| p["name"] == "pageSize" && p["in"] == "query")
    );
}

/// The RPCs the gateway routes, as it computes them at start.
fn annotated_rpcs() -> Vec<String> {
    let pool = prost_reflect::DescriptorPool::decode(gearshift_proto::FILE_DESCRIPTOR_SET).unwrap();
    use gearshift_platform::target::Target;
    let services: Vec<&str> = gearshift_registry::Registry::SERVICES
        .iter()
        .chain(gearshift_support::Support::SERVICES)
        .chain(gearshift_financing::Financing::SERVICES)
        .chain(gearshift_training::Training::SERVICES)
        .chain(gearshift_gateway::OWN_SERVICES)
        .copied()
        .collect();
    gearshift_gateway::routes::load(&pool, &services)
        .unwrap()
        .iter()
        .map(|r| r.rpc.name().to_string())
        .collect()
}

async fn health_readiness_and_metrics_answer_without_a_key(engine: Engine) {
    let app = spawn_app(engine).await;
    for path in ["/healthz", "/readyz"] {
        let r = app
            .client
            .get(format!("{}{path}", app.base))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{path}");
    }
    app.get("/v1/suppliers", &app.admin_key).await;
    let metrics = app
        .client
        .get(format!("{}/metrics", app.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(metrics.contains("http_server_requests_total"), "{metrics}");
    assert!(metrics.contains("route=\"/v1/suppliers\""), "{metrics}");
    assert!(metrics.contains("grpc_server_requests_total"), "{metrics}");

    // The registry's own port answers plain HTTP probes too.
    let r = app
        .client
        .get(format!("http://{}/readyz", app.registry_addr))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
}

async fn unknown_routes_and_methods_are_problems(engine: Engine) {
    let app = spawn_app(engine).await;
    app.get("/v1/nothing", &app.admin_key)
        .await
        .assert_problem(404, "ROUTE_NOT_FOUND");
    app.get(
        "/v1/suppliers/sup_00000000000000000000000000:explode",
        &app.admin_key,
    )
    .await
    .assert_problem(404, "ROUTE_NOT_FOUND");
    let r = TestApp::send(app.request(Method::DELETE, "/v1/suppliers", Some(&app.admin_key))).await;
    r.assert_problem(405, "METHOD_NOT_ALLOWED");
    assert!(r.header("allow").unwrap().contains("GET"));
    let r = TestApp::send(
        app.request(Method::GET, "/v1/suppliers", Some(&app.admin_key))
            .header("content-type", "application/json")
            .body("{}"),
    )
    .await;
    r.assert_problem(400, "INVALID_ARGUMENT");
    assert_eq!(r.violation_fields(), ["body"]);
}

async fn problems_carry_a_trace_id(engine: Engine) {
    let app = spawn_app(engine).await;
    let trace = "4bf92f3577b34da6a3ce929d0e0e4736";
    let r = TestApp::send(
        app.request(
            Method::GET,
            "/v1/suppliers/sup_00000000000000000000000000",
            Some(&app.admin_key),
        )
        .header("traceparent", format!("00-{trace}-00f067aa0ba902b7-01")),
    )
    .await;
    r.assert_problem(404, "NOT_FOUND");
    // The caller's trace is continued, not replaced.
    assert_eq!(r.body["traceId"], trace);
    let own = app.get("/v1/nothing", &app.admin_key).await;
    assert_eq!(own.body["traceId"].as_str().unwrap().len(), 32);
}

/// google.api.http lets the query string set only fields the path does not
/// bind: `GET /v1/suppliers/{A}?id={B}` must not read B. Every route with a
/// path variable refuses its variable from the query, under either name.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_field_bound_by_the_path_cannot_come_from_the_query() {
    let app = spawn_app(Engine::Sqlite).await;
    let doc: Value = app.openapi().await;
    let mut checked = 0;
    for (path, operations) in doc["paths"].as_object().unwrap() {
        for (method, operation) in operations.as_object().unwrap() {
            let Ok(method) = method.to_uppercase().parse::<Method>() else {
                continue;
            };
            let params: Vec<&str> = operation["parameters"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|p| p["in"] == "path")
                .filter_map(|p| p["name"].as_str())
                .collect();
            // Well-formed values, so that without the rule the service would
            // answer for B (200 or 404) instead of refusing the request.
            let sample = |name: &str, which: &str| -> String {
                let tail = if which == "A" {
                    "01m8gc4vy40mf450tzes33dn7x"
                } else {
                    "01m8gc4vy40mf450tzes33dn7y"
                };
                match name {
                    "code" if which == "A" => "GJTP".into(),
                    "code" => "KATECH".into(),
                    "id" if path.contains("stageChanges") => format!("stc_{tail}"),
                    "id" if path.starts_with("/v1/apiKeys") => format!("key_{tail}"),
                    _ => format!("sup_{tail}"),
                }
            };
            let mut url = path.clone();
            for name in &params {
                url = url.replace(&format!("{{{name}}}"), &sample(name, "A"));
            }
            for name in &params {
                let snake: String = name
                    .chars()
                    .flat_map(|c| {
                        if c.is_ascii_uppercase() {
                            vec!['_', c.to_ascii_lowercase()]
                        } else {
                            vec![c]
                        }
                    })
                    .collect();
                let other = sample(name, "B");
                for key in [name.to_string(), snake] {
                    let r = TestApp::send(app.request(
                        method.clone(),
                        &format!("{url}?{key}={other}"),
                        Some(&app.admin_key),
                    ))
                    .await;
                    r.assert_problem(400, "INVALID_ARGUMENT");
                    assert_eq!(
                        r.violation_fields(),
                        std::slice::from_ref(&key),
                        "{method} {url}?{key}={other}: {}",
                        r.text
                    );
                    checked += 1;
                }
            }
        }
    }
    // The update's resource id, as the proto names it.
    let r = TestApp::send(app.request(
        Method::PATCH,
        "/v1/suppliers/sup_01m8gc4vy40mf450tzes33dn7x?supplier.id=sup_01m8gc4vy40mf450tzes33dn7y",
        Some(&app.admin_key),
    ))
    .await;
    r.assert_problem(400, "INVALID_ARGUMENT");
    assert_eq!(r.violation_fields(), ["supplier.id"]);
    assert!(checked >= 20, "only {checked} route variables checked");
}

/// What generated clients and schema-driven testers read literally: path
/// parameters in lowerCamelCase with the shape of an id, bodies without the
/// fields the path fills, If-Match only where an etag is checked, every
/// error response with the problem schema, dates as dates.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_document_says_exactly_what_each_route_takes() {
    let app = spawn_app(Engine::Sqlite).await;
    let doc: Value = app.openapi().await;
    let paths = doc["paths"].as_object().unwrap();
    let header = |op: &Value, name: &str| {
        op["parameters"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["in"] == "header" && p["name"] == name)
    };
    let sup = "^sup_[0-9a-hjkmnp-tv-z]{26}$";
    for (path, operations) in paths {
        assert!(
            !path.contains('_'),
            "{path}: path variables are lowerCamelCase"
        );
        for (method, op) in operations.as_object().unwrap() {
            let path_params: Vec<&Value> = op["parameters"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|p| p["in"] == "path")
                .collect();
            for p in &path_params {
                assert!(
                    p["schema"]["pattern"].is_string() || p["schema"]["enum"].is_array(),
                    "{method} {path}: {} has no pattern or enum",
                    p["name"]
                );
            }
            if let Some(body) = op["requestBody"]["content"]["application/json"]["schema"]
                .get("properties")
                .and_then(Value::as_object)
            {
                for p in &path_params {
                    let name = p["name"].as_str().unwrap();
                    assert!(
                        !body.contains_key(name),
                        "{method} {path}: body repeats {name}"
                    );
                }
            }
            for code in ["400", "401", "403", "404", "500", "503", "default"] {
                assert_eq!(
                    op["responses"][code]["$ref"], "#/components/responses/Problem",
                    "{method} {path} {code}"
                );
            }
        }
    }
    let op = |path: &str, method: &str| &paths[path][method];
    let confirm = op(
        "/v1/suppliers/{supplierId}/stageChanges/{id}:confirm",
        "post",
    );
    let confirm_body =
        &confirm["requestBody"]["content"]["application/json"]["schema"]["properties"];
    assert!(confirm_body.get("note").is_some() && confirm_body.get("id").is_none());
    assert!(confirm_body.get("supplierId").is_none());
    for (path, method, expected) in [
        ("/v1/suppliers:lookup", "get", false),
        ("/v1/apiKeys/{id}:revoke", "post", false),
        (
            "/v1/suppliers/{supplierId}/stageChanges/{id}:confirm",
            "post",
            false,
        ),
        ("/v1/suppliers/{id}", "patch", true),
        ("/v1/suppliers/{id}:verify", "post", true),
        ("/v1/institutes/{code}", "patch", true),
    ] {
        assert_eq!(
            header(op(path, method), "If-Match"),
            expected,
            "If-Match on {method} {path}"
        );
    }
    let get = op("/v1/suppliers/{id}", "get");
    assert_eq!(get["parameters"][0]["schema"]["pattern"], sup);
    let events = op("/v1/suppliers/{supplierId}/events", "get");
    assert_eq!(events["parameters"][0]["schema"]["pattern"], sup);
    let schemas = &doc["components"]["schemas"];
    let certification = &schemas["gearshift.registry.v1.Certification"]["properties"];
    assert_eq!(
        certification["validUntil"]["pattern"],
        "^([0-9]{4}-[0-9]{2}-[0-9]{2})?$"
    );
    let supplier = &schemas["gearshift.registry.v1.Supplier"]["properties"];
    assert_eq!(supplier["id"]["pattern"], sup);
    let key = &schemas["gearshift.iam.v1.ApiKey"]["properties"];
    assert_eq!(key["id"]["pattern"], "^key_[0-9a-hjkmnp-tv-z]{26}$");

    // The patterns hold for what the API issues.
    let created = app.create_supplier(SAMSUNG, "광주정밀").await;
    let id = created["id"].as_str().unwrap();
    assert!(id.len() == 30 && id.starts_with("sup_"));
    assert!(
        id[4..]
            .chars()
            .all(|c| "0123456789abcdefghjkmnpqrstvwxyz".contains(c))
    );
}
