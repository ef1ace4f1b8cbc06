//! Special-case financing: the city's programmes (policy loans, interest
//! subsidies, guarantees, grants) and companies' applications to them.
//!
//! A folder per resource — `programme/`, `application/`, `review/`,
//! `budget/` — each with its rules (no I/O), its SQL (`store`) and its gRPC
//! handlers (`grpc`); `stats` the figures; `api`
//! implements the gRPC service once; the supplier registry is asked
//! through `gearshift_registry::client`. [`Financing`] is a [`Target`].

#![forbid(unsafe_code)]

mod api;
pub mod application;
pub mod budget;
pub mod programme;
pub mod reason;
pub mod review;
pub mod stats;

use std::net::SocketAddr;

use anyhow::Context as _;
use gearshift_platform::db::Db;
use gearshift_platform::principal::Authenticate;
use gearshift_platform::server;
use gearshift_platform::shutdown::Shutdown;
use gearshift_platform::target::{Context, Target};
use gearshift_proto::financing::v1::financing_server::FinancingServer;
use sqlx::migrate::Migrator;
use tokio::net::TcpListener;

pub static MIGRATIONS: Migrator = sqlx::migrate!("./migrations");

/// The registry's service financing asks about companies.
const REGISTRY: &str = "gearshift.registry.v1.SupplierRegistry";

gearshift_platform::target_config! {
    /// Financing's configuration (`gearshift serve --help`).
    pub struct FinancingConfig {
        target: "financing", env: "FINANCING",
        listen: "127.0.0.1:50053" => "Address the financing gRPC API (and its /healthz, /readyz, /metrics) listens on.",
        max_connections: 8,
        addr: "http://127.0.0.1:50053",
    }
}

/// What every handler works with.
#[derive(Clone, Debug)]
pub struct FinancingService {
    pub(crate) db: Db,
    pub(crate) registry: gearshift_registry::client::Registry,
}

/// A built financing service: database ready, listener bound.
pub struct Financing {
    service: FinancingService,
    routes: tonic::service::Routes,
    listener: TcpListener,
    addr: SocketAddr,
}

async fn prepare(config: &FinancingConfig, ctx: &Context) -> anyhow::Result<Db> {
    let url = config.database_url(&ctx.data_dir);
    ctx.database("financing", &url, config.max_connections, &MIGRATIONS)
        .await
}

impl Target for Financing {
    const NAME: &'static str = "financing";
    const SERVICES: &'static [&'static str] = &["gearshift.financing.v1.Financing"];
    type Config = FinancingConfig;

    fn remote_url(config: &FinancingConfig) -> Option<String> {
        Some(config.addr.clone())
    }

    async fn migrate(config: &FinancingConfig, ctx: &Context) -> anyhow::Result<()> {
        prepare(config, ctx).await?.close().await;
        Ok(())
    }

    async fn build(config: &FinancingConfig, ctx: &Context) -> anyhow::Result<Self> {
        let registry = ctx
            .directory
            .get(REGISTRY)
            .context("financing needs the registry: set GEARSHIFT_REGISTRY_ADDR")?;
        let registry = gearshift_registry::client::Registry::new(
            gearshift_platform::client::connect(registry)?,
        );
        let db = prepare(config, ctx).await?;
        let service = FinancingService { db, registry };
        let routes = tonic::service::Routes::new(FinancingServer::with_interceptor(
            service.clone(),
            Authenticate::new(ctx.principal_key.clone()),
        ));
        let (listener, addr) = server::bind(config.listen).await?;
        tracing::info!(%addr, "financing built");
        Ok(Self {
            service,
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
        server::serve_with_db(
            self.listener,
            self.routes,
            Self::SERVICES,
            self.service.db,
            Vec::new(),
            shutdown,
        )
        .await
    }
}
