//! The HTTP gateway: the one public door. It authenticates API keys, turns
//! REST calls into gRPC calls to the owning services (driven by the proto
//! descriptors, see `transcode`), renders errors as problem documents, and
//! serves `/openapi.json`, `/healthz`, `/readyz` and `/metrics`.
//!
//! It also owns the API keys (`iam`), served in-process through the same
//! transcoding path as every other service.

#![forbid(unsafe_code)]

pub mod browser;
pub mod iam;
pub mod json;
pub mod openapi;
pub mod problem;
pub mod routes;
pub mod transcode;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use axum::response::IntoResponse;
use axum::serve::ListenerExt;
use bytes::Bytes;
use gearshift_platform::client;
use gearshift_platform::db::Db;
use gearshift_platform::principal::{Authenticate, PrincipalKey};
use gearshift_platform::server::{self, ReadinessCheck};
use gearshift_platform::shutdown::Shutdown;
use gearshift_platform::target::{Context, Target};
use gearshift_proto::iam::v1::api_keys_server::ApiKeysServer;
use prost_reflect::DescriptorPool;
use sqlx::migrate::Migrator;
use tokio::net::TcpListener;
use tonic::transport::Channel;

pub static MIGRATIONS: Migrator = sqlx::migrate!("./migrations");

/// The gRPC services the gateway serves itself (in-process, over REST only).
pub const OWN_SERVICES: &[&str] = &["gearshift.iam.v1.ApiKeys"];

pub use gearshift_platform::client::{Backend, BackendError};

gearshift_platform::target_config! {
    /// The gateway's configuration (`gearshift serve --help`).
    pub struct GatewayConfig {
        target: "gateway", env: "GATEWAY",
        listen: "127.0.0.1:8080" => "Address the REST API listens on.",
        max_connections: 4,
    }
    /// How the gateway calls services built in the same process: `auto` calls them directly (no socket); `network` always goes through their gRPC address.
    #[arg(long = "gateway-dispatch", env = "GEARSHIFT_GATEWAY_DISPATCH", value_name = "MODE", value_enum, default_value = "auto")]
    pub dispatch: Dispatch,
    /// Deadline of one request, passed on to the services as the gRPC deadline (e.g. 10s, 500ms).
    #[arg(long, env = "GEARSHIFT_REQUEST_TIMEOUT", value_name = "DURATION", default_value = "10s", value_parser = parse_duration)]
    pub request_timeout: Duration,
    /// Largest request body accepted, in bytes.
    #[arg(long, env = "GEARSHIFT_MAX_BODY_BYTES", value_name = "BYTES", default_value_t = 1_048_576)]
    pub max_body_bytes: usize,
    /// Origins whose pages may call the API from a browser (CORS), comma-separated, e.g. https://portal.example.kr; `*` for any. Empty: none.
    #[arg(long, env = "GEARSHIFT_CORS_ORIGINS", value_name = "ORIGINS", value_delimiter = ',', default_value = "")]
    pub cors_origins: Vec<String>,
    /// Let browsers send credentials (cookies) with cross-origin calls; never with `*`.
    #[arg(long, env = "GEARSHIFT_CORS_ALLOW_CREDENTIALS", value_name = "BOOL", default_value_t = false, action = clap::ArgAction::Set)]
    pub cors_allow_credentials: bool,
    /// Secret of an operator key to create on start (at least 20 characters). Without it, the first start makes one and writes it to <data dir>/admin.key.
    #[arg(long, env = "GEARSHIFT_BOOTSTRAP_ADMIN_KEY", value_name = "SECRET", hide_env_values = true)]
    pub bootstrap_admin_key: Option<String>,
}

/// How the gateway reaches a service built in its own process.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Dispatch {
    /// Call it directly: same encoding, checks and deadline, no socket.
    Auto,
    /// Through its gRPC address on loopback, as if it ran elsewhere.
    Network,
}

pub use gearshift_platform::config::parse_duration;

/// Everything a request handler needs.
pub struct GatewayState {
    pub routes: Vec<routes::Route>,
    pub backends: HashMap<String, Backend>,
    pub auth: Arc<iam::Authenticator>,
    pub principal_key: PrincipalKey,
    /// Signed principals reused while fresh (`PrincipalKey::sign_cached`).
    pub signed: gearshift_platform::principal::SignedTokens,
    pub request_timeout: Duration,
    pub max_body_bytes: usize,
    pub cors: browser::CorsPolicy,
    openapi: Bytes,
}

/// A built gateway: database ready, routes loaded, listener bound.
pub struct Gateway {
    state: Arc<GatewayState>,
    db: Db,
    listener: TcpListener,
    addr: SocketAddr,
    /// One channel per backend address, named by the services behind it.
    channels: Vec<(String, Channel)>,
    /// The secret of an operator key made on this start, to show once.
    pub generated_admin_key: Option<String>,
    admin_key_path: std::path::PathBuf,
}

/// The gateway's database, migrated.
async fn prepare(config: &GatewayConfig, ctx: &Context) -> anyhow::Result<Db> {
    let url = config.database_url(&ctx.data_dir);
    ctx.database("gateway", &url, config.max_connections, &MIGRATIONS)
        .await
}

impl Target for Gateway {
    const NAME: &'static str = "gateway";
    const SERVICES: &'static [&'static str] = OWN_SERVICES;
    type Config = GatewayConfig;

    /// Nothing calls the gateway over gRPC.
    fn remote_url(_: &GatewayConfig) -> Option<String> {
        None
    }

    async fn migrate(config: &GatewayConfig, ctx: &Context) -> anyhow::Result<()> {
        prepare(config, ctx).await?.close().await;
        Ok(())
    }

    /// Routes every service in the directory (found by the proto services
    /// it serves, wherever it runs) and its own API keys.
    async fn build(config: &GatewayConfig, ctx: &Context) -> anyhow::Result<Self> {
        let cors = browser::CorsPolicy::new(&config.cors_origins, config.cors_allow_credentials)
            .map_err(|e| anyhow::anyhow!("GEARSHIFT_CORS_ORIGINS: {e}"))?;
        let db = prepare(config, ctx).await?;
        let generated_admin_key =
            iam::bootstrap(&db, config.bootstrap_admin_key.as_deref(), &ctx.data_dir).await?;

        // Each backend: the service itself when its target runs in this
        // process (unless told to use the network), else one channel per URL.
        let mut services: Vec<&str> = Vec::new();
        let mut channels: Vec<(String, Channel)> = Vec::new();
        let mut backends: HashMap<String, Backend> = HashMap::new();
        let mut by_url: HashMap<&str, Channel> = HashMap::new();
        for (service, endpoint) in ctx.directory.entries() {
            if OWN_SERVICES.contains(&service) {
                continue;
            }
            let url = endpoint.url.as_str();
            let backend = match (&endpoint.local, config.dispatch) {
                (Some(local), Dispatch::Auto) => {
                    tracing::info!(service, "dispatch in-process");
                    client::backend(local.clone())
                }
                _ => {
                    let channel = match by_url.get(url) {
                        Some(c) => c.clone(),
                        None => {
                            let c = client::channel(url)?;
                            by_url.insert(url, c.clone());
                            channels.push((format!("{service} at {url}"), c.clone()));
                            c
                        }
                    };
                    tracing::info!(service, url, "dispatch over the network");
                    client::backend(channel)
                }
            };
            backends.insert(service.to_string(), backend);
            services.push(service);
        }
        let registry = backends
            .get(SUPPLIERS)
            .cloned()
            .context("the gateway needs the registry: no target serves gearshift.registry.v1")?;
        let auth = Arc::new(iam::Authenticator::new(db.clone()));
        let iam_service = ApiKeysServer::with_interceptor(
            iam::grpc::ApiKeysService::new(db.clone(), auth.clone(), registry),
            Authenticate::new(ctx.principal_key.clone()),
        );
        // Served here, not through platform::server: wrapped so its calls
        // carry their method name and metrics like every other service's.
        for own in OWN_SERVICES {
            backends.insert(
                own.to_string(),
                client::backend(server::RedMetricsLayer::wrap(iam_service.clone())),
            );
            services.push(own);
        }

        let pool = DescriptorPool::decode(gearshift_proto::FILE_DESCRIPTOR_SET)?;
        let routes = routes::load(&pool, &services)?;
        let openapi = Bytes::from(serde_json::to_vec_pretty(&openapi::document(
            &pool, &routes,
        ))?);

        let (listener, addr) = server::bind(config.listen).await?;
        tracing::info!(%addr, backends = ?ctx.directory.entries().collect::<Vec<_>>(), "gateway built");
        Ok(Self {
            state: Arc::new(GatewayState {
                routes,
                backends,
                auth,
                principal_key: ctx.principal_key.clone(),
                signed: Default::default(),
                request_timeout: config.request_timeout,
                max_body_bytes: config.max_body_bytes,
                cors,
                openapi,
            }),
            db,
            listener,
            addr,
            channels,
            generated_admin_key,
            admin_key_path: ctx.data_dir.join("admin.key"),
        })
    }

    fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    fn banner(&self) -> String {
        let addr = self.addr;
        let mut out =
            format!("  REST API   http://{addr}  (OpenAPI at /openapi.json, ready at /readyz)\n");
        if let Some(key) = &self.generated_admin_key {
            let path = self.admin_key_path.display();
            out.push_str(&format!(
                "\nThis is a first start: an operator API key was created. It is shown only now,\n\
                 and saved to {path} (readable by you only):\n\n    {key}\n\n\
                 Try:\n    curl -H \"Authorization: Bearer $(cat {path})\" http://{addr}/v1/suppliers\n",
            ));
        }
        out
    }

    /// Serves until `shutdown`, draining in-flight requests.
    async fn run(self, shutdown: Shutdown) -> anyhow::Result<()> {
        gearshift_platform::metrics::handle();
        let router = self.router();
        let maintenance = tokio::spawn(gearshift_platform::idempotency::purge_periodically(
            self.db.clone(),
            shutdown.clone(),
        ));
        // Nagle's algorithm plus delayed ACKs add ~40 ms to small responses.
        let listener = self.listener.tap_io(|tcp| {
            let _ = tcp.set_nodelay(true);
        });
        let wait = shutdown.clone();
        let result = axum::serve(listener, router)
            .with_graceful_shutdown(async move { wait.wait().await })
            .await;
        maintenance.abort();
        self.db.close().await;
        result.map_err(Into::into)
    }
}

/// The registry's supplier service: where key subjects are checked.
const SUPPLIERS: &str = "gearshift.registry.v1.SupplierRegistry";

impl Gateway {
    /// The axum application (also used by tests without a socket).
    pub fn router(&self) -> axum::Router {
        let db = self.db.clone();
        let channels = self.channels.clone();
        let readiness: ReadinessCheck = Arc::new(move || {
            let db = db.clone();
            let channels = channels.clone();
            Box::pin(async move {
                db.ping()
                    .await
                    .map_err(|e| format!("gateway database: {e}"))?;
                for (name, channel) in channels {
                    check_health(channel, &name).await?;
                }
                Ok(())
            })
        });
        let state = self.state.clone();
        let openapi = self.state.openapi.clone();
        axum::Router::new()
            .route(
                "/openapi.json",
                axum::routing::get(move || {
                    let doc = openapi.clone();
                    async move { ([(http::header::CONTENT_TYPE, "application/json")], doc) }
                }),
            )
            .route("/", axum::routing::get(index))
            .route("/docs", axum::routing::get(browser::docs_page))
            .route(
                "/docs/redoc.standalone.js",
                axum::routing::get(browser::docs_script),
            )
            .merge(server::admin_router(readiness))
            .fallback({
                let state = state.clone();
                move |request: http::Request<axum::body::Body>| {
                    let state = state.clone();
                    async move { transcode::handle(&state, request).await }
                }
            })
            // CORS outside everything: preflights never reach a handler.
            .layer(axum::middleware::from_fn_with_state(state, browser::cors))
            // A bug must cost one request a 500, never the connection or the process.
            .layer(tower_http::catch_panic::CatchPanicLayer::custom(|_| {
                problem::Problem::new(
                    http::StatusCode::INTERNAL_SERVER_ERROR,
                    "INTERNAL",
                    "internal error",
                )
                .into_response()
            }))
    }
}

async fn index() -> impl IntoResponse {
    axum::Json(serde_json::json!({
        "name": "gearshift",
        "description": "Gwangju future-car parts cluster programme API",
        "openapi": "/openapi.json",
        "docs": "/docs",
        "health": {"live": "/healthz", "ready": "/readyz"},
    }))
}

/// Asks a service's gRPC health endpoint whether it serves.
async fn check_health(channel: Channel, name: &str) -> Result<(), String> {
    use tonic_health::pb::{
        HealthCheckRequest, health_check_response::ServingStatus, health_client::HealthClient,
    };
    let mut client = HealthClient::new(channel);
    let call = client.check(HealthCheckRequest {
        service: String::new(),
    });
    match tokio::time::timeout(Duration::from_secs(1), call).await {
        Ok(Ok(r)) if r.get_ref().status == ServingStatus::Serving as i32 => Ok(()),
        Ok(Ok(_)) => Err(format!("{name} is not serving")),
        Ok(Err(e)) => Err(format!("{name}: {}", e.message())),
        Err(_) => Err(format!("{name} did not answer within 1 s")),
    }
}
