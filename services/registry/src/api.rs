//! The registry's gRPC services, implemented once: every method opens its
//! span and hands the call to its resource's handler (`supplier::grpc::create`
//! and so on), whose error becomes a `Status` here.

use gearshift_platform::error::respond;
use gearshift_proto::registry::v1 as pb;
use pb::institute_directory_server::InstituteDirectory;
use pb::supplier_registry_server::SupplierRegistry;
use tonic::{Request, Response, Status};

use crate::stage_change::grpc::Decision;
use crate::stage_change::rules::State;
use crate::supplier::rules::Action;
use crate::{RegistryService, institute, programme, stage_change, supplier, training_evidence};

type Answer<T> = Result<Response<T>, Status>;

#[tonic::async_trait]
impl SupplierRegistry for RegistryService {
    #[tracing::instrument(skip_all, fields(supplier.id))]
    async fn create_supplier(
        &self,
        request: Request<pb::CreateSupplierRequest>,
    ) -> Answer<pb::Supplier> {
        respond(supplier::grpc::create(self, request).await)
    }

    #[tracing::instrument(skip_all, fields(supplier.id = %request.get_ref().id))]
    async fn get_supplier(&self, request: Request<pb::GetSupplierRequest>) -> Answer<pb::Supplier> {
        respond(supplier::grpc::get(self, request).await)
    }

    #[tracing::instrument(skip_all)]
    async fn lookup_supplier(
        &self,
        request: Request<pb::LookupSupplierRequest>,
    ) -> Answer<pb::Supplier> {
        respond(supplier::grpc::lookup(self, request).await)
    }

    #[tracing::instrument(skip_all, fields(count = request.get_ref().ids.len()))]
    async fn batch_get_suppliers(
        &self,
        request: Request<pb::BatchGetSuppliersRequest>,
    ) -> Answer<pb::BatchGetSuppliersResponse> {
        respond(supplier::grpc::batch_get(self, request).await)
    }

    #[tracing::instrument(skip_all)]
    async fn list_suppliers(
        &self,
        request: Request<pb::ListSuppliersRequest>,
    ) -> Answer<pb::ListSuppliersResponse> {
        respond(supplier::grpc::list(self, request).await)
    }

    #[tracing::instrument(skip_all, fields(supplier.id))]
    async fn update_supplier(
        &self,
        request: Request<pb::UpdateSupplierRequest>,
    ) -> Answer<pb::Supplier> {
        respond(supplier::grpc::update(self, request).await)
    }

    #[tracing::instrument(skip_all, fields(supplier.id = %request.get_ref().id))]
    async fn verify_supplier(
        &self,
        request: Request<pb::VerifySupplierRequest>,
    ) -> Answer<pb::Supplier> {
        respond(self.transition(&request, Action::Verify).await)
    }

    #[tracing::instrument(skip_all, fields(supplier.id = %request.get_ref().id))]
    async fn suspend_supplier(
        &self,
        request: Request<pb::SuspendSupplierRequest>,
    ) -> Answer<pb::Supplier> {
        respond(self.transition(&request, Action::Suspend).await)
    }

    #[tracing::instrument(skip_all, fields(supplier.id = %request.get_ref().id))]
    async fn reinstate_supplier(
        &self,
        request: Request<pb::ReinstateSupplierRequest>,
    ) -> Answer<pb::Supplier> {
        respond(self.transition(&request, Action::Reinstate).await)
    }

    #[tracing::instrument(skip_all, fields(supplier.id = %request.get_ref().id))]
    async fn withdraw_supplier(
        &self,
        request: Request<pb::WithdrawSupplierRequest>,
    ) -> Answer<pb::Supplier> {
        respond(self.transition(&request, Action::Withdraw).await)
    }

    #[tracing::instrument(skip_all, fields(supplier.id = %request.get_ref().supplier_id))]
    async fn list_supplier_events(
        &self,
        request: Request<pb::ListSupplierEventsRequest>,
    ) -> Answer<pb::ListSupplierEventsResponse> {
        respond(supplier::grpc::list_events(self, request).await)
    }

    #[tracing::instrument(skip_all)]
    async fn record_training_evidence(
        &self,
        request: Request<pb::RecordTrainingEvidenceRequest>,
    ) -> Answer<pb::TrainingEvidence> {
        respond(training_evidence::grpc::record(self, request).await)
    }

    #[tracing::instrument(skip_all, fields(supplier.id = %request.get_ref().supplier_id))]
    async fn list_training_evidence(
        &self,
        request: Request<pb::ListTrainingEvidenceRequest>,
    ) -> Answer<pb::ListTrainingEvidenceResponse> {
        respond(training_evidence::grpc::list(self, request).await)
    }

    #[tracing::instrument(skip_all, fields(supplier.id = %request.get_ref().supplier_id))]
    async fn create_stage_change(
        &self,
        request: Request<pb::CreateStageChangeRequest>,
    ) -> Answer<pb::StageChange> {
        respond(stage_change::grpc::create(self, request).await)
    }

    #[tracing::instrument(skip_all, fields(supplier.id = %request.get_ref().supplier_id))]
    async fn list_stage_changes(
        &self,
        request: Request<pb::ListStageChangesRequest>,
    ) -> Answer<pb::ListStageChangesResponse> {
        respond(stage_change::grpc::list(self, request).await)
    }

    #[tracing::instrument(skip_all, fields(supplier.id = %request.get_ref().supplier_id, stage_change.id = %request.get_ref().id))]
    async fn confirm_stage_change(
        &self,
        request: Request<pb::ConfirmStageChangeRequest>,
    ) -> Answer<pb::StageChange> {
        let r = request.get_ref();
        let decision = Decision {
            supplier_id: &r.supplier_id,
            id: &r.id,
            note: &r.note,
            verdict: State::Confirmed,
        };
        respond(stage_change::grpc::decide(self, &request, decision).await)
    }

    #[tracing::instrument(skip_all, fields(supplier.id = %request.get_ref().supplier_id, stage_change.id = %request.get_ref().id))]
    async fn reject_stage_change(
        &self,
        request: Request<pb::RejectStageChangeRequest>,
    ) -> Answer<pb::StageChange> {
        let r = request.get_ref();
        let decision = Decision {
            supplier_id: &r.supplier_id,
            id: &r.id,
            note: &r.note,
            verdict: State::Rejected,
        };
        respond(stage_change::grpc::decide(self, &request, decision).await)
    }

    #[tracing::instrument(skip_all)]
    async fn get_registry_stats(
        &self,
        request: Request<pb::GetRegistryStatsRequest>,
    ) -> Answer<pb::RegistryStats> {
        respond(programme::grpc::stats(self, request).await)
    }

    #[tracing::instrument(skip_all, fields(supplier.id = %request.get_ref().supplier_id))]
    async fn check_eligibility(
        &self,
        request: Request<pb::CheckEligibilityRequest>,
    ) -> Answer<pb::CheckEligibilityResponse> {
        respond(programme::grpc::check_eligibility(self, request).await)
    }

    #[tracing::instrument(skip_all)]
    async fn list_parts_groups(
        &self,
        request: Request<pb::ListPartsGroupsRequest>,
    ) -> Answer<pb::ListPartsGroupsResponse> {
        respond(programme::grpc::parts_groups(request))
    }
}

#[tonic::async_trait]
impl InstituteDirectory for RegistryService {
    #[tracing::instrument(skip_all)]
    async fn list_institutes(
        &self,
        request: Request<pb::ListInstitutesRequest>,
    ) -> Answer<pb::ListInstitutesResponse> {
        respond(institute::grpc::list(self, request).await)
    }

    #[tracing::instrument(skip_all, fields(institute.code = %request.get_ref().code))]
    async fn get_institute(
        &self,
        request: Request<pb::GetInstituteRequest>,
    ) -> Answer<pb::Institute> {
        respond(institute::grpc::get(self, request).await)
    }

    #[tracing::instrument(skip_all)]
    async fn create_institute(
        &self,
        request: Request<pb::CreateInstituteRequest>,
    ) -> Answer<pb::Institute> {
        respond(institute::grpc::create(self, request).await)
    }

    #[tracing::instrument(skip_all)]
    async fn update_institute(
        &self,
        request: Request<pb::UpdateInstituteRequest>,
    ) -> Answer<pb::Institute> {
        respond(institute::grpc::update(self, request).await)
    }

    #[tracing::instrument(skip_all, fields(institute.code = %request.get_ref().code))]
    async fn list_institute_events(
        &self,
        request: Request<pb::ListInstituteEventsRequest>,
    ) -> Answer<pb::ListInstituteEventsResponse> {
        respond(institute::grpc::list_events(self, request).await)
    }
}
