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

/// A burst of requests waiting for a busy pool asks the server whether it
/// is there once, not once each: 60 waiters behind one held connection
/// open a handful of probe connections (each waiter once opened its own,
/// and a burst of 200 went past PostgreSQL's connection limit and turned a
/// busy pool into 503s), and all of them get the connection in the end.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn waiting_requests_share_one_probe_of_the_database() {
    if !gearshift_platform::testing::postgres_enabled() {
        return;
    }
    let server: std::net::SocketAddr = "127.0.0.1:5432".parse().unwrap();
    let relay = Relay::start(server).await;
    let dir = tempfile::tempdir().unwrap();
    let url =
        gearshift_platform::testing::fresh_database(Engine::Postgres, dir.path(), "probe").await;
    let db = gearshift_platform::db::Db::connect(&relay.route(&url), 1)
        .await
        .unwrap();
    let held = db.conn().await.unwrap();
    let before = relay.accepted();
    let waiters: Vec<_> = (0..60)
        .map(|_| {
            let db = db.clone();
            tokio::spawn(async move { db.conn().await.map(drop) })
        })
        .collect();
    // Past the probe delay, and past one fresh answer's lifetime.
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    drop(held);
    for waiter in waiters {
        waiter.await.unwrap().expect("a waiter got an error");
    }
    let probes = relay.accepted() - before;
    assert!(
        (1..=4).contains(&probes),
        "{probes} connections were opened for 60 waiting requests"
    );
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
