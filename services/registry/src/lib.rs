//! The supplier registry: the system of record for the cluster's companies.
//!
//! A folder per resource it owns — `supplier/`, `stage_change/`,
//! `institute/`, `programme/` — each with its rules (no I/O), who may do
//! what (`access`), its SQL (`store`) and its gRPC handlers (`grpc`).
//! `api` is the one implementation of each gRPC service, handing every
//! method to its resource's handler; `reason` lists the codes the registry
//! refuses with. [`Registry`] is a [`Target`]: `build` makes the database
//! ready and binds the listener, `run` serves until shutdown. Tests and the
//! binary use the same two calls.

#![forbid(unsafe_code)]

mod api;
pub mod client;
pub mod institute;
pub mod programme;
pub mod reason;
pub mod stage_change;
pub mod supplier;
pub mod training_evidence;

use std::net::SocketAddr;

use gearshift_platform::db::Db;
use gearshift_platform::principal::Authenticate;
use gearshift_platform::server;
use gearshift_platform::shutdown::Shutdown;
use gearshift_platform::target::{Context, Target};
use gearshift_proto::registry::v1::institute_directory_server::InstituteDirectoryServer;
use gearshift_proto::registry::v1::supplier_registry_server::SupplierRegistryServer;
use sqlx::migrate::Migrator;
use tokio::net::TcpListener;

pub static MIGRATIONS: Migrator = sqlx::migrate!("./migrations");

gearshift_platform::target_config! {
    /// The registry's configuration (`gearshift serve --help`).
    pub struct RegistryConfig {
        target: "registry", env: "REGISTRY",
        listen: "127.0.0.1:50051" => "Address the registry's gRPC API (and its /healthz, /readyz, /metrics) listens on.",
        max_connections: 8,
        addr: "http://127.0.0.1:50051",
    }
    /// The programme's target: local companies turned into future-car suppliers.
    #[arg(long = "registry-target-suppliers", env = "GEARSHIFT_REGISTRY_TARGET_SUPPLIERS", value_name = "N", default_value_t = 100, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub target_suppliers: u32,
    /// The year that target is for.
    #[arg(long = "registry-target-year", env = "GEARSHIFT_REGISTRY_TARGET_YEAR", value_name = "YEAR", default_value_t = 2030, value_parser = clap::value_parser!(u32).range(2000..=2100))]
    pub target_year: u32,
}

/// What every handler works with: the database (and its clock) and the
/// programme's target. Implements both gRPC services (`api`).
#[derive(Clone, Debug)]
pub struct RegistryService {
    pub(crate) db: Db,
    pub(crate) target: programme::Target,
}

/// A built registry: database ready, listener bound, not yet serving.
pub struct Registry {
    db: Db,
    /// Its gRPC services, behind the principal check: served on the
    /// listener, and handed to targets in this process.
    routes: tonic::service::Routes,
    listener: TcpListener,
    addr: SocketAddr,
}

/// Connects to the database and makes it ready: migrations, search
/// indexes, the directory's seed. `migrate` and `build` both start here.
async fn prepare(config: &RegistryConfig, ctx: &Context) -> anyhow::Result<Db> {
    let url = config.database_url(&ctx.data_dir);
    let db = ctx
        .database("registry", &url, config.max_connections, &MIGRATIONS)
        .await?;
    supplier::store::ensure_search_indexes(&db).await;
    let seeded = institute::store::seed(&db).await?;
    if seeded > 0 {
        tracing::info!(count = seeded, "institute directory seeded");
    }
    Ok(db)
}

impl Target for Registry {
    const NAME: &'static str = "registry";
    const SERVICES: &'static [&'static str] = &[
        "gearshift.registry.v1.SupplierRegistry",
        "gearshift.registry.v1.InstituteDirectory",
    ];
    type Config = RegistryConfig;

    fn remote_url(config: &RegistryConfig) -> Option<String> {
        Some(config.addr.clone())
    }

    async fn migrate(config: &RegistryConfig, ctx: &Context) -> anyhow::Result<()> {
        prepare(config, ctx).await?.close().await;
        Ok(())
    }

    async fn build(config: &RegistryConfig, ctx: &Context) -> anyhow::Result<Self> {
        let db = prepare(config, ctx).await?;
        let service = RegistryService {
            db: db.clone(),
            target: programme::Target {
                suppliers: config.target_suppliers,
                year: config.target_year,
            },
        };
        let check = Authenticate::new(ctx.principal_key.clone());
        let routes = tonic::service::Routes::new(SupplierRegistryServer::with_interceptor(
            service.clone(),
            check.clone(),
        ))
        .add_service(InstituteDirectoryServer::with_interceptor(service, check));
        let (listener, addr) = server::bind(config.listen).await?;
        tracing::info!(%addr, "registry built");
        Ok(Self {
            db,
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
            self.db,
            Vec::new(),
            shutdown,
        )
        .await
    }
}
