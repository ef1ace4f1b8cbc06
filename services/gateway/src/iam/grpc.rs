//! The `ApiKeys` gRPC service. The gateway serves it in-process (it owns the
//! keys), behind the same principal check as every other service.

use std::sync::Arc;

use gearshift_platform::error::{Violations, respond};
use gearshift_platform::idempotency::Idempotency;
use gearshift_platform::write::write;
use gearshift_platform::{Error, Principal, Role, db, ids, outbox, pagination, time};
use gearshift_proto::iam::v1 as pb;
use pb::api_keys_server::ApiKeys;
use tonic::{Request, Response, Status};

use super::store::{self, ApiKey};
use super::{Authenticator, hash_secret, new_secret};

#[derive(Clone, Debug)]
pub struct ApiKeysService {
    db: db::Db,
    auth: Arc<Authenticator>,
    registry: crate::Backend,
}

impl ApiKeysService {
    /// `registry` is where the subjects of `institute:` and `supplier:`
    /// keys are looked up.
    pub fn new(db: db::Db, auth: Arc<Authenticator>, registry: crate::Backend) -> Self {
        Self { db, auth, registry }
    }

    /// A key may name only an institute in the directory or a registered
    /// supplier: asks the registry, as the operator creating the key.
    async fn check_subject<T>(&self, request: &Request<T>, role: &Role) -> Result<(), Error> {
        use gearshift_platform::client::outgoing;
        use gearshift_proto::registry::v1 as registry;
        const DEADLINE: std::time::Duration = std::time::Duration::from_secs(5);
        let (answer, what) = match role {
            Role::Institute(code) => (
                registry::institute_directory_client::InstituteDirectoryClient::new(
                    self.registry.clone(),
                )
                .get_institute(outgoing(
                    request,
                    registry::GetInstituteRequest { code: code.clone() },
                    DEADLINE,
                ))
                .await
                .map(drop),
                format!("there is no institute {code} in the directory"),
            ),
            Role::Supplier(id) => (
                registry::supplier_registry_client::SupplierRegistryClient::new(
                    self.registry.clone(),
                )
                .get_supplier(outgoing(
                    request,
                    registry::GetSupplierRequest { id: id.clone() },
                    DEADLINE,
                ))
                .await
                .map(drop),
                format!("there is no supplier {id}"),
            ),
            Role::Operator | Role::Reviewer => return Ok(()),
            Role::Public => {
                return Err(Error::invalid(
                    "apiKey.role",
                    "public is the role of calls without a key, never a key's",
                ));
            }
        };
        match answer {
            Ok(()) => Ok(()),
            Err(status) if status.code() == tonic::Code::NotFound => {
                Err(Error::invalid("apiKey.role", what))
            }
            Err(status) => {
                tracing::warn!(code = ?status.code(), message = status.message(), "registry did not confirm a key's subject");
                Err(Error::Unavailable(
                    "the registry could not confirm the key's institute or supplier; try again"
                        .into(),
                ))
            }
        }
    }
}

fn to_proto(k: &ApiKey) -> pb::ApiKey {
    pb::ApiKey {
        id: k.id.clone(),
        display_name: k.display_name.clone(),
        role: k.role.clone(),
        state: if k.state == store::REVOKED {
            pb::ApiKeyState::Revoked
        } else {
            pb::ApiKeyState::Enabled
        } as i32,
        secret: String::new(),
        secret_prefix: k.secret_prefix.clone(),
        create_time: Some(time::to_timestamp(k.create_time)),
        revoke_time: k.revoke_time.map(time::to_timestamp),
        creator: k.creator.clone(),
    }
}

/// What the audit trail keeps of a key: never the hash or the secret.
fn snapshot(k: &ApiKey) -> serde_json::Value {
    serde_json::json!({
        "id": k.id, "displayName": k.display_name, "role": k.role, "state": k.state,
        "secretPrefix": k.secret_prefix, "createTime": k.create_time, "revokeTime": k.revoke_time,
    })
}

fn key_id(id: &str) -> Result<(), Error> {
    if ids::is_valid("key", id) {
        Ok(())
    } else {
        Err(Error::invalid(
            "id",
            "is not an API key id (key_ followed by 26 characters)",
        ))
    }
}

fn not_found(id: &str) -> Error {
    Error::NotFound {
        resource: "apiKey",
        id: id.to_string(),
    }
}

impl ApiKeysService {
    async fn create_once(
        &self,
        principal: &Principal,
        idempotency: Option<&Idempotency>,
        key: &ApiKey,
        secret: &str,
    ) -> Result<pb::ApiKey, Error> {
        let written = write(&self.db, idempotency, |mut tx| async move {
            store::insert(&mut *tx, key).await?;
            tx.append(created_event(principal, key)).await?;
            Ok((tx, to_proto(key)))
        })
        .await?;
        if written.replayed {
            // The secret was shown once and is not kept; a replay says so by
            // returning the key without it.
            return Ok(written.response);
        }
        Ok(pb::ApiKey {
            secret: secret.to_string(),
            ..written.response
        })
    }

    async fn revoke_once(
        &self,
        principal: &Principal,
        idempotency: Option<&Idempotency>,
        id: &str,
    ) -> Result<pb::ApiKey, Error> {
        let written = write(&self.db, idempotency, |mut tx| async move {
            let before = store::get(&mut tx, id)
                .await?
                .ok_or_else(|| not_found(id))?;
            let now = tx.now();
            let mut after = before.clone();
            if store::revoke(&mut tx, id, now).await? {
                after.state = store::REVOKED.into();
                after.revoke_time = Some(now);
                tx.append(outbox::NewEvent {
                    aggregate_type: "apiKey",
                    aggregate_id: id,
                    event_type: "api_key.revoked",
                    actor: principal,
                    before: Some(snapshot(&before)),
                    after: Some(snapshot(&after)),
                    changed_fields: vec!["state".into(), "revokeTime".into()],
                    detail: None,
                })
                .await?;
            } else {
                // Revoking a revoked key changes nothing and says so.
                tx.unchanged();
            }
            Ok((tx, to_proto(&after)))
        })
        .await?;
        Ok(written.response)
    }
}

/// The `api_key.created` event of `key`, by `actor`.
pub(crate) fn created_event<'a>(actor: &'a Principal, key: &'a ApiKey) -> outbox::NewEvent<'a> {
    outbox::NewEvent {
        aggregate_type: "apiKey",
        aggregate_id: &key.id,
        event_type: "api_key.created",
        actor,
        before: None,
        after: Some(snapshot(key)),
        changed_fields: vec!["displayName".into(), "role".into(), "state".into()],
        detail: None,
    }
}

#[tonic::async_trait]
impl ApiKeys for ApiKeysService {
    #[tracing::instrument(skip_all, fields(api_key.id))]
    async fn create_api_key(
        &self,
        request: Request<pb::CreateApiKeyRequest>,
    ) -> Result<Response<pb::ApiKey>, Status> {
        respond(
            async {
                let principal = Principal::from_request(&request)?;
                principal.require_operator()?;
                let idempotency = Idempotency::from_request(&request, &principal)?;
                let input = request
                    .get_ref()
                    .api_key
                    .as_ref()
                    .ok_or_else(|| Error::invalid("apiKey", "is required"))?;
                let mut v = Violations::new();
                let name = input.display_name.trim();
                if name.is_empty() {
                    v.add("apiKey.displayName", "is required");
                } else if name.chars().count() > 100 || name.chars().any(char::is_control) {
                    v.add(
                        "apiKey.displayName",
                        "must be at most 100 characters, without control characters",
                    );
                }
                let role = v.check("apiKey.role", Role::parse(input.role.trim()));
                v.into_result()?;
                let Some(role) = role else {
                    return Err(Error::invalid("apiKey.role", "is invalid"));
                };
                self.check_subject(&request, &role).await?;
                let secret = new_secret();
                let key = ApiKey {
                    id: ids::new_id("key"),
                    display_name: name.to_string(),
                    role: role.to_string(),
                    secret_hash: hash_secret(&secret),
                    secret_prefix: secret.chars().take(8).collect(),
                    state: store::ENABLED.into(),
                    create_time: self.db.clock().now_micros(),
                    revoke_time: None,
                    creator: principal.subject.clone(),
                };
                tracing::Span::current().record("api_key.id", key.id.as_str());
                self.create_once(&principal, idempotency.as_ref(), &key, &secret)
                    .await
            }
            .await,
        )
    }

    #[tracing::instrument(skip_all, fields(api_key.id = %request.get_ref().id))]
    async fn get_api_key(
        &self,
        request: Request<pb::GetApiKeyRequest>,
    ) -> Result<Response<pb::ApiKey>, Status> {
        respond(
            async {
                Principal::from_request(&request)?.require_operator()?;
                let id = &request.get_ref().id;
                key_id(id)?;
                let mut conn = self.db.conn().await?;
                let key = store::get(&mut conn, id)
                    .await?
                    .ok_or_else(|| not_found(id))?;
                Ok(to_proto(&key))
            }
            .await,
        )
    }

    #[tracing::instrument(skip_all)]
    async fn list_api_keys(
        &self,
        request: Request<pb::ListApiKeysRequest>,
    ) -> Result<Response<pb::ListApiKeysResponse>, Status> {
        respond(
            async {
                Principal::from_request(&request)?.require_operator()?;
                let req = request.get_ref();
                let size = pagination::page_size(req.page_size)?;
                let fingerprint = pagination::fingerprint(&["api-keys"]);
                let after = pagination::decode_after_id(&req.page_token, &fingerprint)?;
                let mut keys = store::list(
                    &mut *self.db.conn().await?,
                    after.as_deref().unwrap_or(""),
                    size + 1,
                )
                .await?;
                let next_page_token =
                    pagination::finish(&mut keys, size, &fingerprint, |k| k.id.clone());
                Ok(pb::ListApiKeysResponse {
                    api_keys: keys.iter().map(to_proto).collect(),
                    next_page_token,
                })
            }
            .await,
        )
    }

    #[tracing::instrument(skip_all, fields(api_key.id = %request.get_ref().id))]
    async fn revoke_api_key(
        &self,
        request: Request<pb::RevokeApiKeyRequest>,
    ) -> Result<Response<pb::ApiKey>, Status> {
        respond(
            async {
                let principal = Principal::from_request(&request)?;
                principal.require_operator()?;
                let idempotency = Idempotency::from_request(&request, &principal)?;
                let id = &request.get_ref().id;
                key_id(id)?;
                let key = self
                    .revoke_once(&principal, idempotency.as_ref(), id)
                    .await?;
                self.auth.forget(id);
                Ok(key)
            }
            .await,
        )
    }
}
