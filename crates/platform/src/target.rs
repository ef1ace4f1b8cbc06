//! What a target is: a part of the platform that runs on its own or beside
//! the others in one process (the way Grafana Mimir's modules are). A
//! service implements [`Target`] and is added to the binary by one line in
//! its target table; everything else (flags, migrate, serve, the order of
//! start and stop, where the gateway finds it) follows from the trait.

use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use crate::calendar::BusinessCalendar;
use crate::clock::Clock;
use crate::principal::PrincipalKey;
use crate::shutdown::Shutdown;

/// What every target is given when it is built.
#[derive(Clone)]
pub struct Context {
    /// Folder for embedded databases and generated secrets.
    pub data_dir: PathBuf,
    /// Signs and checks the principal passed between targets.
    pub principal_key: PrincipalKey,
    /// The one source of "now".
    pub clock: Clock,
    /// Working hours and holidays, for service levels and deadlines.
    pub calendar: Arc<BusinessCalendar>,
    /// Where each gRPC service answers (in this process or elsewhere).
    pub directory: Directory,
}

impl Context {
    /// `target`'s database at `url`, on the platform's clock, migrated: how
    /// every target with a database opens it.
    pub async fn database(
        &self,
        target: &str,
        url: &str,
        max_connections: u32,
        migrations: &sqlx::migrate::Migrator,
    ) -> anyhow::Result<crate::db::Db> {
        let db = crate::db::Db::connect(url, max_connections)
            .await?
            .with_clock(self.clock.clone());
        db.migrate(migrations).await?;
        tracing::info!(service = target, database = %crate::db::redact(url), "database ready");
        Ok(db)
    }
}

/// A target's gRPC services as a tower service that another target in the
/// same process calls directly (`server::local_service`).
pub type LocalService = tower::util::BoxCloneSyncService<
    http::Request<tonic::body::Body>,
    http::Response<tonic::body::Body>,
    std::convert::Infallible,
>;

/// Where a gRPC service answers: its URL, and, when its target runs in this
/// process, the service itself.
#[derive(Clone)]
pub struct Endpoint {
    pub url: String,
    pub local: Option<LocalService>,
}

impl std::fmt::Debug for Endpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.local {
            Some(_) => write!(f, "in-process ({})", self.url),
            None => write!(f, "{}", self.url),
        }
    }
}

/// Where each gRPC service (by full name, `gearshift.registry.v1.SupplierRegistry`)
/// answers, in the order the targets were listed.
#[derive(Debug, Clone, Default)]
pub struct Directory {
    entries: Vec<(String, Endpoint)>,
}

impl Directory {
    /// Records where `service` answers (replacing an earlier entry).
    pub fn insert(&mut self, service: &str, endpoint: Endpoint) {
        match self.entries.iter_mut().find(|(s, _)| s == service) {
            Some(entry) => entry.1 = endpoint,
            None => self.entries.push((service.to_string(), endpoint)),
        }
    }

    /// Where `service` answers, if any target serves it.
    pub fn get(&self, service: &str) -> Option<&Endpoint> {
        self.entries
            .iter()
            .find(|(s, _)| s == service)
            .map(|(_, e)| e)
    }

    /// Every (service, endpoint), in table order.
    pub fn entries(&self) -> impl Iterator<Item = (&str, &Endpoint)> {
        self.entries.iter().map(|(s, e)| (s.as_str(), e))
    }
}

/// The settings every target's configuration has (`target_config!`
/// declares them), for code that handles all targets alike: the test
/// harness puts each on port 0 and a fresh database.
pub trait TargetConfig {
    fn listen_mut(&mut self) -> &mut SocketAddr;
    fn database_url_mut(&mut self) -> &mut Option<String>;
    fn max_connections_mut(&mut self) -> &mut u32;
}

/// A part of the platform that can run on its own.
pub trait Target: Sized + Send + 'static {
    /// The name in `--target` and in logs (`registry`).
    const NAME: &'static str;
    /// The gRPC services it serves, by full name.
    const SERVICES: &'static [&'static str];
    /// Its flags and environment variables (`gearshift serve --help`).
    type Config: clap::Args + TargetConfig + Clone + std::fmt::Debug + Send + Sync;

    /// Where other processes reach it when it runs elsewhere (its
    /// `GEARSHIFT_<NAME>_ADDR`), or `None` if nothing calls it over gRPC.
    fn remote_url(config: &Self::Config) -> Option<String>;

    /// Makes its storage ready (connect, migrate, indexes, seed data) and
    /// stops: `gearshift migrate`. `build` does the same first.
    fn migrate(
        config: &Self::Config,
        ctx: &Context,
    ) -> impl Future<Output = anyhow::Result<()>> + Send;

    /// Prepares everything it needs to serve and binds its listener.
    fn build(
        config: &Self::Config,
        ctx: &Context,
    ) -> impl Future<Output = anyhow::Result<Self>> + Send;

    /// The address it listens on (after binding: a port 0 is resolved).
    fn local_addr(&self) -> SocketAddr;

    /// Its gRPC services for callers in this process, if it has any.
    fn local_service(&self) -> Option<LocalService> {
        None
    }

    /// What a person starting it needs to know: a line or a few, shown
    /// when the binary starts.
    fn banner(&self) -> String {
        format!("  {:<10} {} (gRPC)\n", Self::NAME, self.local_addr())
    }

    /// Serves until `shutdown`, then drains what is in flight and closes
    /// its storage.
    fn run(self, shutdown: Shutdown) -> impl Future<Output = anyhow::Result<()>> + Send;
}
