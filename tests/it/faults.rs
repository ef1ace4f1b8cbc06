//! Faults of the platform beneath the services: a database that goes away
//! and comes back.

use std::time::{Duration, Instant};

use crate::common::*;

/// PostgreSQL stops answering: reads, writes and readiness say 503, the
/// database is unavailable, well before the pool's 5 s acquire timeout; when
/// it is back, the same process serves again without a restart.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_outage_is_a_prompt_503_and_recovery_needs_no_restart() {
    if !gearshift_platform::testing::postgres_enabled() {
        return;
    }
    let server: std::net::SocketAddr = "127.0.0.1:5432".parse().unwrap();
    let relay = Relay::start(server).await;
    let dir = tempfile::tempdir().unwrap();
    let mut args = test_args(Engine::Postgres, dir.path()).await;
    for (_, config) in args.target_configs_mut() {
        let url = config.database_url_mut();
        *url = url.as_deref().map(|u| relay.route(u));
    }
    let app = spawn_with(args, dir).await;
    let created = app.create_supplier(SAMSUNG, "광주정밀").await;
    let id = created["id"].as_str().unwrap().to_string();
    let registry_ready = format!("http://{}/readyz", app.registry_addr);

    relay.cut();

    for (what, path) in [
        ("read", format!("/v1/suppliers/{id}")),
        ("list", "/v1/suppliers".to_string()),
    ] {
        let started = Instant::now();
        let r = app.get(&path, &app.admin_key).await;
        let took = started.elapsed();
        r.assert_problem(503, "UNAVAILABLE");
        assert!(
            r.body["detail"]
                .as_str()
                .unwrap_or_default()
                .contains("database is unavailable"),
            "{what}: {}",
            r.text
        );
        assert!(took < Duration::from_secs(3), "{what} took {took:?}");
    }
    let started = Instant::now();
    let write = app
        .post(
            &format!("/v1/suppliers/{id}:verify"),
            &app.admin_key,
            serde_json::json!({}),
        )
        .await;
    write.assert_problem(503, "UNAVAILABLE");
    assert!(started.elapsed() < Duration::from_secs(3));
    for ready in [registry_ready.clone(), format!("{}/readyz", app.base)] {
        let started = Instant::now();
        let r = app.client.get(&ready).send().await.unwrap();
        assert_eq!(r.status(), 503, "{ready}");
        assert!(r.text().await.unwrap().contains("database is unavailable"));
        assert!(started.elapsed() < Duration::from_secs(3), "{ready}");
    }

    relay.restore().await;

    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let r = app
            .get(&format!("/v1/suppliers/{id}"), &app.admin_key)
            .await;
        if r.status == 200 {
            break;
        }
        assert!(Instant::now() < deadline, "not back: {}", r.text);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let r = app.client.get(&registry_ready).send().await.unwrap();
    assert_eq!(r.status(), 200);
}

/// Gateway and registry as separate processes: when the registry stops,
/// the gateway answers 503 with a problem document and a trace id.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stopped_backend_is_a_503_problem() {
    let dir = tempfile::tempdir().unwrap();
    let mut registry_args = test_args(Engine::Sqlite, dir.path()).await;
    registry_args.common.target = vec![gearshift::Target::Registry];
    let registry = gearshift::Platform::build(&registry_args).await.unwrap();
    let registry_addr = registry.registry_addr().unwrap();
    let stop_registry = gearshift_platform::shutdown::Shutdown::new();
    let registry_task = tokio::spawn(registry.run(stop_registry.clone()));

    let mut gateway_args = registry_args.clone();
    gateway_args.common.target = vec![gearshift::Target::Gateway];
    gateway_args.registry.addr = format!("http://{registry_addr}");
    let app = spawn_with(gateway_args, tempfile::tempdir().unwrap()).await;
    let created = app.create_supplier(SAMSUNG, "광주정밀").await;
    let id = created["id"].as_str().unwrap().to_string();

    stop_registry.trigger();
    registry_task.await.unwrap().unwrap();

    for path in [format!("/v1/suppliers/{id}"), "/v1/suppliers".into()] {
        let r = app.get(&path, &app.admin_key).await;
        r.assert_problem(503, "UNAVAILABLE");
        assert!(
            r.body["detail"].as_str().unwrap().contains("unreachable"),
            "{}",
            r.text
        );
        assert_eq!(r.body["traceId"].as_str().unwrap().len(), 32, "{}", r.text);
    }
    let ready = app
        .client
        .get(format!("{}/readyz", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(ready.status(), 503);
}
