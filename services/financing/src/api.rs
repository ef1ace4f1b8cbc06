//! Financing's gRPC service, implemented once: every method opens its span
//! and hands the call to its resource's handler.

use gearshift_platform::error::respond;
use gearshift_proto::financing::v1 as pb;
use pb::financing_server::Financing;
use tonic::{Request, Response, Status};

use crate::{FinancingService, application, budget, programme, review, stats};

type Answer<T> = Result<Response<T>, Status>;

#[tonic::async_trait]
impl Financing for FinancingService {
    #[tracing::instrument(skip_all)]
    async fn create_programme(
        &self,
        request: Request<pb::CreateProgrammeRequest>,
    ) -> Answer<pb::Programme> {
        respond(programme::grpc::create(self, request).await)
    }

    #[tracing::instrument(skip_all, fields(programme.id = %request.get_ref().id))]
    async fn get_programme(
        &self,
        request: Request<pb::GetProgrammeRequest>,
    ) -> Answer<pb::Programme> {
        respond(programme::grpc::get(self, request).await)
    }

    #[tracing::instrument(skip_all)]
    async fn list_programmes(
        &self,
        request: Request<pb::ListProgrammesRequest>,
    ) -> Answer<pb::ListProgrammesResponse> {
        respond(programme::grpc::list(self, request).await)
    }

    #[tracing::instrument(skip_all, fields(programme.id = %request.get_ref().id))]
    async fn open_programme(
        &self,
        request: Request<pb::OpenProgrammeRequest>,
    ) -> Answer<pb::Programme> {
        respond(programme::grpc::open(self, request).await)
    }

    #[tracing::instrument(skip_all, fields(programme.id = %request.get_ref().id))]
    async fn close_programme(
        &self,
        request: Request<pb::CloseProgrammeRequest>,
    ) -> Answer<pb::Programme> {
        respond(programme::grpc::close(self, request).await)
    }

    #[tracing::instrument(skip_all)]
    async fn list_applications(
        &self,
        request: Request<pb::ListApplicationsRequest>,
    ) -> Answer<pb::ListApplicationsResponse> {
        respond(application::grpc::list(self, request).await)
    }

    #[tracing::instrument(skip_all)]
    async fn update_application(
        &self,
        request: Request<pb::UpdateApplicationRequest>,
    ) -> Answer<pb::Application> {
        respond(application::grpc::update(self, request).await)
    }

    #[tracing::instrument(skip_all, fields(application.id = %request.get_ref().id))]
    async fn withdraw_application(
        &self,
        request: Request<pb::WithdrawApplicationRequest>,
    ) -> Answer<pb::Application> {
        respond(application::grpc::withdraw(self, request).await)
    }

    #[tracing::instrument(skip_all, fields(application.id = %request.get_ref().id))]
    async fn cancel_application(
        &self,
        request: Request<pb::CancelApplicationRequest>,
    ) -> Answer<pb::Application> {
        respond(application::grpc::cancel(self, request).await)
    }

    #[tracing::instrument(skip_all, fields(application.id = %request.get_ref().application_id))]
    async fn list_application_events(
        &self,
        request: Request<pb::ListApplicationEventsRequest>,
    ) -> Answer<pb::ListApplicationEventsResponse> {
        respond(application::grpc::events(self, request).await)
    }

    #[tracing::instrument(skip_all)]
    async fn create_application(
        &self,
        request: Request<pb::CreateApplicationRequest>,
    ) -> Answer<pb::Application> {
        respond(application::grpc::create(self, request).await)
    }

    #[tracing::instrument(skip_all, fields(application.id = %request.get_ref().id))]
    async fn get_application(
        &self,
        request: Request<pb::GetApplicationRequest>,
    ) -> Answer<pb::Application> {
        respond(application::grpc::get(self, request).await)
    }

    #[tracing::instrument(skip_all, fields(application.id = %request.get_ref().id))]
    async fn submit_application(
        &self,
        request: Request<pb::SubmitApplicationRequest>,
    ) -> Answer<pb::Application> {
        respond(application::grpc::submit(self, request).await)
    }

    #[tracing::instrument(skip_all, fields(application.id = %request.get_ref().id))]
    async fn screen_application(
        &self,
        request: Request<pb::ScreenApplicationRequest>,
    ) -> Answer<pb::Application> {
        respond(application::grpc::screen(self, request).await)
    }

    #[tracing::instrument(skip_all, fields(application.id = %request.get_ref().id))]
    async fn assign_reviewers(
        &self,
        request: Request<pb::AssignReviewersRequest>,
    ) -> Answer<pb::Application> {
        respond(application::grpc::assign_reviewers(self, request).await)
    }

    #[tracing::instrument(skip_all, fields(application.id = %request.get_ref().application_id))]
    async fn submit_review(&self, request: Request<pb::SubmitReviewRequest>) -> Answer<pb::Review> {
        respond(review::grpc::submit(self, request).await)
    }

    #[tracing::instrument(skip_all, fields(application.id = %request.get_ref().id))]
    async fn record_consensus(
        &self,
        request: Request<pb::RecordConsensusRequest>,
    ) -> Answer<pb::Application> {
        respond(application::grpc::record_consensus(self, request).await)
    }

    #[tracing::instrument(skip_all, fields(application.id = %request.get_ref().id))]
    async fn decide_application(
        &self,
        request: Request<pb::DecideApplicationRequest>,
    ) -> Answer<pb::Application> {
        respond(application::grpc::decide(self, request).await)
    }

    #[tracing::instrument(skip_all, fields(application.id = %request.get_ref().id))]
    async fn disburse_tranche(
        &self,
        request: Request<pb::DisburseTrancheRequest>,
    ) -> Answer<pb::Application> {
        respond(application::grpc::disburse(self, request).await)
    }

    #[tracing::instrument(skip_all, fields(programme.id = %request.get_ref().programme_id))]
    async fn list_ledger_entries(
        &self,
        request: Request<pb::ListLedgerEntriesRequest>,
    ) -> Answer<pb::ListLedgerEntriesResponse> {
        respond(budget::grpc::entries(self, request).await)
    }

    #[tracing::instrument(skip_all, fields(programme.id = %request.get_ref().id))]
    async fn archive_programme(
        &self,
        request: Request<pb::ArchiveProgrammeRequest>,
    ) -> Answer<pb::Programme> {
        respond(programme::grpc::archive(self, request).await)
    }

    #[tracing::instrument(skip_all)]
    async fn get_financing_stats(
        &self,
        request: Request<pb::GetFinancingStatsRequest>,
    ) -> Answer<pb::FinancingStats> {
        respond(stats::get(self, request).await)
    }
}
