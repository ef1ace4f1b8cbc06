//! The future-car R&D training centre: the course catalogue, cohorts with
//! limited seats, trainees, and enrolment with waitlists.
//!
//! A folder per resource — `course/`, `cohort/`, `trainee/`,
//! `enrollment/` — each with its rules (no I/O), its SQL (`store`) and its
//! gRPC handlers (`grpc`); `api` implements the gRPC service once; the
//! supplier registry is asked through `gearshift_registry::client`.
//! [`Training`] is a [`Target`].

#![forbid(unsafe_code)]

mod api;
pub mod attendance;
pub mod certificate;
pub mod cohort;
pub mod course;
pub mod enrollment;
pub mod evidence;
pub mod reason;
pub mod stats;
pub mod trainee;
pub mod worker;

use std::net::SocketAddr;
use std::time::Duration;

use anyhow::Context as _;
use gearshift_platform::db::Db;
use gearshift_platform::principal::Authenticate;
use gearshift_platform::server;
use gearshift_platform::shutdown::Shutdown;
use gearshift_platform::target::{Context, Target};
use gearshift_proto::training::v1::training_server::TrainingServer;
use sqlx::migrate::Migrator;
use tokio::net::TcpListener;

pub static MIGRATIONS: Migrator = sqlx::migrate!("./migrations");

/// The registry's service training asks about companies.
const REGISTRY: &str = "gearshift.registry.v1.SupplierRegistry";

gearshift_platform::target_config! {
    /// Training's configuration (`gearshift serve --help`).
    pub struct TrainingConfig {
        target: "training", env: "TRAINING",
        listen: "127.0.0.1:50054" => "Address the training centre's gRPC API (and its /healthz, /readyz, /metrics) listens on.",
        max_connections: 8,
        addr: "http://127.0.0.1:50054",
    }
    /// The age under which a trainee counts as young (the programme's youth measure).
    #[arg(id = "training_young_under", long = "training-young-under", env = "GEARSHIFT_TRAINING_YOUNG_UNDER", value_name = "YEARS", default_value_t = 35, value_parser = clap::value_parser!(u32).range(15..=100))]
    pub young_under: u32,
    /// How often the service looks for seat offers that lapsed.
    #[arg(id = "training_sweep_interval", long = "training-sweep-interval", env = "GEARSHIFT_TRAINING_SWEEP_INTERVAL", value_name = "DURATION", default_value = "30s", value_parser = gearshift_platform::config::parse_duration)]
    pub sweep_interval: Duration,
}

/// What every handler works with.
#[derive(Clone, Debug)]
pub struct TrainingService {
    pub(crate) db: Db,
    pub(crate) registry: gearshift_registry::client::Registry,
    /// The age under which a trainee counts as young.
    pub(crate) young_under: u32,
    /// Signs the service's own principal (evidence for the registry).
    pub(crate) principal_key: gearshift_platform::principal::PrincipalKey,
}

/// A built training service: database ready, listener bound.
pub struct Training {
    service: TrainingService,
    sweep_interval: Duration,
    routes: tonic::service::Routes,
    listener: TcpListener,
    addr: SocketAddr,
}

async fn prepare(config: &TrainingConfig, ctx: &Context) -> anyhow::Result<Db> {
    let url = config.database_url(&ctx.data_dir);
    ctx.database("training", &url, config.max_connections, &MIGRATIONS)
        .await
}

impl Target for Training {
    const NAME: &'static str = "training";
    const SERVICES: &'static [&'static str] = &["gearshift.training.v1.Training"];
    type Config = TrainingConfig;

    fn remote_url(config: &TrainingConfig) -> Option<String> {
        Some(config.addr.clone())
    }

    async fn migrate(config: &TrainingConfig, ctx: &Context) -> anyhow::Result<()> {
        prepare(config, ctx).await?.close().await;
        Ok(())
    }

    async fn build(config: &TrainingConfig, ctx: &Context) -> anyhow::Result<Self> {
        let registry = ctx
            .directory
            .get(REGISTRY)
            .context("training needs the registry: set GEARSHIFT_REGISTRY_ADDR")?;
        let registry = gearshift_registry::client::Registry::new(
            gearshift_platform::client::connect(registry)?,
        );
        let db = prepare(config, ctx).await?;
        let service = TrainingService {
            db,
            registry,
            young_under: config.young_under,
            principal_key: ctx.principal_key.clone(),
        };
        let routes = tonic::service::Routes::new(TrainingServer::with_interceptor(
            service.clone(),
            Authenticate::new(ctx.principal_key.clone()),
        ));
        let (listener, addr) = server::bind(config.listen).await?;
        tracing::info!(%addr, "training built");
        Ok(Self {
            service,
            sweep_interval: config.sweep_interval,
            routes,
            listener,
            addr,
        })
    }

    fn local_service(&self) -> Option<gearshift_platform::target::LocalService> {
        Some(server::local_service(self.routes.clone()))
    }

    fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    async fn run(self, shutdown: Shutdown) -> anyhow::Result<()> {
        let sweeper = tokio::spawn(worker::run(
            self.service.clone(),
            self.sweep_interval,
            shutdown.clone(),
        ));
        server::serve_with_db(
            self.listener,
            self.routes,
            Self::SERVICES,
            self.service.db.clone(),
            vec![sweeper],
            shutdown,
        )
        .await
    }
}
