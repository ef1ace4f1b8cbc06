//! `spawn_app()`: the whole platform in this process on ephemeral ports and
//! fresh databases (SQLite files, or new PostgreSQL databases), driven over
//! HTTP like a client. `TEST_LOG=1` shows the platform's logs.

#![allow(dead_code)]

use std::net::SocketAddr;
use std::sync::Once;

use gearshift::{Platform, ServeArgs};
use gearshift_platform::shutdown::Shutdown;
pub use gearshift_platform::testing::Engine;
use reqwest::{Method, RequestBuilder, StatusCode};
use serde_json::{Value, json};

pub const SAMSUNG: &str = "124-81-00998";
pub const KIA: &str = "119-81-02316";
pub const LG: &str = "107-86-14075";
pub const NAVER: &str = "220-81-62517";
pub const KAKAO: &str = "120-81-47521";

pub struct TestApp {
    pub base: String,
    pub registry_addr: SocketAddr,
    /// Where the support centre answers gRPC, when it runs in this process.
    pub support_addr: Option<SocketAddr>,
    pub financing_addr: Option<SocketAddr>,
    pub training_addr: Option<SocketAddr>,
    pub admin_key: String,
    pub client: reqwest::Client,
    pub data_dir: std::path::PathBuf,
    shutdown: Shutdown,
    task: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
    _dir: tempfile::TempDir,
}

fn init_logs() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // Telemetry is always on (trace ids are behaviour); the log lines
        // go nowhere unless TEST_LOG is set.
        let format = gearshift_platform::telemetry::LogFormat::Text;
        let guard = if std::env::var("TEST_LOG").is_ok() {
            gearshift_platform::telemetry::init(format, "gearshift-test", std::io::stderr)
        } else {
            gearshift_platform::telemetry::init(format, "gearshift-test", std::io::sink)
        };
        std::mem::forget(guard);
    });
}

/// Arguments for a platform on ephemeral ports with fresh databases.
pub async fn test_args(engine: Engine, dir: &std::path::Path) -> ServeArgs {
    let mut args = ServeArgs::defaults();
    args.common.target = vec![gearshift::Target::All];
    args.common.data_dir = dir.to_path_buf();
    for (name, config) in args.target_configs_mut() {
        *config.listen_mut() = "127.0.0.1:0".parse().unwrap();
        *config.database_url_mut() =
            Some(gearshift_platform::testing::fresh_database(engine, dir, name).await);
        // Many platforms run at once against one PostgreSQL server (100
        // connections by default): each service keeps few.
        *config.max_connections_mut() = 4;
    }
    args.gateway.bootstrap_admin_key = Some(format!(
        "gsk_test_admin_{}",
        gearshift_platform::ids::random_token(16)
    ));
    args.common.principal_secret = None;
    args.gateway.request_timeout = std::time::Duration::from_secs(10);
    args
}

pub async fn spawn_app(engine: Engine) -> TestApp {
    let dir = tempfile::tempdir().expect("temp dir");
    let args = test_args(engine, dir.path()).await;
    spawn_with(args, dir).await
}

pub async fn spawn_with(args: ServeArgs, dir: tempfile::TempDir) -> TestApp {
    spawn_with_clock(args, dir, gearshift_platform::clock::Clock::system()).await
}

/// The platform reading "now" from `clock` (tests set time, never sleep).
pub async fn spawn_with_clock(
    args: ServeArgs,
    dir: tempfile::TempDir,
    clock: gearshift_platform::clock::Clock,
) -> TestApp {
    init_logs();
    let platform = Platform::build_with_clock(&args, clock)
        .await
        .expect("platform builds");
    let base = format!("http://{}", platform.gateway_addr().expect("gateway"));
    // Where the registry answers: here, or where the gateway was told.
    let registry_addr = platform
        .registry_addr()
        .or_else(|| {
            args.registry
                .addr
                .trim_start_matches("http://")
                .parse()
                .ok()
        })
        .expect("registry");
    let support_addr = platform.addr("support");
    let financing_addr = platform.addr("financing");
    let training_addr = platform.addr("training");
    let shutdown = Shutdown::new();
    let task = tokio::spawn(platform.run(shutdown.clone()));
    TestApp {
        base,
        registry_addr,
        support_addr,
        financing_addr,
        training_addr,
        admin_key: args.gateway.bootstrap_admin_key.clone().unwrap_or_default(),
        client: reqwest::Client::new(),
        data_dir: args.common.data_dir.clone(),
        shutdown,
        task: Some(task),
        _dir: dir,
    }
}

impl TestApp {
    /// Asks the platform to stop, as SIGTERM does.
    pub fn begin_shutdown(&self) {
        self.shutdown.trigger();
    }

    /// Stops the platform and waits until every target has drained.
    pub async fn stop(mut self) -> anyhow::Result<()> {
        self.shutdown.trigger();
        match self.task.take() {
            Some(task) => task.await?,
            None => Ok(()),
        }
    }

    /// The gateway's address, for raw HTTP.
    pub fn gateway_addr(&self) -> SocketAddr {
        self.base
            .trim_start_matches("http://")
            .parse()
            .expect("gateway address")
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.shutdown.trigger();
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

/// A response, read whole.
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
    pub text: String,
}

impl Reply {
    /// The problem document's `code`.
    pub fn code(&self) -> &str {
        self.body["code"].as_str().unwrap_or_default()
    }

    /// The fields named in the problem document's violations.
    pub fn violation_fields(&self) -> Vec<String> {
        self.body["violations"]
            .as_array()
            .map(|v| {
                v.iter()
                    .filter_map(|x| x["field"].as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default()
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Asserts a problem document with `status` and `code`.
    #[track_caller]
    pub fn assert_problem(&self, status: u16, code: &str) {
        assert_eq!(self.status.as_u16(), status, "body: {}", self.text);
        assert_eq!(self.code(), code, "body: {}", self.text);
        assert_eq!(
            self.header("content-type"),
            Some("application/problem+json"),
            "body: {}",
            self.text
        );
    }
}

impl TestApp {
    pub fn request(&self, method: Method, path: &str, key: Option<&str>) -> RequestBuilder {
        let mut rb = self.client.request(method, format!("{}{path}", self.base));
        if let Some(key) = key {
            rb = rb.bearer_auth(key);
        }
        rb
    }

    pub async fn send(rb: RequestBuilder) -> Reply {
        let response = rb.send().await.expect("request sent");
        let status = response.status();
        let headers = response.headers().clone();
        let text = response.text().await.expect("body read");
        let body = serde_json::from_str(&text).unwrap_or(Value::Null);
        Reply {
            status,
            headers,
            body,
            text,
        }
    }

    pub async fn get(&self, path: &str, key: &str) -> Reply {
        Self::send(self.request(Method::GET, path, Some(key))).await
    }

    pub async fn post(&self, path: &str, key: &str, body: Value) -> Reply {
        Self::send(self.request(Method::POST, path, Some(key)).json(&body)).await
    }

    pub async fn patch(&self, path: &str, key: &str, body: Value) -> Reply {
        Self::send(self.request(Method::PATCH, path, Some(key)).json(&body)).await
    }

    /// The OpenAPI document the gateway serves.
    pub async fn openapi(&self) -> Value {
        let r = Self::send(self.request(Method::GET, "/openapi.json", None)).await;
        assert_eq!(r.status, 200, "{}", r.text);
        r.body
    }

    /// Creates an API key with `role` as the operator and returns its secret.
    /// A new key for `role`: its id (`key_…`, what records name it by)
    /// and its secret.
    pub async fn key_with_id(&self, role: &str) -> (String, String) {
        let r = self
            .post(
                "/v1/apiKeys",
                &self.admin_key,
                json!({"displayName": format!("test {role}"), "role": role}),
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.text);
        (
            r.body["id"].as_str().expect("id").to_string(),
            r.body["secret"].as_str().expect("secret").to_string(),
        )
    }

    pub async fn key_for(&self, role: &str) -> String {
        let r = self
            .post(
                "/v1/apiKeys",
                &self.admin_key,
                json!({"displayName": format!("test {role}"), "role": role}),
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.text);
        r.body["secret"].as_str().expect("secret").to_string()
    }

    /// The ids of `GET /v1/suppliers?{query}` as the operator, in order.
    pub async fn supplier_ids(&self, query: &str) -> Vec<String> {
        let r = self
            .get(&format!("/v1/suppliers?{query}"), &self.admin_key)
            .await;
        assert_eq!(r.status, 200, "{query}: {}", r.text);
        r.body["suppliers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["id"].as_str().unwrap().to_string())
            .collect()
    }

    /// Registers a supplier as the operator and returns it.
    pub async fn create_supplier(&self, number: &str, name: &str) -> Value {
        let r = self
            .post(
                "/v1/suppliers",
                &self.admin_key,
                json!({"businessNumber": number, "legalName": name}),
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.text);
        r.body
    }
}

/// Valid business numbers made up for tests: nine digits from `seed`, plus
/// the check digit the rule asks for.
pub fn business_number(seed: u64) -> String {
    let first_nine = format!("{:09}", 100_000_000 + seed % 900_000_000);
    gearshift_registry::supplier::BusinessNumber::with_check_digit(&first_nine)
        .expect("nine digits")
        .formatted()
}

/// The date `days` after today in Asia/Seoul, as the API writes dates.
pub fn seoul_date_in(days: i64) -> String {
    gearshift_platform::clock::Clock::system()
        .date_in(days)
        .to_string()
}

/// A TCP relay in front of a server that a test can cut and restore, to play
/// an outage: cut, it stops listening (new connections are refused) and drops
/// the connections it carried; restored, it listens on the same port again.
pub struct Relay {
    pub addr: SocketAddr,
    target: SocketAddr,
    tasks: std::sync::Arc<std::sync::Mutex<Vec<tokio::task::JoinHandle<()>>>>,
    accepted: std::sync::Arc<std::sync::atomic::AtomicUsize>,
}

impl Relay {
    pub async fn start(target: SocketAddr) -> Relay {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let relay = Relay {
            addr: listener.local_addr().unwrap(),
            target,
            tasks: Default::default(),
            accepted: Default::default(),
        };
        relay.serve(listener);
        relay
    }

    fn serve(&self, listener: tokio::net::TcpListener) {
        let (target, tasks, accepted) = (self.target, self.tasks.clone(), self.accepted.clone());
        let accept = tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                accepted.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let carry = tokio::spawn(async move {
                    if let Ok(mut server) = tokio::net::TcpStream::connect(target).await {
                        let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                    }
                });
                tasks.lock().unwrap().push(carry);
            }
        });
        self.tasks.lock().unwrap().push(accept);
    }

    /// How many connections it has taken so far.
    pub fn accepted(&self) -> usize {
        self.accepted.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Refuses new connections and breaks the open ones.
    pub fn cut(&self) {
        for task in self.tasks.lock().unwrap().drain(..) {
            task.abort();
        }
    }

    /// Listens again where it did.
    pub async fn restore(&self) {
        // The aborted accept loop drops its listener a moment later.
        for _ in 0..100 {
            if let Ok(listener) = tokio::net::TcpListener::bind(self.addr).await {
                return self.serve(listener);
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        panic!("cannot listen on {} again", self.addr);
    }

    /// `url` (`postgres://user@host:port/db`) going through this relay.
    pub fn route(&self, url: &str) -> String {
        let (scheme, rest) = url.split_once("://").unwrap();
        let (authority, path) = rest.split_once('/').unwrap();
        let user = authority.rsplit_once('@').map(|(u, _)| format!("{u}@"));
        format!(
            "{scheme}://{}{}/{path}",
            user.unwrap_or_default(),
            self.addr
        )
    }
}
