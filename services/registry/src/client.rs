//! The registry as other services ask it: over gRPC with the caller's
//! principal and a deadline (`platform::client`), in this process or over
//! the network. A registry that is down or slow is a 503 that names it;
//! callers ask before they write, so nothing is half-written.

use std::time::Duration;

use gearshift_platform::Error;
use gearshift_platform::client::{Backend, outgoing};
use gearshift_proto::registry::v1 as registry;
use registry::institute_directory_client::InstituteDirectoryClient;
use registry::supplier_registry_client::SupplierRegistryClient;
use tonic::Request;

/// How long a question to the registry may take.
pub const DEADLINE: Duration = Duration::from_secs(3);

/// The registry, as another service sees it.
#[derive(Clone)]
pub struct Registry {
    backend: Backend,
}

impl std::fmt::Debug for Registry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Registry")
    }
}

fn unavailable(status: &tonic::Status) -> Error {
    tracing::warn!(code = ?status.code(), message = status.message(), "the registry did not answer");
    Error::Unavailable(
        "the supplier registry could not be asked (it is down or slow); nothing was written, \
         retry shortly"
            .into(),
    )
}

impl Registry {
    pub fn new(backend: Backend) -> Self {
        Self { backend }
    }

    /// The supplier `id`, as `request`'s caller may see it; `None` when
    /// there is no such supplier.
    pub async fn supplier<T>(
        &self,
        request: &Request<T>,
        id: &str,
    ) -> Result<Option<registry::Supplier>, Error> {
        let answer = SupplierRegistryClient::new(self.backend.clone())
            .get_supplier(outgoing(
                request,
                registry::GetSupplierRequest { id: id.to_string() },
                DEADLINE,
            ))
            .await;
        match answer {
            Ok(s) => Ok(Some(s.into_inner())),
            Err(s) if s.code() == tonic::Code::NotFound => Ok(None),
            Err(s) if s.code() == tonic::Code::PermissionDenied => {
                Err(Error::PermissionDenied(s.message().to_string()))
            }
            Err(s) => Err(unavailable(&s)),
        }
    }

    /// Suppliers `ids` (each at most once), asked 500 at a time; an id
    /// the registry does not know makes the answer NOT_FOUND.
    pub async fn suppliers<T>(
        &self,
        request: &Request<T>,
        ids: &[String],
    ) -> Result<Vec<registry::Supplier>, Error> {
        let mut out = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(500) {
            let answer = SupplierRegistryClient::new(self.backend.clone())
                .batch_get_suppliers(outgoing(
                    request,
                    registry::BatchGetSuppliersRequest {
                        ids: chunk.to_vec(),
                    },
                    DEADLINE,
                ))
                .await;
            match answer {
                Ok(r) => out.extend(r.into_inner().suppliers),
                Err(s) if s.code() == tonic::Code::NotFound => {
                    return Err(Error::NotFound {
                        resource: "supplier",
                        id: s.message().to_string(),
                    });
                }
                Err(s) => return Err(unavailable(&s)),
            }
        }
        Ok(out)
    }

    /// Records (or updates, by certificate) a completed course on the
    /// company's transition record.
    pub async fn record_training_evidence<T>(
        &self,
        request: &Request<T>,
        evidence: registry::TrainingEvidence,
    ) -> Result<registry::TrainingEvidence, Error> {
        SupplierRegistryClient::new(self.backend.clone())
            .record_training_evidence(outgoing(
                request,
                registry::RecordTrainingEvidenceRequest {
                    evidence: Some(evidence),
                },
                DEADLINE,
            ))
            .await
            .map(tonic::Response::into_inner)
            .map_err(|s| match s.code() {
                tonic::Code::NotFound => Error::NotFound {
                    resource: "supplier",
                    id: s.message().to_string(),
                },
                tonic::Code::InvalidArgument => Error::invalid("evidence", s.message()),
                _ => unavailable(&s),
            })
    }

    /// Whether the directory lists institute `code`.
    pub async fn institute_exists<T>(
        &self,
        request: &Request<T>,
        code: &str,
    ) -> Result<bool, Error> {
        let answer = InstituteDirectoryClient::new(self.backend.clone())
            .get_institute(outgoing(
                request,
                registry::GetInstituteRequest {
                    code: code.to_string(),
                },
                DEADLINE,
            ))
            .await;
        match answer {
            Ok(_) => Ok(true),
            Err(s) if s.code() == tonic::Code::NotFound => Ok(false),
            Err(s) => Err(unavailable(&s)),
        }
    }

    /// The registry's answer on `rules` for the supplier.
    pub async fn eligibility<T>(
        &self,
        request: &Request<T>,
        supplier_id: &str,
        rules: &[registry::EligibilityRule],
    ) -> Result<registry::CheckEligibilityResponse, Error> {
        if rules.is_empty() {
            return Ok(registry::CheckEligibilityResponse {
                supplier_id: supplier_id.to_string(),
                eligible: true,
                results: Vec::new(),
            });
        }
        SupplierRegistryClient::new(self.backend.clone())
            .check_eligibility(outgoing(
                request,
                registry::CheckEligibilityRequest {
                    supplier_id: supplier_id.to_string(),
                    rules: rules.to_vec(),
                },
                DEADLINE,
            ))
            .await
            .map(tonic::Response::into_inner)
            .map_err(|s| match s.code() {
                tonic::Code::InvalidArgument => Error::internal(anyhow::anyhow!(
                    "the registry refused the programme's eligibility rules: {}",
                    s.message()
                )),
                tonic::Code::NotFound => Error::invalid("supplierId", "there is no such supplier"),
                _ => unavailable(&s),
            })
    }
}
