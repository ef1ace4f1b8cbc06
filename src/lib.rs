//! The `gearshift` platform: every target (service) and how they are put
//! together in one process or split across many.
//!
//! Targets are modules in a table (the way Grafana Mimir does it): `all` is
//! just every module, built in dependency order, and each target still talks
//! to the others over real gRPC on loopback. [`Platform::build`] makes the
//! chosen targets (databases migrated, listeners bound); [`Platform::run`]
//! serves them until shutdown. The binary and the tests use the same two calls.

#![forbid(unsafe_code)]

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};
use gearshift_gateway::{Gateway, GatewayConfig};
use gearshift_platform::db::Db;
use gearshift_platform::principal::PrincipalKey;
use gearshift_platform::shutdown::Shutdown;
use gearshift_platform::telemetry::LogFormat;
use gearshift_registry::{Registry, RegistryConfig};

#[derive(Parser, Debug)]
#[command(
    name = "gearshift",
    version,
    about = "Gearshift: the backend of the Gwangju future-car parts cluster programme.",
    long_about = "Gearshift: the backend of the Gwangju future-car parts cluster programme.\n\n\
                  With no arguments, `gearshift` serves every target in one process on embedded \
                  SQLite storage under ./data. Every option is also an environment variable."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Serve the chosen targets (the default command).
    Serve(ServeArgs),
    /// Apply database migrations for the chosen targets, then exit.
    Migrate(ServeArgs),
}

/// A part of the platform that can run on its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Target {
    /// Every target in one process.
    All,
    /// The HTTP gateway (REST, OpenAPI, API keys).
    Gateway,
    /// The supplier registry (gRPC).
    Registry,
}

/// Every module, in the order they are built (a dependency comes first).
const MODULES: &[Target] = &[Target::Registry, Target::Gateway];

#[derive(Args, Debug, Clone)]
pub struct ServeArgs {
    /// Which targets to run: all, or a comma-separated list of gateway, registry.
    #[arg(
        long,
        value_name = "TARGETS",
        env = "GEARSHIFT_TARGET",
        value_delimiter = ',',
        default_value = "all"
    )]
    pub target: Vec<Target>,
    /// Folder for embedded databases and generated secrets.
    #[arg(
        long,
        value_name = "DIR",
        env = "GEARSHIFT_DATA_DIR",
        default_value = "data"
    )]
    pub data_dir: PathBuf,
    /// Secret (32+ bytes) signing the principal passed between targets. Set the same value on every target when they run on different machines; otherwise one is made in the data folder.
    #[arg(
        long,
        value_name = "SECRET",
        env = "GEARSHIFT_PRINCIPAL_SECRET",
        hide_env_values = true
    )]
    pub principal_secret: Option<String>,
    /// Log line format.
    #[arg(
        long,
        value_name = "FORMAT",
        env = "GEARSHIFT_LOG_FORMAT",
        value_enum,
        default_value = "text"
    )]
    pub log_format: LogFormat,
    /// How long in-flight requests may take to finish after SIGTERM.
    #[arg(long, value_name = "DURATION", env = "GEARSHIFT_SHUTDOWN_GRACE", default_value = "20s", value_parser = gearshift_gateway::parse_duration)]
    pub shutdown_grace: Duration,
    #[command(flatten)]
    pub gateway: GatewayConfig,
    #[command(flatten)]
    pub registry: RegistryConfig,
}

impl ServeArgs {
    /// The defaults, as if given no flags and no environment.
    pub fn defaults() -> Self {
        let cli = Cli::parse_from(["gearshift", "serve"]);
        match cli.command {
            Some(Command::Serve(args)) => args,
            _ => unreachable!("parsed `serve` above"),
        }
    }

    pub fn runs(&self, module: Target) -> bool {
        self.target.contains(&Target::All) || self.target.contains(&module)
    }
}

/// The chosen targets, built and ready to serve.
pub struct Platform {
    registry: Option<Registry>,
    gateway: Option<Gateway>,
    grace: Duration,
}

impl Platform {
    pub async fn build(args: &ServeArgs) -> anyhow::Result<Self> {
        let key = PrincipalKey::load_or_create(args.principal_secret.as_deref(), &args.data_dir)?;
        let mut registry = None;
        let mut gateway = None;
        for module in MODULES {
            if !args.runs(*module) {
                continue;
            }
            match module {
                Target::Registry => {
                    registry =
                        Some(Registry::build(&args.registry, &args.data_dir, key.clone()).await?);
                }
                Target::Gateway => {
                    // In one process the gateway calls the registry where it
                    // actually listens (it may have been given port 0).
                    let registry_url = match &registry {
                        Some(r) => format!("http://{}", r.local_addr()),
                        None => args.gateway.registry_addr.clone(),
                    };
                    gateway = Some(
                        Gateway::build(&args.gateway, &args.data_dir, key.clone(), &registry_url)
                            .await?,
                    );
                }
                Target::All => {}
            }
        }
        Ok(Self {
            registry,
            gateway,
            grace: args.shutdown_grace,
        })
    }

    pub fn gateway_addr(&self) -> Option<SocketAddr> {
        self.gateway.as_ref().map(Gateway::local_addr)
    }

    pub fn registry_addr(&self) -> Option<SocketAddr> {
        self.registry.as_ref().map(Registry::local_addr)
    }

    /// The operator key generated on this start, if one was.
    pub fn generated_admin_key(&self) -> Option<&str> {
        self.gateway
            .as_ref()
            .and_then(|g| g.generated_admin_key.as_deref())
    }

    /// Serves every built target until `shutdown`. If one target stops with
    /// an error, the others are shut down too and the error is returned.
    pub async fn run(self, shutdown: Shutdown) -> anyhow::Result<()> {
        let mut tasks = tokio::task::JoinSet::new();
        if let Some(registry) = self.registry {
            let s = shutdown.clone();
            tasks.spawn(async move { ("registry", registry.run(s).await) });
        }
        if let Some(gateway) = self.gateway {
            let s = shutdown.clone();
            tasks.spawn(async move { ("gateway", gateway.run(s).await) });
        }
        let drained = async {
            let mut first_error = None;
            while let Some(joined) = tasks.join_next().await {
                let (name, result) = joined
                    .unwrap_or_else(|e| ("a target", Err(anyhow::anyhow!("it panicked: {e}"))));
                if let Err(e) = result {
                    tracing::error!(target = name, error = %e, "target stopped with an error");
                    shutdown.trigger();
                    first_error.get_or_insert(e.context(format!("{name} failed")));
                }
            }
            first_error.map_or(Ok(()), Err)
        };
        gearshift_platform::server::with_drain_deadline(drained, shutdown.clone(), self.grace).await
    }
}

/// Applies every chosen target's migrations.
pub async fn migrate(args: &ServeArgs) -> anyhow::Result<()> {
    if args.runs(Target::Registry) {
        let db = Db::connect(&args.registry.database_url(&args.data_dir), 1).await?;
        db.migrate(&gearshift_registry::MIGRATIONS).await?;
        gearshift_registry::store::ensure_search_indexes(&db).await;
        db.close().await;
        tracing::info!("registry database migrated");
    }
    if args.runs(Target::Gateway) {
        let db = Db::connect(&args.gateway.database_url(&args.data_dir), 1).await?;
        db.migrate(&gearshift_gateway::MIGRATIONS).await?;
        db.close().await;
        tracing::info!("gateway database migrated");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn command_line_is_well_formed() {
        Cli::command().debug_assert();
    }

    #[test]
    fn all_runs_every_module_and_lists_run_only_theirs() {
        let args = ServeArgs::defaults();
        assert!(MODULES.iter().all(|m| args.runs(*m)));
        let cli = Cli::parse_from(["gearshift", "serve", "--target", "registry"]);
        let Some(Command::Serve(args)) = cli.command else {
            panic!("serve")
        };
        assert!(args.runs(Target::Registry) && !args.runs(Target::Gateway));
    }
}
