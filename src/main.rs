//! `gearshift`: parses the command line, starts the chosen targets and waits
//! for SIGTERM or Ctrl-C. Everything else lives in the library crates.

#![forbid(unsafe_code)]

use clap::Parser;
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
            let _telemetry =
                gearshift_platform::telemetry::init(args.log_format, "gearshift", std::io::stderr)?;
            gearshift::migrate(&args).await
        }
        Command::Serve(args) => {
            let _telemetry =
                gearshift_platform::telemetry::init(args.log_format, "gearshift", std::io::stderr)?;
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
    print_banner(&args, &platform);
    platform.run(shutdown).await?;
    tracing::info!("stopped cleanly");
    Ok(())
}

/// What a person starting the platform needs to know, on stdout.
fn print_banner(args: &ServeArgs, platform: &Platform) {
    let mut out = String::from("\nGearshift is running.\n");
    if let Some(addr) = platform.gateway_addr() {
        out.push_str(&format!(
            "  REST API   http://{addr}  (OpenAPI at /openapi.json, ready at /readyz)\n"
        ));
    }
    if let Some(addr) = platform.registry_addr() {
        out.push_str(&format!("  registry   {addr} (gRPC)\n"));
    }
    if let Some(key) = platform.generated_admin_key() {
        let path = args.data_dir.join("admin.key");
        out.push_str(&format!(
            "\nThis is a first start: an operator API key was created. It is shown only now,\n\
             and saved to {} (readable by you only):\n\n    {key}\n\n\
             Try:\n    curl -H \"Authorization: Bearer $(cat {})\" http://{}/v1/suppliers\n",
            path.display(),
            path.display(),
            platform
                .gateway_addr()
                .map(|a| a.to_string())
                .unwrap_or_default(),
        ));
    }
    println!("{out}");
}
