//! Financing's gRPC service, implemented once: every method opens its span
//! and hands the call to its resource's handler.

use gearshift_platform::error::respond;
use gearshift_proto::financing::v1 as pb;
use pb::financing_server::Financing;
use tonic::{Request, Response, Status};

use crate::{FinancingService, application, programme};

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
}
