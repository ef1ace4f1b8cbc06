//! Load harness against the real `gearshift` binary: `GET /v1/suppliers/{id}`
//! through the gateway beside `GetSupplier` over direct gRPC, and filtered
//! supplier list pages through the gateway.
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
    /// Support centre database (default: SQLite in a temporary folder).
    #[arg(long)]
    support_database_url: Option<String>,
    /// Tickets to seed for the `support-stats` load.
    #[arg(long, default_value_t = 10_000)]
    tickets: usize,
    /// Financing database (default: SQLite in a temporary folder).
    #[arg(long)]
    financing_database_url: Option<String>,
    /// Applications to seed for the `financing-stats` load.
    #[arg(long, default_value_t = 10_000)]
    applications: usize,
    /// Training database (default: SQLite in a temporary folder).
    #[arg(long)]
    training_database_url: Option<String>,
    /// Enrolments to seed for the `training-stats` load.
    #[arg(long, default_value_t = 10_000)]
    enrollments: usize,
    /// Which loads to run: `get` (gateway vs direct), `list` (filtered
    /// pages), `support-stats` (the support centre's figures over
    /// `--tickets` tickets), `financing-stats` (financing's figures over
    /// `--applications` applications), `training-stats` (the training
    /// centre's figures over `--enrollments` enrolments).
    #[arg(long, value_delimiter = ',', default_value = "get,list")]
    loads: Vec<String>,
    /// Requests in flight at once for the list loads.
    #[arg(long, default_value_t = 4)]
    list_concurrency: usize,
    /// The comparison table: the single GET and the 50-item page through the
    /// gateway, over direct gRPC and (with --peer-gateway) through the
    /// grpc-gateway peer, at 1, 32 and 64 in flight.
    #[arg(long)]
    matrix: bool,
    /// Run the gateway and the registry as separate processes.
    #[arg(long)]
    split: bool,
    /// The grpc-gateway peer binary (../shared/peers/grpc-gateway builds it),
    /// put in front of the same registry.
    #[arg(long)]
    peer_gateway: Option<PathBuf>,
    /// Matrix rounds per row: gateway, direct and peer run one after another
    /// in each round, and the row shows the round with the median
    /// gateway/direct ratio, with the range of ratios beside it (this 2-core
    /// machine varies ±20 % between runs of the same binary).
    #[arg(long, default_value_t = 1)]
    rounds: usize,
}

/// Filtered list pages the `list` load asks for, each measured on its own.
const LIST_QUERIES: &[(&str, &str)] = &[
    ("first page, no filter", "pageSize=50"),
    (
        "status + region",
        "status=ACTIVE&region=GWANGJU_BUK_GU&pageSize=50",
    ),
    (
        "parts group, by name",
        "partsGroup=BATTERY_ENERGY_STORAGE&orderBy=name&pageSize=50",
    ),
    (
        "stage + SME, by employees",
        "stage=PLANNING&sme=true&orderBy=employeeCount%20desc&pageSize=50",
    ),
    (
        "cert expiring in 90 days",
        "certificationExpiringWithinDays=90&pageSize=50",
    ),
    (
        "IATF 16949 holders",
        "certificationStandard=IATF_16949&pageSize=50",
    ),
    ("name search", "query=%EB%B6%80%ED%92%88%201234&pageSize=50"),
    (
        "created in a range, newest",
        "createTimeFrom=2020-01-01T00:00:00Z&orderBy=createTime%20desc&pageSize=50",
    ),
];

const REGIONS: [pb::Region; 6] = [
    pb::Region::GwangjuDongGu,
    pb::Region::GwangjuSeoGu,
    pb::Region::GwangjuNamGu,
    pb::Region::GwangjuBukGu,
    pb::Region::GwangjuGwangsanGu,
    pb::Region::OutsideGwangju,
];

/// A varied supplier for seed `i`: region, size, groups and certificates
/// spread so that every list filter matches a part of the data.
fn seed_supplier(i: usize) -> pb::Supplier {
    let groups = [
        pb::PartsGroup::PowertrainEngine,
        pb::PartsGroup::BatteryEnergyStorage,
        pb::PartsGroup::ThermalManagement,
        pb::PartsGroup::BodyExterior,
        pb::PartsGroup::AdasSensorsLidar,
        pb::PartsGroup::ChassisSuspensionBrakes,
    ];
    let g1 = groups[i % groups.len()];
    let g2 = groups[(i / 7) % groups.len()];
    let mut parts_groups = vec![g1 as i32];
    if g2 != g1 {
        parts_groups.push(g2 as i32);
    }
    let standards = [
        pb::CertificationStandard::Iatf16949,
        pb::CertificationStandard::Iso9001,
        pb::CertificationStandard::Iso14001,
    ];
    let certifications = (0..i % 3)
        .map(|k| pb::Certification {
            standard: standards[(i + k) % standards.len()] as i32,
            number: format!("C{i}-{k}"),
            issuer: "KSA".into(),
            valid_from: "2024-01-01".into(),
            // Spread over 2026-06-01 .. 2030-07 (about 6 % within any 90 days).
            valid_until: jiff::civil::date(2026, 6, 1)
                .saturating_add(jiff::Span::new().days(((i * 7919 + k * 104_729) % 1500) as i64))
                .to_string(),
            ..Default::default()
        })
        .collect();
    pb::Supplier {
        business_number: business_number(i),
        legal_name: format!("벤치마크 부품 {i}"),
        address: Some(pb::Address {
            line: "광주광역시".into(),
            region: REGIONS[i % REGIONS.len()] as i32,
            postal_code: String::new(),
        }),
        employee_count: Some(((i * 37) % 900) as i32),
        sme: Some(!i.is_multiple_of(4)),
        parts_groups,
        primary_parts_group: g1 as i32,
        certifications,
        ..Default::default()
    }
}

/// Runs `work(i)` for every `i` in `0..n`, from eight tasks at once (each
/// takes every eighth `i`), and returns the results by task.
async fn in_parallel<F, Fut, T>(n: usize, work: F) -> anyhow::Result<Vec<T>>
where
    F: Fn(usize) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = anyhow::Result<T>> + Send,
    T: Send + 'static,
{
    const TASKS: usize = 8;
    let work = Arc::new(work);
    let handles: Vec<_> = (0..TASKS)
        .map(|t| {
            let work = work.clone();
            tokio::spawn(async move {
                let mut out = Vec::new();
                for i in (t..n).step_by(TASKS) {
                    out.push(work(i).await?);
                }
                anyhow::Ok(out)
            })
        })
        .collect();
    let mut out = Vec::with_capacity(n);
    for h in handles {
        out.extend(h.await??);
    }
    Ok(out)
}

/// Seeds `n` suppliers over gRPC from a few tasks at once; every third is
/// verified and the stages are spread over the ladder.
async fn seed(
    channel: tonic::transport::Channel,
    key: &PrincipalKey,
    n: usize,
) -> anyhow::Result<Vec<String>> {
    let client = SupplierRegistryClient::new(channel);
    let key = key.clone();
    in_parallel(n, move |i| {
        let (mut client, key) = (client.clone(), key.clone());
        async move {
            let created = client
                .create_supplier(signed(
                    pb::CreateSupplierRequest {
                        supplier: Some(seed_supplier(i)),
                    },
                    &key,
                ))
                .await?
                .into_inner();
            if i.is_multiple_of(3) {
                client
                    .verify_supplier(signed(
                        pb::VerifySupplierRequest {
                            id: created.id.clone(),
                            ..Default::default()
                        },
                        &key,
                    ))
                    .await?;
            }
            let stage = 1 + (i % 5) as i32;
            if stage > 1 {
                client
                    .create_stage_change(signed(
                        pb::CreateStageChangeRequest {
                            supplier_id: created.id.clone(),
                            stage_change: Some(pb::StageChange {
                                to_stage: stage,
                                reason: "benchmark seed".into(),
                                ..Default::default()
                            }),
                        },
                        &key,
                    ))
                    .await?;
            }
            anyhow::Ok(created.id)
        }
    })
    .await
}

struct Server {
    /// The gateway (or the all-in-one process) first.
    children: Vec<Child>,
    http: String,
    grpc: String,
    support: String,
    financing: String,
    training: String,
    data: tempfile::TempDir,
}

impl Drop for Server {
    fn drop(&mut self) {
        for child in &mut self.children {
            let _ = Command::new("kill")
                .arg("-TERM")
                .arg(child.id().to_string())
                .status();
            let _ = child.wait();
        }
    }
}

/// Waits until `url` answers 200.
async fn wait_ready(url: &str, started: Instant) -> anyhow::Result<()> {
    let client = reqwest::Client::new();
    loop {
        if let Ok(r) = client.get(url).send().await
            && r.status() == 200
        {
            return Ok(());
        }
        anyhow::ensure!(
            started.elapsed() < Duration::from_secs(30),
            "{url} not ready in 30 s"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
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
    let (http, grpc, support, financing, training) = (
        free_port()?,
        free_port()?,
        free_port()?,
        free_port()?,
        free_port()?,
    );
    let command = |target: &str| {
        let mut cmd = Command::new(&args.binary);
        cmd.env("GEARSHIFT_TARGET", target)
            .env("GEARSHIFT_DATA_DIR", data.path())
            .env("GEARSHIFT_GATEWAY_LISTEN", format!("127.0.0.1:{http}"))
            .env("GEARSHIFT_REGISTRY_LISTEN", format!("127.0.0.1:{grpc}"))
            .env(
                "GEARSHIFT_REGISTRY_ADDR",
                format!("http://127.0.0.1:{grpc}"),
            )
            .env("GEARSHIFT_SUPPORT_LISTEN", format!("127.0.0.1:{support}"))
            .env(
                "GEARSHIFT_SUPPORT_ADDR",
                format!("http://127.0.0.1:{support}"),
            )
            .env(
                "GEARSHIFT_FINANCING_LISTEN",
                format!("127.0.0.1:{financing}"),
            )
            .env(
                "GEARSHIFT_FINANCING_ADDR",
                format!("http://127.0.0.1:{financing}"),
            )
            .env("GEARSHIFT_TRAINING_LISTEN", format!("127.0.0.1:{training}"))
            .env(
                "GEARSHIFT_TRAINING_ADDR",
                format!("http://127.0.0.1:{training}"),
            )
            .env(
                "RUST_LOG",
                std::env::var("RUST_LOG").unwrap_or_else(|_| "warn".into()),
            )
            .stdout(Stdio::null())
            .stderr(Stdio::inherit());
        if let Some(url) = &args.registry_database_url {
            cmd.env("GEARSHIFT_REGISTRY_DATABASE_URL", url);
        }
        if let Some(url) = &args.gateway_database_url {
            cmd.env("GEARSHIFT_GATEWAY_DATABASE_URL", url);
        }
        if let Some(url) = &args.support_database_url {
            cmd.env("GEARSHIFT_SUPPORT_DATABASE_URL", url);
        }
        if let Some(url) = &args.financing_database_url {
            cmd.env("GEARSHIFT_FINANCING_DATABASE_URL", url);
        }
        if let Some(url) = &args.training_database_url {
            cmd.env("GEARSHIFT_TRAINING_DATABASE_URL", url);
        }
        cmd
    };
    let started = Instant::now();
    let mut children = Vec::new();
    if args.split {
        // The registry first: it makes the shared principal secret.
        children.push(command("registry").spawn()?);
        wait_ready(&format!("http://127.0.0.1:{grpc}/readyz"), started).await?;
        // The gateway is ready when every service it routes to is.
        children.push(command("support").spawn()?);
        children.push(command("financing").spawn()?);
        children.push(command("training").spawn()?);
        children.insert(0, command("gateway").spawn()?);
    } else {
        children.push(command("all").spawn()?);
    }
    let server = Server {
        children,
        http: format!("http://127.0.0.1:{http}"),
        grpc: format!("http://127.0.0.1:{grpc}"),
        support: format!("http://127.0.0.1:{support}"),
        financing: format!("http://127.0.0.1:{financing}"),
        training: format!("http://127.0.0.1:{training}"),
        data,
    };
    wait_ready(&format!("{}/readyz", server.http), started).await?;
    Ok((server, started.elapsed()))
}

/// The grpc-gateway peer in front of the registry at `grpc`; killed on drop.
struct Peer(Child, String);

impl Drop for Peer {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

async fn start_peer(binary: &PathBuf, grpc: &str) -> anyhow::Result<Peer> {
    let port = free_port()?;
    let child = Command::new(binary)
        .args(["-listen", &format!("127.0.0.1:{port}")])
        .args(["-backend", grpc.trim_start_matches("http://")])
        .args(["-emit-defaults"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()?;
    let peer = Peer(child, format!("http://127.0.0.1:{port}"));
    let started = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        anyhow::ensure!(
            started.elapsed() < Duration::from_secs(10),
            "the peer did not start"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    Ok(peer)
}

/// One HTTP GET, counted as a success on 200 with the whole body read.
async fn http_get(http: &reqwest::Client, url: &str, header: (&str, &str)) -> bool {
    match http.get(url).header(header.0, header.1).send().await {
        Ok(r) => r.status() == 200 && r.bytes().await.is_ok(),
        Err(_) => false,
    }
}

/// The comparison table: GET by id and a 50-item page, through the gateway,
/// over direct gRPC and through the peer, at 1, 32 and 64 in flight.
async fn matrix(
    args: &Args,
    server: &Server,
    channel: tonic::transport::Channel,
    key: &PrincipalKey,
    admin: &str,
    ids: Arc<Vec<String>>,
) -> anyhow::Result<()> {
    let peer = match &args.peer_gateway {
        Some(binary) => Some(start_peer(binary, &server.grpc).await?),
        None => None,
    };
    let mode = if args.split {
        "gateway and registry as separate processes"
    } else {
        "one process"
    };
    println!("## {mode}\n");
    println!(
        "| load | in flight | gateway req/s | p50 | p99 | direct req/s | p50 | p99 | gateway/direct | peer req/s | p50 | p99 | gateway/peer |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|---|---|");
    let us = |d: Duration| format!("{:.0} µs", d.as_secs_f64() * 1e6);
    for op in ["GET /v1/suppliers/{id}", "GET /v1/suppliers?pageSize=50"] {
        let page = op.contains("pageSize");
        for concurrency in [1usize, 32, 64] {
            let http = reqwest::Client::builder()
                .pool_max_idle_per_host(concurrency)
                .tcp_nodelay(true)
                .build()?;
            let url_for = {
                let ids = ids.clone();
                move |base: &str, i: usize| {
                    if page {
                        format!("{base}/v1/suppliers?pageSize=50")
                    } else {
                        format!("{base}/v1/suppliers/{}", ids[i % ids.len()])
                    }
                }
            };
            let mut rounds = Vec::new();
            for _ in 0..args.rounds.max(1) {
                let gateway = {
                    let (http, base, url_for) =
                        (http.clone(), server.http.clone(), url_for.clone());
                    let auth = Arc::new(format!("Bearer {admin}"));
                    load("gateway", concurrency, args.seconds, move |i| {
                        let (http, url, auth) = (http.clone(), url_for(&base, i), auth.clone());
                        async move { http_get(&http, &url, ("authorization", &auth)).await }
                    })
                    .await
                };
                let direct = {
                    let (channel, key, ids) = (channel.clone(), key.clone(), ids.clone());
                    load("direct", concurrency, args.seconds, move |i| {
                        let mut client = SupplierRegistryClient::new(channel.clone());
                        let id = ids[i % ids.len()].clone();
                        let key = key.clone();
                        async move {
                            if page {
                                let request = pb::ListSuppliersRequest {
                                    page_size: 50,
                                    ..Default::default()
                                };
                                client.list_suppliers(signed(request, &key)).await.is_ok()
                            } else {
                                client
                                    .get_supplier(signed(pb::GetSupplierRequest { id }, &key))
                                    .await
                                    .is_ok()
                            }
                        }
                    })
                    .await
                };
                let peer_stats = match &peer {
                    Some(peer) => {
                        let (http, base, url_for) = (http.clone(), peer.1.clone(), url_for.clone());
                        // The peer does no authentication: it forwards a principal
                        // signed here, as the gateway would.
                        let token = Arc::new(key.sign(&Principal {
                            subject: "key_bench".into(),
                            role: Role::Operator,
                        }));
                        Some(
                            load("peer", concurrency, args.seconds, move |i| {
                                let (http, url, token) =
                                    (http.clone(), url_for(&base, i), token.clone());
                                async move {
                                    http_get(
                                        &http,
                                        &url,
                                        ("grpc-metadata-x-gearshift-principal", &token),
                                    )
                                    .await
                                }
                            })
                            .await,
                        )
                    }
                    None => None,
                };
                rounds.push((gateway, direct, peer_stats));
            }
            let ratio = |(g, d, _): &(Stats, Stats, Option<Stats>)| g.rps() / d.rps();
            rounds.sort_by(|a, b| ratio(a).total_cmp(&ratio(b)));
            let spread = if rounds.len() > 1 {
                format!(
                    " ({:.2}–{:.2})",
                    ratio(&rounds[0]),
                    ratio(&rounds[rounds.len() - 1])
                )
            } else {
                String::new()
            };
            let (gateway, direct, peer_stats) = rounds.swap_remove(rounds.len() / 2);
            let errors =
                gateway.errors + direct.errors + peer_stats.as_ref().map_or(0, |p| p.errors);
            let (peer_cols, ratio_peer) = match &peer_stats {
                Some(p) => (
                    format!(
                        "{:.0} | {} | {}",
                        p.rps(),
                        us(p.percentile(0.5)),
                        us(p.percentile(0.99))
                    ),
                    format!("{:.2}", gateway.rps() / p.rps()),
                ),
                None => ("– | – | –".into(), "–".into()),
            };
            println!(
                "| {op} | {concurrency} | {:.0} | {} | {} | {:.0} | {} | {} | {:.2}{spread} | {peer_cols} | {ratio_peer} |{}",
                gateway.rps(),
                us(gateway.percentile(0.5)),
                us(gateway.percentile(0.99)),
                direct.rps(),
                us(direct.percentile(0.5)),
                us(direct.percentile(0.99)),
                gateway.rps() / direct.rps(),
                if errors > 0 {
                    format!(" {errors} errors")
                } else {
                    String::new()
                },
            );
            if concurrency == 1 {
                let mean = direct.latencies.iter().sum::<Duration>()
                    / direct.latencies.len().max(1) as u32;
                println!(
                    "|  | added latency at 1 in flight (gateway p50 − direct mean): {} |",
                    us(gateway.percentile(0.5).saturating_sub(mean))
                );
            }
        }
    }
    Ok(())
}

fn signed<T>(message: T, key: &PrincipalKey) -> tonic::Request<T> {
    signed_as(message, key, "key_bench", Role::Operator)
}

fn signed_as<T>(message: T, key: &PrincipalKey, subject: &str, role: Role) -> tonic::Request<T> {
    let mut request = tonic::Request::new(message);
    let token = key.sign(&Principal {
        subject: subject.into(),
        role,
    });
    if let Ok(v) = token.parse() {
        request.metadata_mut().insert(METADATA_KEY, v);
    }
    request
}

fn business_number(seed: usize) -> String {
    let first_nine = format!("{:09}", 100_000_000 + seed % 900_000_000);
    gearshift_registry::supplier::BusinessNumber::with_check_digit(&first_nine)
        .map(|n| n.digits().to_string())
        .unwrap_or_default()
}

struct Stats {
    name: String,
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
async fn load<F, Fut>(name: &str, concurrency: usize, seconds: u64, op: F) -> Stats
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
        name: name.to_string(),
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
    let idle_rss: u64 = server.children.iter().filter_map(|c| rss_kib(c.id())).sum();
    println!("start to /readyz 200: {} ms", ready_after.as_millis());
    println!(
        "idle resident memory ({}): {:.1} MiB",
        if args.split {
            "every process"
        } else {
            "all-in-one"
        },
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
    let seeding = Instant::now();
    let ids = seed(channel.clone(), &key, args.suppliers).await?;
    println!("seeding took {:.1} s", seeding.elapsed().as_secs_f64());
    if let Some(url) = &args.registry_database_url {
        // Fresh statistics, as autovacuum would gather within a minute of
        // a bulk load; without them PostgreSQL guesses row counts.
        use sqlx::Connection;
        sqlx::any::install_default_drivers();
        let mut conn = sqlx::AnyConnection::connect(url).await?;
        sqlx::raw_sql("ANALYZE").execute(&mut conn).await?;
    }
    println!(
        "seeded {} suppliers; concurrency {}, {} s per run\n",
        ids.len(),
        args.concurrency,
        args.seconds
    );
    let ids = Arc::new(ids);
    if args.matrix {
        return matrix(&args, &server, channel, &key, &admin, ids).await;
    }
    let runs = |name: &str| args.loads.iter().any(|l| l == name);
    if runs("support-stats") {
        support_stats(&args, &server, &key, &admin, &ids).await?;
    }
    if runs("financing-stats") {
        financing_stats(&args, &server, &key, &admin, &ids).await?;
    }
    if runs("training-stats") {
        training_stats(&args, &server, &key, &admin, &ids).await?;
    }

    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(args.concurrency)
        .tcp_nodelay(true)
        .build()?;
    let (base, admin_h) = (
        Arc::new(server.http.clone()),
        Arc::new(format!("Bearer {admin}")),
    );
    if runs("list") {
        for (name, query) in LIST_QUERIES {
            let (http, base, auth) = (http.clone(), base.clone(), admin_h.clone());
            let url = Arc::new(format!("{base}/v1/suppliers?{query}"));
            let stats = load(name, args.list_concurrency, args.seconds, move |_| {
                let (http, url, auth) = (http.clone(), url.clone(), auth.clone());
                async move {
                    match http
                        .get(url.as_str())
                        .header("authorization", auth.as_str())
                        .send()
                        .await
                    {
                        Ok(r) => r.status() == 200 && r.bytes().await.is_ok(),
                        Err(_) => false,
                    }
                }
            })
            .await;
            stats.print();
        }
        println!();
    }
    if !runs("get") {
        return Ok(());
    }
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

/// Seeds `--tickets` tickets over gRPC (a third started and resolved),
/// then measures `GET /v1/support/stats` one request at a time.
async fn support_stats(
    args: &Args,
    server: &Server,
    key: &PrincipalKey,
    admin: &str,
    suppliers: &[String],
) -> anyhow::Result<()> {
    use gearshift_proto::support::v1 as sp;
    use sp::support_centre_client::SupportCentreClient;
    let channel = tonic::transport::Endpoint::from_shared(server.support.clone())?
        .tcp_nodelay(true)
        .connect()
        .await?;
    let categories = [
        sp::Category::Certification,
        sp::Category::BusinessRestructuring,
        sp::Category::OemSupply,
        sp::Category::FinancingGuidance,
        sp::Category::PartsConsulting,
        sp::Category::CrisisResponse,
        sp::Category::InfrastructureAccess,
        sp::Category::GreenCarProgramme,
    ];
    let seeding = Instant::now();
    let suppliers = Arc::new(suppliers.to_vec());
    let n = args.tickets;
    let client = SupportCentreClient::new(channel);
    let key = key.clone();
    in_parallel(n, move |i| {
        let (mut client, key, suppliers) = (client.clone(), key.clone(), suppliers.clone());
        async move {
            let created = client
                .create_ticket(signed(
                    sp::CreateTicketRequest {
                        ticket: Some(sp::Ticket {
                            supplier_id: suppliers[i % suppliers.len()].clone(),
                            requester: Some(sp::Requester {
                                name: format!("담당자 {i}"),
                                ..Default::default()
                            }),
                            category: categories[i % categories.len()] as i32,
                            priority: 1 + (i % 4) as i32,
                            subject: format!("benchmark request {i}"),
                            description: "seeded for the figures benchmark".into(),
                            ..Default::default()
                        }),
                    },
                    &key,
                ))
                .await?
                .into_inner();
            if i.is_multiple_of(3) && !created.assignee_institute.is_empty() {
                client
                    .start_ticket(signed(
                        sp::StartTicketRequest {
                            id: created.id.clone(),
                            ..Default::default()
                        },
                        &key,
                    ))
                    .await?;
                client
                    .resolve_ticket(signed(
                        sp::ResolveTicketRequest {
                            id: created.id.clone(),
                            resolution: "answered".into(),
                            ..Default::default()
                        },
                        &key,
                    ))
                    .await?;
            }
            anyhow::Ok(())
        }
    })
    .await?;
    println!(
        "seeded {} tickets in {:.1} s",
        args.tickets,
        seeding.elapsed().as_secs_f64()
    );
    figures(
        server,
        admin,
        "/v1/support/stats",
        args.support_database_url.as_deref(),
        args.seconds,
    )
    .await
}

/// What autovacuum does after a bulk insert (statistics, and the
/// visibility map that lets PostgreSQL answer from an index alone) on
/// `database_url`, then `GET {path}` one request at a time.
async fn figures(
    server: &Server,
    admin: &str,
    path: &str,
    database_url: Option<&str>,
    seconds: u64,
) -> anyhow::Result<()> {
    if let Some(url) = database_url {
        use sqlx::Connection;
        sqlx::any::install_default_drivers();
        let mut conn = sqlx::AnyConnection::connect(url).await?;
        sqlx::raw_sql("VACUUM ANALYZE").execute(&mut conn).await?;
    }
    let http = reqwest::Client::new();
    let url = Arc::new(format!("{}{path}", server.http));
    let auth = Arc::new(format!("Bearer {admin}"));
    let stats = load(&format!("GET {path}"), 1, seconds, move |_| {
        let (http, url, auth) = (http.clone(), url.clone(), auth.clone());
        async move {
            match http
                .get(url.as_str())
                .header("authorization", auth.as_str())
                .send()
                .await
            {
                Ok(r) => r.status() == 200 && r.bytes().await.is_ok(),
                Err(_) => false,
            }
        }
    })
    .await;
    stats.print();
    Ok(())
}

fn jiff_ts(seconds: i64) -> Option<prost_types::Timestamp> {
    Some(gearshift_platform::time::to_timestamp(seconds * 1_000_000))
}

/// Seeds `--applications` applications over gRPC across ten programmes
/// (each submitted; half reviewed by two reviewers and decided, two in
/// three of those approved and paid a first tranche), then measures
/// `GET /v1/financing/stats` one request at a time.
async fn financing_stats(
    args: &Args,
    server: &Server,
    key: &PrincipalKey,
    admin: &str,
    suppliers: &[String],
) -> anyhow::Result<()> {
    use fp::financing_client::FinancingClient;
    use gearshift_proto::financing::v1 as fp;
    let channel = tonic::transport::Endpoint::from_shared(server.financing.clone())?
        .tcp_nodelay(true)
        .connect()
        .await?;
    let mut client = FinancingClient::new(channel.clone());
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)?
        .as_secs() as i64;
    let criteria = [
        ("technology", 30),
        ("feasibility", 25),
        ("young jobs", 25),
        ("local", 20),
    ];
    // Enough programmes that no company applies twice to one.
    let per_programme = suppliers.len().max(1);
    let programmes = args.applications.div_ceil(per_programme).max(1);
    let mut programme_ids = Vec::new();
    for p in 0..programmes {
        let created = client
            .create_programme(signed(
                fp::CreateProgrammeRequest {
                    programme: Some(fp::Programme {
                        name_ko: format!("벤치마크 프로그램 {p}"),
                        kind: fp::ProgrammeKind::PolicyLoan as i32,
                        purposes: vec![fp::Purpose::FacilityConversion as i32],
                        total_budget_won: 1_000_000_000_000,
                        per_company_cap_won: 500_000_000,
                        per_company_min_won: 1_000_000,
                        opens_time: jiff_ts(now - 86_400),
                        closes_time: jiff_ts(now + 30 * 86_400),
                        criteria: criteria
                            .iter()
                            .map(|(n, w)| fp::Criterion {
                                name: (*n).into(),
                                weight: *w,
                            })
                            .collect(),
                        pass_mark: 50,
                        ..Default::default()
                    }),
                },
                key,
            ))
            .await?
            .into_inner();
        client
            .open_programme(signed(
                fp::OpenProgrammeRequest {
                    id: created.id.clone(),
                    ..Default::default()
                },
                key,
            ))
            .await?;
        programme_ids.push(created.id);
    }
    let seeding = Instant::now();
    let (suppliers, programme_ids) = (Arc::new(suppliers.to_vec()), Arc::new(programme_ids));
    let n = args.applications;
    let scores = move |s: i32| -> Vec<fp::Score> {
        criteria
            .iter()
            .map(|(n, _)| fp::Score {
                criterion: (*n).into(),
                score: s,
                comment: "ok".into(),
            })
            .collect()
    };
    let key = key.clone();
    in_parallel(n, move |i| {
        let (mut client, key, suppliers, programme_ids) = (
            client.clone(),
            key.clone(),
            suppliers.clone(),
            programme_ids.clone(),
        );
        async move {
            let a = client
                .create_application(signed(
                    fp::CreateApplicationRequest {
                        application: Some(fp::Application {
                            programme_id: programme_ids[i / per_programme].clone(),
                            supplier_id: suppliers[i % suppliers.len()].clone(),
                            requested_amount_won: 10_000_000 + (i as i64 % 40) * 10_000_000,
                            purpose: fp::Purpose::FacilityConversion as i32,
                            transition_plan_summary: format!("benchmark plan {i}"),
                            planned_hires: 10,
                            planned_young_hires: 4,
                            ..Default::default()
                        }),
                    },
                    &key,
                ))
                .await?
                .into_inner();
            let id = a.id.clone();
            client
                .submit_application(signed(
                    fp::SubmitApplicationRequest {
                        id: id.clone(),
                        ..Default::default()
                    },
                    &key,
                ))
                .await?;
            if i % 2 == 1 {
                return anyhow::Ok(());
            }
            client
                .screen_application(signed(
                    fp::ScreenApplicationRequest {
                        id: id.clone(),
                        ..Default::default()
                    },
                    &key,
                ))
                .await?;
            let reviewers = [format!("key_{:0>26}", "1"), format!("key_{:0>26}", "2")];
            client
                .assign_reviewers(signed(
                    fp::AssignReviewersRequest {
                        id: id.clone(),
                        reviewers: reviewers.iter().map(|r| r.to_string()).collect(),
                        ..Default::default()
                    },
                    &key,
                ))
                .await?;
            for (r, reviewer) in reviewers.iter().enumerate() {
                client
                    .submit_review(signed_as(
                        fp::SubmitReviewRequest {
                            application_id: id.clone(),
                            review: Some(fp::Review {
                                declaration: fp::review::Declaration::NoConflict as i32,
                                scores: scores(60 + 10 * r as i32),
                                ..Default::default()
                            }),
                        },
                        &key,
                        reviewer,
                        Role::Reviewer,
                    ))
                    .await?;
            }
            let approve = i % 3 != 0;
            let decision = fp::Decision {
                outcome: if approve {
                    fp::decision::Outcome::Approved
                } else {
                    fp::decision::Outcome::Rejected
                } as i32,
                approved_amount_won: if approve { a.requested_amount_won } else { 0 },
                reasons: if approve {
                    vec![]
                } else {
                    vec!["benchmark".into()]
                },
                rationale: "benchmark".into(),
                ..Default::default()
            };
            client
                .decide_application(signed_as(
                    fp::DecideApplicationRequest {
                        id: id.clone(),
                        decision: Some(decision),
                        ..Default::default()
                    },
                    &key,
                    &format!("key_{:0>26}", "9"),
                    Role::Operator,
                ))
                .await?;
            if approve {
                client
                    .disburse_tranche(signed(
                        fp::DisburseTrancheRequest {
                            id,
                            tranche: Some(fp::Tranche {
                                amount_won: a.requested_amount_won / 2,
                                ..Default::default()
                            }),
                            ..Default::default()
                        },
                        &key,
                    ))
                    .await?;
            }
            anyhow::Ok(())
        }
    })
    .await?;
    println!(
        "seeded {} applications over {programmes} programmes in {:.1} s",
        args.applications,
        seeding.elapsed().as_secs_f64()
    );
    figures(
        server,
        admin,
        "/v1/financing/stats",
        args.financing_database_url.as_deref(),
        args.seconds,
    )
    .await
}

/// Seeds `--enrollments` trainees (four in five employed by an active
/// seeded company, the rest job seekers), each enrolled once across
/// cohorts of 200 seats in six tracks over a year (about a tenth of them
/// waitlisted), then measures `GET /v1/training/stats` one request at a
/// time.
async fn training_stats(
    args: &Args,
    server: &Server,
    key: &PrincipalKey,
    admin: &str,
    suppliers: &[String],
) -> anyhow::Result<()> {
    use gearshift_proto::training::v1 as tp;
    use tp::training_client::TrainingClient;
    let channel = tonic::transport::Endpoint::from_shared(server.training.clone())?
        .tcp_nodelay(true)
        .connect()
        .await?;
    let mut client = TrainingClient::new(channel.clone());
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)?
        .as_secs() as i64;
    let tracks = [
        tp::Track::BatterySystems,
        tp::Track::EmotorPowerElectronics,
        tp::Track::AdasSoftware,
        tp::Track::FunctionalSafety,
        tp::Track::HydrogenFuelCells,
        tp::Track::SmartManufacturing,
    ];
    let mut courses = Vec::new();
    for (i, track) in tracks.iter().enumerate() {
        let c = client
            .create_course(signed(
                tp::CreateCourseRequest {
                    course: Some(tp::Course {
                        code: format!("BENCH-{i}"),
                        title_ko: format!("벤치마크 과정 {i}"),
                        track: *track as i32,
                        level: tp::Level::Introductory as i32,
                        hours: 24,
                        institute: "GJTP".into(),
                        ..Default::default()
                    }),
                },
                key,
            ))
            .await?
            .into_inner();
        client
            .publish_course(signed(
                tp::PublishCourseRequest {
                    id: c.id.clone(),
                    ..Default::default()
                },
                key,
            ))
            .await?;
        courses.push(c.id);
    }
    // 220 enrolments a cohort: 200 seats and a short waitlist.
    let cohorts_needed = args.enrollments.div_ceil(220).max(1);
    let mut cohorts = Vec::new();
    for i in 0..cohorts_needed {
        let month = 1 + (i % 12);
        let c = client
            .create_cohort(signed(
                tp::CreateCohortRequest {
                    cohort: Some(tp::Cohort {
                        course_id: courses[i % courses.len()].clone(),
                        start_date: format!("2027-{month:02}-01"),
                        end_date: format!("2027-{month:02}-05"),
                        session_days: (1..=5).map(|d| format!("2027-{month:02}-{d:02}")).collect(),
                        online: true,
                        capacity: 200,
                        waitlist: true,
                        enrollment_opens_time: jiff_ts(now - 86_400),
                        enrollment_closes_time: jiff_ts(now + 30 * 86_400),
                        ..Default::default()
                    }),
                },
                key,
            ))
            .await?
            .into_inner();
        client
            .transition_cohort(signed(
                tp::TransitionCohortRequest {
                    id: c.id.clone(),
                    status: tp::cohort::Status::Enrolling as i32,
                    ..Default::default()
                },
                key,
            ))
            .await?;
        cohorts.push(c.id);
    }
    // Only active companies' staff can enrol.
    let mut registry = SupplierRegistryClient::new(
        tonic::transport::Endpoint::from_shared(server.grpc.clone())?
            .connect()
            .await?,
    );
    let mut active = Vec::new();
    for chunk in suppliers.chunks(500) {
        let found = registry
            .batch_get_suppliers(signed(
                pb::BatchGetSuppliersRequest {
                    ids: chunk.to_vec(),
                },
                key,
            ))
            .await?
            .into_inner()
            .suppliers;
        active.extend(
            found
                .into_iter()
                .filter(|s| s.status == pb::SupplierStatus::Active as i32)
                .map(|s| s.id),
        );
    }
    anyhow::ensure!(!active.is_empty(), "no active supplier was seeded");
    let seeding = Instant::now();
    let cohort_count = cohorts.len();
    let (suppliers, cohorts) = (Arc::new(active), Arc::new(cohorts));
    let n = args.enrollments;
    let key = key.clone();
    in_parallel(n, move |i| {
        let (mut client, key, suppliers, cohorts) = (
            client.clone(),
            key.clone(),
            suppliers.clone(),
            cohorts.clone(),
        );
        async move {
            let trainee = client
                .create_trainee(signed(
                    tp::CreateTraineeRequest {
                        trainee: Some(tp::Trainee {
                            name: format!("훈련생 {i}"),
                            birth_date: format!("{}-05-05", 1970 + (i % 40)),
                            email: format!("t{i}@example.kr"),
                            supplier_id: if i % 5 == 4 {
                                String::new()
                            } else {
                                suppliers[i % suppliers.len()].clone()
                            },
                            ..Default::default()
                        }),
                    },
                    &key,
                ))
                .await?
                .into_inner();
            client
                .create_enrollment(signed(
                    tp::CreateEnrollmentRequest {
                        enrollment: Some(tp::Enrollment {
                            trainee_id: trainee.id,
                            cohort_id: cohorts[i % cohorts.len()].clone(),
                            ..Default::default()
                        }),
                    },
                    &key,
                ))
                .await?;
            anyhow::Ok(())
        }
    })
    .await?;
    println!(
        "seeded {} trainees and enrolments over {} cohorts in {:.1} s",
        args.enrollments,
        cohort_count,
        seeding.elapsed().as_secs_f64()
    );
    figures(
        server,
        admin,
        "/v1/training/stats",
        args.training_database_url.as_deref(),
        args.seconds,
    )
    .await
}
