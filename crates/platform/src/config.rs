//! The configuration every storage-owning target shares, declared once:
//! where it listens, its database and pool size, and (for a target others
//! call) where other processes reach it. Flags and variables are named after
//! the target (`--registry-listen`, `GEARSHIFT_REGISTRY_LISTEN`), so the
//! targets' configurations flatten side by side into `gearshift serve`.

/// Declares a target's configuration struct: the shared fields, named after
/// the target, then the target's own fields as written.
///
/// ```
/// gearshift_platform::target_config! {
///     /// The registry's configuration.
///     pub struct RegistryConfig {
///         target: "registry", env: "REGISTRY",
///         listen: "127.0.0.1:50051" => "Address the registry's gRPC API listens on.",
///         max_connections: 8,
///         addr: "http://127.0.0.1:50051",
///     }
///     /// The programme's target.
///     #[arg(long, env = "GEARSHIFT_REGISTRY_TARGET_SUPPLIERS", default_value_t = 100)]
///     pub target_suppliers: u32,
/// }
///
/// #[derive(clap::Parser)]
/// struct Cli {
///     #[command(flatten)]
///     registry: RegistryConfig,
/// }
/// let cli = <Cli as clap::Parser>::parse_from(["x", "--registry-max-connections", "2"]);
/// assert_eq!(cli.registry.max_connections, 2);
/// assert_eq!(cli.registry.target_suppliers, 100);
/// assert_eq!(
///     cli.registry.database_url(std::path::Path::new("data")),
///     "sqlite://data/registry.db"
/// );
/// ```
#[macro_export]
macro_rules! target_config {
    (
        $(#[$meta:meta])*
        pub struct $name:ident {
            target: $target:literal, env: $env:literal,
            listen: $listen:literal => $listen_doc:literal,
            max_connections: $connections:literal,
            $(addr: $addr:literal,)?
        }
        $( $(#[$field_meta:meta])* pub $field:ident: $ty:ty, )*
    ) => {
        $(#[$meta])*
        #[derive(clap::Args, Debug, Clone)]
        pub struct $name {
            #[doc = $listen_doc]
            #[arg(
                id = concat!($target, "_listen"), long = concat!($target, "-listen"),
                env = concat!("GEARSHIFT_", $env, "_LISTEN"), value_name = "ADDR", default_value = $listen
            )]
            pub listen: std::net::SocketAddr,
            $(
                /// Where other targets find this one when it runs in another process.
                #[arg(
                    id = concat!($target, "_addr"), long = concat!($target, "-addr"),
                    env = concat!("GEARSHIFT_", $env, "_ADDR"), value_name = "URL", default_value = $addr
                )]
                pub addr: String,
            )?
            /// Database of this target: postgres://… or sqlite://path. Default: sqlite://<data dir>/<target>.db.
            #[arg(
                id = concat!($target, "_database_url"), long = concat!($target, "-database-url"),
                env = concat!("GEARSHIFT_", $env, "_DATABASE_URL"), value_name = "URL", hide_env_values = true
            )]
            pub database_url: Option<String>,
            /// Most database connections this target keeps open.
            #[arg(
                id = concat!($target, "_max_connections"), long = concat!($target, "-max-connections"),
                env = concat!("GEARSHIFT_", $env, "_MAX_CONNECTIONS"), value_name = "N", default_value_t = $connections
            )]
            pub max_connections: u32,
            $( $(#[$field_meta])* pub $field: $ty, )*
        }

        impl $crate::target::TargetConfig for $name {
            fn listen_mut(&mut self) -> &mut std::net::SocketAddr {
                &mut self.listen
            }

            fn database_url_mut(&mut self) -> &mut Option<String> {
                &mut self.database_url
            }

            fn max_connections_mut(&mut self) -> &mut u32 {
                &mut self.max_connections
            }
        }

        impl $name {
            /// The configured database, or the target's SQLite file in `data_dir`.
            pub fn database_url(&self, data_dir: &std::path::Path) -> String {
                self.database_url
                    .clone()
                    .unwrap_or_else(|| format!("sqlite://{}/{}.db", data_dir.display(), $target))
            }
        }
    };
}

/// `10s`, `500ms`, `2m`, or a bare number of seconds.
pub fn parse_duration(raw: &str) -> Result<std::time::Duration, String> {
    let raw = raw.trim();
    let (number, unit) = raw
        .find(|c: char| !c.is_ascii_digit())
        .map(|i| raw.split_at(i))
        .unwrap_or((raw, "s"));
    let n: u64 = number
        .parse()
        .map_err(|_| format!("{raw:?} is not a duration like 10s or 500ms"))?;
    match unit {
        "ms" => Ok(std::time::Duration::from_millis(n)),
        "s" => Ok(std::time::Duration::from_secs(n)),
        "m" => Ok(std::time::Duration::from_secs(n * 60)),
        _ => Err(format!("{raw:?}: use ms, s or m")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse_with_units() {
        assert_eq!(
            parse_duration("10s").unwrap(),
            std::time::Duration::from_secs(10)
        );
        assert_eq!(
            parse_duration("250ms").unwrap(),
            std::time::Duration::from_millis(250)
        );
        assert_eq!(
            parse_duration("2m").unwrap(),
            std::time::Duration::from_secs(120)
        );
        assert_eq!(
            parse_duration("7").unwrap(),
            std::time::Duration::from_secs(7)
        );
        assert!(parse_duration("soon").is_err());
        assert!(parse_duration("5h").is_err());
    }
}
