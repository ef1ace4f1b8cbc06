//! The real `gearshift` binary: starts on a fresh data folder, becomes ready,
//! serves, stops cleanly on SIGTERM, and keeps its data across a restart.

use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn start(data: &Path, http: u16, grpc: u16) -> Child {
    start_with(data, http, grpc, &[])
}

fn start_with(data: &Path, http: u16, grpc: u16, env: &[(&str, &str)]) -> Child {
    Command::new(env!("CARGO_BIN_EXE_gearshift"))
        .env_clear()
        .envs(env.iter().copied())
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("GEARSHIFT_DATA_DIR", data)
        .env("GEARSHIFT_GATEWAY_LISTEN", format!("127.0.0.1:{http}"))
        .env("GEARSHIFT_REGISTRY_LISTEN", format!("127.0.0.1:{grpc}"))
        .env(
            "GEARSHIFT_REGISTRY_ADDR",
            format!("http://127.0.0.1:{grpc}"),
        )
        // The support centre on a port of its own, so binaries started by
        // tests running at once do not collide on its default.
        .env(
            "GEARSHIFT_SUPPORT_LISTEN",
            format!("127.0.0.1:{}", free_port()),
        )
        .env(
            "GEARSHIFT_FINANCING_LISTEN",
            format!("127.0.0.1:{}", free_port()),
        )
        .env(
            "GEARSHIFT_TRAINING_LISTEN",
            format!("127.0.0.1:{}", free_port()),
        )
        .env("GEARSHIFT_LOG_FORMAT", "json")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("the binary starts")
}

async fn wait_ready(client: &reqwest::Client, http: u16) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Ok(r) = client
            .get(format!("http://127.0.0.1:{http}/readyz"))
            .send()
            .await
            && r.status() == 200
        {
            return;
        }
        assert!(Instant::now() < deadline, "not ready within 30 s");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn stop(mut child: Child) -> (std::process::ExitStatus, String) {
    let status = Command::new("kill")
        .arg("-TERM")
        .arg(child.id().to_string())
        .status()
        .unwrap();
    assert!(status.success());
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            let mut out = String::new();
            std::io::Read::read_to_string(child.stdout.as_mut().unwrap(), &mut out).unwrap();
            return (status, out);
        }
        assert!(
            Instant::now() < deadline,
            "did not exit within 30 s of SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn binary_starts_serves_stops_on_sigterm_and_keeps_its_data() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let (http, grpc) = (free_port(), free_port());
    let client = reqwest::Client::new();

    let first = start(&data, http, grpc);
    wait_ready(&client, http).await;
    let key = std::fs::read_to_string(data.join("admin.key"))
        .unwrap()
        .trim()
        .to_string();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(data.join("admin.key"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(
            mode & 0o777,
            0o600,
            "admin.key is readable by its owner only"
        );
    }
    let created: serde_json::Value = client
        .post(format!("http://127.0.0.1:{http}/v1/suppliers"))
        .bearer_auth(&key)
        .json(&serde_json::json!({"businessNumber": "220-81-62517", "legalName": "네이버"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = created["id"].as_str().expect("created").to_string();
    // The seeded directory is there on the first start; an operator's edit
    // survives the next start's seeding.
    let directory: serde_json::Value = client
        .get(format!("http://127.0.0.1:{http}/v1/institutes"))
        .bearer_auth(&key)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(directory["institutes"].as_array().map(Vec::len), Some(10));
    let edited = client
        .patch(format!("http://127.0.0.1:{http}/v1/institutes/GJTP"))
        .bearer_auth(&key)
        .json(&serde_json::json!({"contact": {"name": "기업지원팀", "email": "support@gjtp.example"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(edited.status(), 200);

    let (status, banner) = stop(first);
    assert!(status.success(), "exit status after SIGTERM: {status}");
    assert!(
        banner.contains(&key),
        "the first start shows the generated key once"
    );

    let second = start(&data, http, grpc);
    wait_ready(&client, http).await;
    let read = client
        .get(format!("http://127.0.0.1:{http}/v1/suppliers/{id}"))
        .bearer_auth(&key)
        .send()
        .await
        .unwrap();
    assert_eq!(read.status(), 200);
    let gjtp: serde_json::Value = client
        .get(format!("http://127.0.0.1:{http}/v1/institutes/GJTP"))
        .bearer_auth(&key)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(gjtp["contact"]["name"], "기업지원팀", "{gjtp}");
    let (status, banner) = stop(second);
    assert!(status.success());
    assert!(!banner.contains("gsk_"), "no new key on a later start");
}

/// Quiet logs do not cost the trace: with `RUST_LOG=warn` a problem
/// document still carries the request's trace id.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn trace_ids_survive_a_raised_log_level() {
    let dir = tempfile::tempdir().unwrap();
    let (http, grpc) = (free_port(), free_port());
    let client = reqwest::Client::new();
    let child = start_with(
        &dir.path().join("data"),
        http,
        grpc,
        &[("RUST_LOG", "warn")],
    );
    wait_ready(&client, http).await;

    let problem: serde_json::Value = client
        .get(format!("http://127.0.0.1:{http}/v1/suppliers"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();

    let trace_id = problem["traceId"].as_str().unwrap_or_default();
    assert_eq!(trace_id.len(), 32, "{problem}");
    assert!(trace_id.chars().all(|c| c.is_ascii_hexdigit()), "{problem}");
    let (status, _) = stop(child);
    assert!(status.success());
}

#[test]
fn migrate_prepares_the_databases_and_exits() {
    let dir = tempfile::tempdir().unwrap();
    let status = Command::new(env!("CARGO_BIN_EXE_gearshift"))
        .args(["migrate", "--data-dir"])
        .arg(dir.path())
        .stderr(Stdio::null())
        .status()
        .unwrap();
    assert!(status.success());
    assert!(dir.path().join("registry.db").exists());
    assert!(dir.path().join("gateway.db").exists());
}

#[test]
fn a_bad_setting_is_a_clear_error_not_a_panic() {
    let output = Command::new(env!("CARGO_BIN_EXE_gearshift"))
        .args([
            "serve",
            "--registry-database-url",
            "mysql://nope",
            "--data-dir",
        ])
        .arg(tempfile::tempdir().unwrap().path())
        .args([
            "--gateway-listen",
            "127.0.0.1:0",
            "--registry-listen",
            "127.0.0.1:0",
        ])
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("unsupported database URL"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}
