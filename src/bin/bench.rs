//! Load harness: `GET /v1/suppliers/{id}` through the gateway beside
//! `GetSupplier` over direct gRPC, against the real `gearshift` binary.
//!
//! It starts the release binary on a fresh data folder (SQLite, or the
//! PostgreSQL URLs given), measures start-to-ready time and idle memory,
//! seeds suppliers, then runs each load for a fixed time at a fixed
//! concurrency and reports throughput, p50/p99 and the gateway/direct ratio.
//! The numbers and the command are recorded in BENCHMARKS.md.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use clap::Parser;
use gearshift_platform::principal::{METADATA_KEY, PrincipalKey};
use gearshift_platform::{Principal, Role};
use gearshift_proto::registry::v1 as pb;
use pb::supplier_registry_client::SupplierRegistryClient;

#[derive(Parser, Debug)]
#[command(about = "Gateway vs direct gRPC load benchmark for Gearshift")]
struct Args {
    /// The gearshift binary to measure (build it with `cargo build --release` first).
    #[arg(long, default_value = "target/release/gearshift")]
    binary: PathBuf,
    /// Suppliers to seed.
    #[arg(long, default_value_t = 1000)]
    suppliers: usize,
    /// Requests in flight at once.
    #[arg(long, default_value_t = 32)]
    concurrency: usize,
    /// Seconds each load runs.
    #[arg(long, default_value_t = 10)]
    seconds: u64,
    /// Registry database (default: SQLite in a temporary folder).
    #[arg(long)]
    registry_database_url: Option<String>,
    /// Gateway database (default: SQLite in a temporary folder).
    #[arg(long)]
    gateway_database_url: Option<String>,
}

struct Server {
    child: Child,
    http: String,
    grpc: String,
    data: tempfile::TempDir,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status();
        let _ = self.child.wait();
    }
}

fn free_port() -> anyhow::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

fn rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
}

async fn start(args: &Args) -> anyhow::Result<(Server, Duration)> {
    let data = tempfile::tempdir()?;
    let (http, grpc) = (free_port()?, free_port()?);
    let mut cmd = Command::new(&args.binary);
    cmd.env("GEARSHIFT_DATA_DIR", data.path())
        .env("GEARSHIFT_GATEWAY_LISTEN", format!("127.0.0.1:{http}"))
        .env("GEARSHIFT_REGISTRY_LISTEN", format!("127.0.0.1:{grpc}"))
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit());
    if let Some(url) = &args.registry_database_url {
        cmd.env("GEARSHIFT_REGISTRY_DATABASE_URL", url);
    }
    if let Some(url) = &args.gateway_database_url {
        cmd.env("GEARSHIFT_GATEWAY_DATABASE_URL", url);
    }
    let started = Instant::now();
    let child = cmd.spawn()?;
    let server = Server {
        child,
        http: format!("http://127.0.0.1:{http}"),
        grpc: format!("http://127.0.0.1:{grpc}"),
        data,
    };
    let client = reqwest::Client::new();
    loop {
        if let Ok(r) = client.get(format!("{}/readyz", server.http)).send().await
            && r.status() == 200
        {
            break;
        }
        anyhow::ensure!(
            started.elapsed() < Duration::from_secs(30),
            "not ready in 30 s"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    Ok((server, started.elapsed()))
}

fn signed<T>(message: T, key: &PrincipalKey) -> tonic::Request<T> {
    let mut request = tonic::Request::new(message);
    let token = key.sign(&Principal {
        subject: "key_bench".into(),
        role: Role::Operator,
    });
    if let Ok(v) = token.parse() {
        request.metadata_mut().insert(METADATA_KEY, v);
    }
    request
}

fn business_number(seed: usize) -> String {
    let first_nine = format!("{:09}", 100_000_000 + seed % 900_000_000);
    gearshift_registry::domain::BusinessNumber::with_check_digit(&first_nine)
        .map(|n| n.digits().to_string())
        .unwrap_or_default()
}

struct Stats {
    name: &'static str,
    requests: usize,
    errors: usize,
    elapsed: Duration,
    latencies: Vec<Duration>,
}

impl Stats {
    fn rps(&self) -> f64 {
        self.requests as f64 / self.elapsed.as_secs_f64()
    }

    fn percentile(&self, p: f64) -> Duration {
        let i = ((self.latencies.len() as f64 - 1.0) * p).round() as usize;
        self.latencies.get(i).copied().unwrap_or_default()
    }

    fn print(&self) {
        println!(
            "{:<28} {:>9.0} req/s   p50 {:>7.0} µs   p99 {:>7.0} µs   errors {}",
            self.name,
            self.rps(),
            self.percentile(0.50).as_secs_f64() * 1e6,
            self.percentile(0.99).as_secs_f64() * 1e6,
            self.errors
        );
    }
}

/// Runs `op` from `concurrency` tasks for `seconds` and collects latencies.
async fn load<F, Fut>(name: &'static str, concurrency: usize, seconds: u64, op: F) -> Stats
where
    F: Fn(usize) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = bool> + Send,
{
    let op = Arc::new(op);
    let stop = Arc::new(AtomicBool::new(false));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for worker in 0..concurrency {
        let (op, stop) = (op.clone(), stop.clone());
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut errors = 0;
            let mut i = worker;
            while !stop.load(Ordering::Relaxed) {
                let t = Instant::now();
                if !op(i).await {
                    errors += 1;
                }
                latencies.push(t.elapsed());
                i += concurrency;
            }
            (latencies, errors)
        }));
    }
    tokio::time::sleep(Duration::from_secs(seconds)).await;
    stop.store(true, Ordering::Relaxed);
    let mut latencies = Vec::new();
    let mut errors = 0;
    for t in tasks {
        if let Ok((l, e)) = t.await {
            latencies.extend(l);
            errors += e;
        }
    }
    let elapsed = started.elapsed();
    latencies.sort();
    Stats {
        name,
        requests: latencies.len(),
        errors,
        elapsed,
        latencies,
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let (server, ready_after) = start(&args).await?;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let idle_rss = rss_kib(server.child.id()).unwrap_or(0);
    println!("start to /readyz 200: {} ms", ready_after.as_millis());
    println!(
        "idle resident memory (all-in-one): {:.1} MiB",
        idle_rss as f64 / 1024.0
    );

    let key = PrincipalKey::load_or_create(None, server.data.path())?;
    let admin = std::fs::read_to_string(server.data.path().join("admin.key"))?
        .trim()
        .to_string();
    let channel = tonic::transport::Endpoint::from_shared(server.grpc.clone())?
        .tcp_nodelay(true)
        .connect()
        .await?;
    let mut client = SupplierRegistryClient::new(channel.clone());
    let mut ids = Vec::with_capacity(args.suppliers);
    for i in 0..args.suppliers {
        let supplier = pb::Supplier {
            business_number: business_number(i),
            legal_name: format!("벤치마크 부품 {i}"),
            ..Default::default()
        };
        let created = client
            .create_supplier(signed(
                pb::CreateSupplierRequest {
                    supplier: Some(supplier),
                },
                &key,
            ))
            .await?
            .into_inner();
        ids.push(created.id);
    }
    println!(
        "seeded {} suppliers; concurrency {}, {} s per run\n",
        ids.len(),
        args.concurrency,
        args.seconds
    );
    let ids = Arc::new(ids);

    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(args.concurrency)
        .tcp_nodelay(true)
        .build()?;
    let (base, admin_h) = (
        Arc::new(server.http.clone()),
        Arc::new(format!("Bearer {admin}")),
    );
    let http_ids = ids.clone();
    let gateway = load(
        "gateway GET /v1/suppliers/{id}",
        args.concurrency,
        args.seconds,
        move |i| {
            let (http, base, auth, ids) = (
                http.clone(),
                base.clone(),
                admin_h.clone(),
                http_ids.clone(),
            );
            async move {
                let id = &ids[i % ids.len()];
                match http
                    .get(format!("{base}/v1/suppliers/{id}"))
                    .header("authorization", auth.as_str())
                    .send()
                    .await
                {
                    Ok(r) => r.status() == 200 && r.bytes().await.is_ok(),
                    Err(_) => false,
                }
            }
        },
    )
    .await;
    gateway.print();

    let grpc_ids = ids.clone();
    let direct = load(
        "direct gRPC GetSupplier",
        args.concurrency,
        args.seconds,
        move |i| {
            let (mut client, key, ids) = (
                SupplierRegistryClient::new(channel.clone()),
                key.clone(),
                grpc_ids.clone(),
            );
            async move {
                let id = ids[i % ids.len()].clone();
                client
                    .get_supplier(signed(pb::GetSupplierRequest { id }, &key))
                    .await
                    .is_ok()
            }
        },
    )
    .await;
    direct.print();
    println!(
        "\ngateway / direct throughput: {:.2}",
        gateway.rps() / direct.rps()
    );
    Ok(())
}
