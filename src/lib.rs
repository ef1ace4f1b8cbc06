//! The `gearshift` platform: every target (service) and how they are put
//! together in one process or split across many.
//!
//! Targets are a table (the way Grafana Mimir does it): `all` is just every
//! row, built in the table's order (a dependency comes first) and stopped in
//! the reverse order (the edge drains before the services it calls). Each
//! target still talks to the others in gRPC; the gateway finds each backend
//! by the proto services it serves, and calls one built in this process
//! directly (same encoding and checks, no socket).
//! [`Platform::build`] makes the chosen targets (databases migrated,
//! listeners bound); [`Platform::run`] serves them until shutdown. The binary
//! and the tests use the same two calls.

#![forbid(unsafe_code)]

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};
use futures_util::future::BoxFuture;
use gearshift_platform::calendar::{BusinessCalendar, DEFAULT_HOURS};
use gearshift_platform::clock::Clock;
use gearshift_platform::principal::PrincipalKey;
use gearshift_platform::shutdown::Shutdown;
use gearshift_platform::target::{Context, Directory, Endpoint, Target as _, TargetConfig};
use gearshift_platform::telemetry::LogFormat;

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

/// The target table: one row per target, in dependency order (a target
/// comes after those it calls). Adding a service is adding its row.
macro_rules! targets {
    ($( $(#[doc = $doc:literal])* $variant:ident => $field:ident : $ty:ty ),+ $(,)?) => {
        /// A part of the platform that can run on its own.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
        pub enum Target {
            /// Every target in one process.
            All,
            $( $(#[doc = $doc])* $variant, )+
        }

        /// `gearshift serve` and `gearshift migrate`: the options every
        /// target shares, then each target's own.
        #[derive(Args, Debug, Clone)]
        pub struct ServeArgs {
            #[command(flatten)]
            pub common: CommonArgs,
            $(
                #[command(flatten, next_help_heading = concat!(stringify!($variant), " target"))]
                pub $field: <$ty as gearshift_platform::target::Target>::Config,
            )+
        }

        impl ServeArgs {
            /// Every target's configuration, by target name, in table order.
            pub fn target_configs_mut(&mut self) -> Vec<(&'static str, &mut dyn TargetConfig)> {
                vec![$( (<$ty>::NAME, &mut self.$field as &mut dyn TargetConfig) ),+]
            }
        }

        impl Platform {
            async fn build_targets(args: &ServeArgs, ctx: &mut Context) -> anyhow::Result<Vec<Running>> {
                // Every service is first where its own process would be…
                $(
                    if let Some(url) = <$ty>::remote_url(&args.$field) {
                        for service in <$ty>::SERVICES {
                            ctx.directory.insert(service, Endpoint { url: url.clone(), local: None });
                        }
                    }
                )+
                // …and, once built here, where it actually listens.
                let mut running = Vec::new();
                $(
                    if args.runs(Target::$variant) {
                        let built = <$ty>::build(&args.$field, ctx).await?;
                        for service in <$ty>::SERVICES {
                            ctx.directory.insert(service, Endpoint {
                                url: format!("http://{}", built.local_addr()),
                                local: built.local_service(),
                            });
                        }
                        running.push(Running::new(built));
                    }
                )+
                Ok(running)
            }
        }

        /// Applies every chosen target's migrations (and seed data).
        pub async fn migrate(args: &ServeArgs) -> anyhow::Result<()> {
            let ctx = context(args, Clock::system())?;
            $(
                if args.runs(Target::$variant) {
                    <$ty>::migrate(&args.$field, &ctx).await?;
                    tracing::info!(target = <$ty>::NAME, "migrated");
                }
            )+
            Ok(())
        }
    };
}

targets! {
    /// The supplier registry (gRPC).
    Registry => registry: gearshift_registry::Registry,
    /// The one-stop support centre (gRPC).
    Support => support: gearshift_support::Support,
    /// Special-case financing (gRPC).
    Financing => financing: gearshift_financing::Financing,
    /// The R&D training centre (gRPC).
    Training => training: gearshift_training::Training,
    /// The HTTP gateway (REST, OpenAPI, API keys).
    Gateway => gateway: gearshift_gateway::Gateway,
}

/// Options every target shares.
#[derive(Args, Debug, Clone)]
pub struct CommonArgs {
    /// Which targets to run: all, or a comma-separated list of gateway, registry, support, financing, training.
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
    /// Working hours that service levels count, in Asia/Seoul, e.g. "Mon-Fri 09:00-18:00; Sat 09:00-13:00".
    #[arg(long, value_name = "HOURS", env = "GEARSHIFT_BUSINESS_HOURS", default_value = DEFAULT_HOURS)]
    pub business_hours: String,
    /// Public holidays as a CSV file (date,name_ko,name_en). Default: South Korea's public holidays 2026-2027, built in.
    #[arg(long, value_name = "FILE", env = "GEARSHIFT_HOLIDAYS_FILE")]
    pub holidays_file: Option<PathBuf>,
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

    pub fn runs(&self, target: Target) -> bool {
        self.common.target.contains(&Target::All) || self.common.target.contains(&target)
    }
}

/// What every target is given, from the shared options.
fn context(args: &ServeArgs, clock: Clock) -> anyhow::Result<Context> {
    let common = &args.common;
    Ok(Context {
        principal_key: PrincipalKey::load_or_create(
            common.principal_secret.as_deref(),
            &common.data_dir,
        )?,
        data_dir: common.data_dir.clone(),
        clock,
        calendar: Arc::new(BusinessCalendar::load(
            &common.business_hours,
            common.holidays_file.as_deref(),
        )?),
        directory: Directory::default(),
    })
}

/// A built target, ready to serve.
struct Running {
    name: &'static str,
    addr: SocketAddr,
    banner: String,
    serve: Box<dyn FnOnce(Shutdown) -> BoxFuture<'static, anyhow::Result<()>> + Send>,
}

impl Running {
    fn new<T: gearshift_platform::target::Target>(target: T) -> Self {
        Self {
            name: T::NAME,
            addr: target.local_addr(),
            banner: target.banner(),
            serve: Box::new(move |shutdown| Box::pin(target.run(shutdown))),
        }
    }
}

/// The chosen targets, built and ready to serve.
pub struct Platform {
    /// In table order: dependencies first.
    targets: Vec<Running>,
    grace: Duration,
}

impl Platform {
    pub async fn build(args: &ServeArgs) -> anyhow::Result<Self> {
        Self::build_with_clock(args, Clock::system()).await
    }

    /// [`Platform::build`] with the time taken from `clock` (tests).
    pub async fn build_with_clock(args: &ServeArgs, clock: Clock) -> anyhow::Result<Self> {
        let mut ctx = context(args, clock)?;
        let targets = Self::build_targets(args, &mut ctx).await?;
        Ok(Self {
            targets,
            grace: args.common.shutdown_grace,
        })
    }

    /// Where the target called `name` listens, if it runs here.
    pub fn addr(&self, name: &str) -> Option<SocketAddr> {
        self.targets.iter().find(|t| t.name == name).map(|t| t.addr)
    }

    pub fn gateway_addr(&self) -> Option<SocketAddr> {
        self.addr("gateway")
    }

    pub fn registry_addr(&self) -> Option<SocketAddr> {
        self.addr("registry")
    }

    /// What a person starting the platform needs to know, target by target.
    pub fn banner(&self) -> String {
        let mut out = String::from("\nGearshift is running.\n");
        for target in &self.targets {
            out.push_str(&target.banner);
        }
        out
    }

    /// Serves every built target until `shutdown`, then stops them in the
    /// reverse of the build order, each draining before the next is told:
    /// the gateway finishes its in-flight requests while the services they
    /// call still answer. All of it within the grace period. If one target
    /// stops with an error, the others are stopped the same way and the
    /// error is returned.
    pub async fn run(self, shutdown: Shutdown) -> anyhow::Result<()> {
        let mut tasks = tokio::task::JoinSet::new();
        let mut stops = Vec::new();
        let mut ids = Vec::new();
        for target in self.targets {
            let stop = Shutdown::new();
            stops.push((target.name, stop.clone()));
            ids.push(tasks.spawn((target.serve)(stop)).id());
        }
        let mut finished: Vec<Option<anyhow::Result<()>>> = stops.iter().map(|_| None).collect();
        let record =
            |joined: Result<(tokio::task::Id, anyhow::Result<()>), tokio::task::JoinError>,
             finished: &mut Vec<Option<anyhow::Result<()>>>| {
                let (id, result) = match joined {
                    Ok((id, result)) => (id, result),
                    Err(e) => (e.id(), Err(anyhow::anyhow!("it panicked: {e}"))),
                };
                if let Some(i) = ids.iter().position(|x| *x == id) {
                    finished[i] = Some(result);
                }
            };

        // Serve until asked to stop, or until a target stops by itself.
        tokio::select! {
            _ = shutdown.wait() => {}
            Some(joined) = tasks.join_next_with_id() => {
                record(joined, &mut finished);
                shutdown.trigger();
            }
        }

        let deadline = tokio::time::Instant::now() + self.grace;
        for (i, (name, stop)) in stops.iter().enumerate().rev() {
            stop.trigger();
            while finished[i].is_none() {
                match tokio::time::timeout_at(deadline, tasks.join_next_with_id()).await {
                    Ok(Some(joined)) => record(joined, &mut finished),
                    Ok(None) => break,
                    Err(_) => {
                        tracing::warn!(target = name, grace = ?self.grace, "drain deadline passed; closing what is left");
                        tasks.abort_all();
                        break;
                    }
                }
            }
            if finished[i].is_some() {
                tracing::info!(target = name, "stopped");
            }
        }

        let mut first_error = None;
        for ((name, _), result) in stops.iter().zip(finished) {
            if let Some(Err(e)) = result {
                tracing::error!(target = name, error = %e, "target stopped with an error");
                first_error.get_or_insert(e.context(format!("{name} failed")));
            }
        }
        first_error.map_or(Ok(()), Err)
    }
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
    fn all_runs_every_target_and_lists_run_only_theirs() {
        let args = ServeArgs::defaults();
        assert!(Target::value_variants().iter().all(|t| args.runs(*t)));
        let cli = Cli::parse_from(["gearshift", "serve", "--target", "registry"]);
        let Some(Command::Serve(args)) = cli.command else {
            panic!("serve")
        };
        assert!(args.runs(Target::Registry) && !args.runs(Target::Gateway));
    }
}
