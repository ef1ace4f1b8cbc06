//! The one-stop support centre: every request a local company brings,
//! routed to the partner institute that can answer it, within a promised
//! time.
//!
//! A folder per resource — `ticket/` (with its service levels in
//! `ticket/sla.rs`), `comment/`, `routing/` — each with its rules (no
//! I/O), who may do what (`access`), its SQL (`store`) and its gRPC
//! handlers (`grpc`). `api` implements the gRPC service once; the supplier
//! registry is asked through `gearshift_registry::client`; `worker` does the time-driven work
//! (breach events, automatic close). [`Support`] is a [`Target`].

#![forbid(unsafe_code)]

mod api;
pub mod comment;
pub mod desk;
pub mod policy;
pub mod reason;
pub mod routing;
pub mod ticket;
pub mod worker;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use gearshift_platform::calendar::BusinessCalendar;
use gearshift_platform::db::Db;
use gearshift_platform::principal::Authenticate;
use gearshift_platform::server;
use gearshift_platform::shutdown::Shutdown;
use gearshift_platform::target::{Context, Target};
use gearshift_proto::support::v1::support_centre_server::SupportCentreServer;
use sqlx::migrate::Migrator;
use tokio::net::TcpListener;

pub static MIGRATIONS: Migrator = sqlx::migrate!("./migrations");

/// The registry's service the support centre asks about companies.
const REGISTRY: &str = "gearshift.registry.v1.SupplierRegistry";

gearshift_platform::target_config! {
    /// The support centre's configuration (`gearshift serve --help`).
    pub struct SupportConfig {
        target: "support", env: "SUPPORT",
        listen: "127.0.0.1:50052" => "Address the support centre's gRPC API (and its /healthz, /readyz, /metrics) listens on.",
        max_connections: 8,
        addr: "http://127.0.0.1:50052",
    }
    /// Days after resolution within which the company may reopen a ticket.
    #[arg(long = "support-reopen-days", env = "GEARSHIFT_SUPPORT_REOPEN_DAYS", value_name = "DAYS", default_value_t = 14, value_parser = clap::value_parser!(u32).range(1..=365))]
    pub reopen_days: u32,
    /// Days after resolution at which a ticket not reopened is closed.
    #[arg(long = "support-auto-close-days", env = "GEARSHIFT_SUPPORT_AUTO_CLOSE_DAYS", value_name = "DAYS", default_value_t = 7, value_parser = clap::value_parser!(u32).range(1..=365))]
    pub auto_close_days: u32,
    /// How often the service looks for breached service levels and tickets to close.
    #[arg(long = "support-sweep-interval", env = "GEARSHIFT_SUPPORT_SWEEP_INTERVAL", value_name = "DURATION", default_value = "30s", value_parser = gearshift_platform::config::parse_duration)]
    pub sweep_interval: Duration,
}

/// The periods the service is configured with.
#[derive(Debug, Clone, Copy)]
pub struct Settings {
    pub reopen_days: u32,
    pub auto_close_days: u32,
}

/// What every handler works with: the database (and its clock), the
/// business calendar, the registry and the settings.
#[derive(Clone, Debug)]
pub struct SupportService {
    pub(crate) db: Db,
    pub(crate) calendar: Arc<BusinessCalendar>,
    pub(crate) registry: gearshift_registry::client::Registry,
    pub(crate) settings: Settings,
}

/// A built support centre: database ready, listener bound, not yet serving.
pub struct Support {
    service: SupportService,
    routes: tonic::service::Routes,
    listener: TcpListener,
    addr: SocketAddr,
    sweep_interval: Duration,
}

async fn prepare(config: &SupportConfig, ctx: &Context) -> anyhow::Result<Db> {
    let url = config.database_url(&ctx.data_dir);
    ctx.database("support", &url, config.max_connections, &MIGRATIONS)
        .await
}

impl Target for Support {
    const NAME: &'static str = "support";
    const SERVICES: &'static [&'static str] = &["gearshift.support.v1.SupportCentre"];
    type Config = SupportConfig;

    fn remote_url(config: &SupportConfig) -> Option<String> {
        Some(config.addr.clone())
    }

    async fn migrate(config: &SupportConfig, ctx: &Context) -> anyhow::Result<()> {
        prepare(config, ctx).await?.close().await;
        Ok(())
    }

    async fn build(config: &SupportConfig, ctx: &Context) -> anyhow::Result<Self> {
        let registry = ctx
            .directory
            .get(REGISTRY)
            .context("the support centre needs the registry: set GEARSHIFT_REGISTRY_ADDR")?;
        let registry = gearshift_registry::client::Registry::new(
            gearshift_platform::client::connect(registry)?,
        );
        let db = prepare(config, ctx).await?;
        let service = SupportService {
            db,
            calendar: ctx.calendar.clone(),
            registry,
            settings: Settings {
                reopen_days: config.reopen_days,
                auto_close_days: config.auto_close_days,
            },
        };
        let check = Authenticate::new(ctx.principal_key.clone());
        let routes = tonic::service::Routes::new(SupportCentreServer::with_interceptor(
            service.clone(),
            check,
        ));
        let (listener, addr) = server::bind(config.listen).await?;
        tracing::info!(%addr, "support built");
        Ok(Self {
            service,
            routes,
            listener,
            addr,
            sweep_interval: config.sweep_interval,
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
