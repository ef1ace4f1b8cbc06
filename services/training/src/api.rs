//! Training's gRPC service, implemented once: every method opens its span
//! and hands the call to its resource's handler.

use gearshift_platform::error::respond;
use gearshift_proto::training::v1 as pb;
use pb::training_server::Training;
use tonic::{Request, Response, Status};

use crate::{TrainingService, attendance, certificate, cohort, course, enrollment, stats, trainee};

type Answer<T> = Result<Response<T>, Status>;

#[tonic::async_trait]
impl Training for TrainingService {
    #[tracing::instrument(skip_all)]
    async fn create_course(&self, request: Request<pb::CreateCourseRequest>) -> Answer<pb::Course> {
        respond(course::grpc::create(self, request).await)
    }

    #[tracing::instrument(skip_all, fields(course.id = %request.get_ref().id))]
    async fn get_course(&self, request: Request<pb::GetCourseRequest>) -> Answer<pb::Course> {
        respond(course::grpc::get(self, request).await)
    }

    #[tracing::instrument(skip_all)]
    async fn list_courses(
        &self,
        request: Request<pb::ListCoursesRequest>,
    ) -> Answer<pb::ListCoursesResponse> {
        respond(course::grpc::list(self, request).await)
    }

    #[tracing::instrument(skip_all, fields(course.id = %request.get_ref().id))]
    async fn publish_course(
        &self,
        request: Request<pb::PublishCourseRequest>,
    ) -> Answer<pb::Course> {
        respond(course::grpc::publish(self, request).await)
    }

    #[tracing::instrument(skip_all, fields(course.id = %request.get_ref().id))]
    async fn retire_course(&self, request: Request<pb::RetireCourseRequest>) -> Answer<pb::Course> {
        respond(course::grpc::retire(self, request).await)
    }

    #[tracing::instrument(skip_all)]
    async fn create_cohort(&self, request: Request<pb::CreateCohortRequest>) -> Answer<pb::Cohort> {
        respond(cohort::grpc::create(self, request).await)
    }

    #[tracing::instrument(skip_all, fields(cohort.id = %request.get_ref().id))]
    async fn get_cohort(&self, request: Request<pb::GetCohortRequest>) -> Answer<pb::Cohort> {
        respond(cohort::grpc::get(self, request).await)
    }

    #[tracing::instrument(skip_all)]
    async fn list_cohorts(
        &self,
        request: Request<pb::ListCohortsRequest>,
    ) -> Answer<pb::ListCohortsResponse> {
        respond(cohort::grpc::list(self, request).await)
    }

    #[tracing::instrument(skip_all, fields(cohort.id = %request.get_ref().id))]
    async fn transition_cohort(
        &self,
        request: Request<pb::TransitionCohortRequest>,
    ) -> Answer<pb::Cohort> {
        respond(cohort::grpc::transition(self, request).await)
    }

    #[tracing::instrument(skip_all, fields(cohort.id = %request.get_ref().id))]
    async fn resize_cohort(&self, request: Request<pb::ResizeCohortRequest>) -> Answer<pb::Cohort> {
        respond(cohort::grpc::resize(self, request).await)
    }

    #[tracing::instrument(skip_all)]
    async fn create_trainee(
        &self,
        request: Request<pb::CreateTraineeRequest>,
    ) -> Answer<pb::Trainee> {
        respond(trainee::grpc::create(self, request).await)
    }

    #[tracing::instrument(skip_all, fields(trainee.id = %request.get_ref().id))]
    async fn get_trainee(&self, request: Request<pb::GetTraineeRequest>) -> Answer<pb::Trainee> {
        respond(trainee::grpc::get(self, request).await)
    }

    #[tracing::instrument(skip_all)]
    async fn list_trainees(
        &self,
        request: Request<pb::ListTraineesRequest>,
    ) -> Answer<pb::ListTraineesResponse> {
        respond(trainee::grpc::list(self, request).await)
    }

    #[tracing::instrument(skip_all)]
    async fn create_enrollment(
        &self,
        request: Request<pb::CreateEnrollmentRequest>,
    ) -> Answer<pb::Enrollment> {
        respond(enrollment::grpc::create(self, request).await)
    }

    #[tracing::instrument(skip_all, fields(enrollment.id = %request.get_ref().id))]
    async fn get_enrollment(
        &self,
        request: Request<pb::GetEnrollmentRequest>,
    ) -> Answer<pb::Enrollment> {
        respond(enrollment::grpc::get(self, request).await)
    }

    #[tracing::instrument(skip_all)]
    async fn list_enrollments(
        &self,
        request: Request<pb::ListEnrollmentsRequest>,
    ) -> Answer<pb::ListEnrollmentsResponse> {
        respond(enrollment::grpc::list(self, request).await)
    }

    #[tracing::instrument(skip_all, fields(enrollment.id = %request.get_ref().id))]
    async fn cancel_enrollment(
        &self,
        request: Request<pb::CancelEnrollmentRequest>,
    ) -> Answer<pb::Enrollment> {
        respond(enrollment::grpc::cancel(self, request).await)
    }

    #[tracing::instrument(skip_all, fields(enrollment.id = %request.get_ref().enrollment_id))]
    async fn list_enrollment_events(
        &self,
        request: Request<pb::ListEnrollmentEventsRequest>,
    ) -> Answer<pb::ListEnrollmentEventsResponse> {
        respond(enrollment::grpc::events(self, request).await)
    }

    #[tracing::instrument(skip_all, fields(enrollment.id = %request.get_ref().enrollment_id))]
    async fn record_attendance(
        &self,
        request: Request<pb::RecordAttendanceRequest>,
    ) -> Answer<pb::AttendanceRecord> {
        respond(attendance::grpc::record(self, request).await)
    }

    #[tracing::instrument(skip_all, fields(enrollment.id = %request.get_ref().enrollment_id))]
    async fn list_attendance(
        &self,
        request: Request<pb::ListAttendanceRequest>,
    ) -> Answer<pb::ListAttendanceResponse> {
        respond(attendance::grpc::list(self, request).await)
    }

    #[tracing::instrument(skip_all)]
    async fn get_certificate(
        &self,
        request: Request<pb::GetCertificateRequest>,
    ) -> Answer<pb::Certificate> {
        respond(certificate::grpc::get(self, request).await)
    }

    #[tracing::instrument(skip_all)]
    async fn revoke_certificate(
        &self,
        request: Request<pb::RevokeCertificateRequest>,
    ) -> Answer<pb::Certificate> {
        respond(certificate::grpc::revoke(self, request).await)
    }

    #[tracing::instrument(skip_all, fields(enrollment.id = %request.get_ref().id))]
    async fn accept_offer(
        &self,
        request: Request<pb::AcceptOfferRequest>,
    ) -> Answer<pb::Enrollment> {
        respond(enrollment::grpc::accept(self, request).await)
    }

    #[tracing::instrument(skip_all)]
    async fn get_training_stats(
        &self,
        request: Request<pb::GetTrainingStatsRequest>,
    ) -> Answer<pb::TrainingStats> {
        respond(stats::get(self, request).await)
    }
}
