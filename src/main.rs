//! `gearshift`: parses the command line, starts the chosen targets and waits
//! for SIGTERM or Ctrl-C. Everything else lives in the library crates.

#![forbid(unsafe_code)]

use clap::Parser;

// glibc's malloc and free took ~16 % of the gateway's CPU under load
// (BENCHMARKS.md); mimalloc's thread-local heaps suit the many small,
// short-lived allocations of a request.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;
use gearshift::{Cli, Command, Platform, ServeArgs};
use gearshift_platform::shutdown::{self, Shutdown};

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("gearshift: cannot start the async runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("gearshift: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    let command = cli
        .command
        .unwrap_or_else(|| Command::Serve(ServeArgs::defaults()));
    match command {
        Command::Migrate(args) => {
            let _telemetry = gearshift_platform::telemetry::init(
                args.common.log_format,
                "gearshift",
                std::io::stderr,
            )?;
            gearshift::migrate(&args).await
        }
        Command::Serve(args) => {
            let _telemetry = gearshift_platform::telemetry::init(
                args.common.log_format,
                "gearshift",
                std::io::stderr,
            )?;
            serve(args).await
        }
    }
}

async fn serve(args: ServeArgs) -> anyhow::Result<()> {
    let platform = Platform::build(&args).await?;
    let shutdown = Shutdown::new();
    let signal = shutdown.clone();
    tokio::spawn(async move {
        shutdown::os_signal().await;
        tracing::info!("shutdown requested; draining in-flight requests");
        signal.trigger();
    });
    // What a person starting the platform needs to know, on stdout.
    println!("{}", platform.banner());
    platform.run(shutdown).await?;
    tracing::info!("stopped cleanly");
    Ok(())
}
