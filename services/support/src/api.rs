//! The support centre's gRPC service, implemented once: every method opens
//! its span and hands the call to its resource's handler.

use gearshift_platform::error::respond;
use gearshift_proto::support::v1 as pb;
use pb::support_centre_server::SupportCentre;
use tonic::{Request, Response, Status};

use crate::{SupportService, comment, desk, policy, routing, ticket};

type Answer<T> = Result<Response<T>, Status>;

#[tonic::async_trait]
impl SupportCentre for SupportService {
    #[tracing::instrument(skip_all)]
    async fn create_ticket(&self, request: Request<pb::CreateTicketRequest>) -> Answer<pb::Ticket> {
        respond(ticket::grpc::create(self, request).await)
    }

    #[tracing::instrument(skip_all, fields(ticket.id = %request.get_ref().id))]
    async fn get_ticket(&self, request: Request<pb::GetTicketRequest>) -> Answer<pb::Ticket> {
        respond(ticket::grpc::get(self, request).await)
    }

    #[tracing::instrument(skip_all)]
    async fn list_tickets(
        &self,
        request: Request<pb::ListTicketsRequest>,
    ) -> Answer<pb::ListTicketsResponse> {
        respond(ticket::grpc::list(self, request).await)
    }

    #[tracing::instrument(skip_all, fields(ticket.id = %request.get_ref().id))]
    async fn triage_ticket(&self, request: Request<pb::TriageTicketRequest>) -> Answer<pb::Ticket> {
        respond(ticket::grpc::triage(self, request).await)
    }

    #[tracing::instrument(skip_all, fields(ticket.id = %request.get_ref().id))]
    async fn assign_ticket(&self, request: Request<pb::AssignTicketRequest>) -> Answer<pb::Ticket> {
        respond(ticket::grpc::assign(self, request).await)
    }

    #[tracing::instrument(skip_all, fields(ticket.id = %request.get_ref().id))]
    async fn start_ticket(&self, request: Request<pb::StartTicketRequest>) -> Answer<pb::Ticket> {
        respond(ticket::grpc::start(self, request).await)
    }

    #[tracing::instrument(skip_all, fields(ticket.id = %request.get_ref().id))]
    async fn wait_ticket_on_requester(
        &self,
        request: Request<pb::WaitTicketOnRequesterRequest>,
    ) -> Answer<pb::Ticket> {
        respond(ticket::grpc::wait(self, request).await)
    }

    #[tracing::instrument(skip_all, fields(ticket.id = %request.get_ref().id))]
    async fn resolve_ticket(
        &self,
        request: Request<pb::ResolveTicketRequest>,
    ) -> Answer<pb::Ticket> {
        respond(ticket::grpc::resolve(self, request).await)
    }

    #[tracing::instrument(skip_all, fields(ticket.id = %request.get_ref().id))]
    async fn reopen_ticket(&self, request: Request<pb::ReopenTicketRequest>) -> Answer<pb::Ticket> {
        respond(ticket::grpc::reopen(self, request).await)
    }

    #[tracing::instrument(skip_all, fields(ticket.id = %request.get_ref().id))]
    async fn close_ticket(&self, request: Request<pb::CloseTicketRequest>) -> Answer<pb::Ticket> {
        respond(ticket::grpc::close(self, request).await)
    }

    #[tracing::instrument(skip_all, fields(ticket.id = %request.get_ref().id))]
    async fn cancel_ticket(&self, request: Request<pb::CancelTicketRequest>) -> Answer<pb::Ticket> {
        respond(ticket::grpc::cancel(self, request).await)
    }

    #[tracing::instrument(skip_all, fields(ticket.id = %request.get_ref().id))]
    async fn rate_ticket(&self, request: Request<pb::RateTicketRequest>) -> Answer<pb::Ticket> {
        respond(ticket::grpc::rate(self, request).await)
    }

    #[tracing::instrument(skip_all, fields(ticket.id = %request.get_ref().id))]
    async fn merge_ticket(&self, request: Request<pb::MergeTicketRequest>) -> Answer<pb::Ticket> {
        respond(ticket::grpc::merge(self, request).await)
    }

    #[tracing::instrument(skip_all)]
    async fn get_support_stats(
        &self,
        request: Request<pb::GetSupportStatsRequest>,
    ) -> Answer<pb::SupportStats> {
        respond(ticket::figures::get(self, request).await)
    }

    #[tracing::instrument(skip_all, fields(institute = %request.get_ref().institute))]
    async fn get_support_desk(
        &self,
        request: Request<pb::GetSupportDeskRequest>,
    ) -> Answer<pb::SupportDesk> {
        respond(desk::grpc::get(self, request).await)
    }

    #[tracing::instrument(skip_all)]
    async fn update_support_desk(
        &self,
        request: Request<pb::UpdateSupportDeskRequest>,
    ) -> Answer<pb::SupportDesk> {
        respond(desk::grpc::update(self, request).await)
    }

    #[tracing::instrument(skip_all)]
    async fn list_service_level_policies(
        &self,
        request: Request<pb::ListServiceLevelPoliciesRequest>,
    ) -> Answer<pb::ListServiceLevelPoliciesResponse> {
        respond(policy::grpc::list(self, request).await)
    }

    #[tracing::instrument(skip_all)]
    async fn update_service_level_policy(
        &self,
        request: Request<pb::UpdateServiceLevelPolicyRequest>,
    ) -> Answer<pb::ServiceLevelPolicy> {
        respond(policy::grpc::update(self, request).await)
    }

    #[tracing::instrument(skip_all, fields(ticket.id = %request.get_ref().ticket_id))]
    async fn create_comment(
        &self,
        request: Request<pb::CreateCommentRequest>,
    ) -> Answer<pb::Comment> {
        respond(comment::grpc::create(self, request).await)
    }

    #[tracing::instrument(skip_all, fields(ticket.id = %request.get_ref().ticket_id))]
    async fn list_comments(
        &self,
        request: Request<pb::ListCommentsRequest>,
    ) -> Answer<pb::ListCommentsResponse> {
        respond(comment::grpc::list(self, request).await)
    }

    #[tracing::instrument(skip_all, fields(ticket.id = %request.get_ref().ticket_id))]
    async fn list_ticket_events(
        &self,
        request: Request<pb::ListTicketEventsRequest>,
    ) -> Answer<pb::ListTicketEventsResponse> {
        respond(ticket::grpc::events(self, request).await)
    }

    #[tracing::instrument(skip_all)]
    async fn list_routing_rules(
        &self,
        request: Request<pb::ListRoutingRulesRequest>,
    ) -> Answer<pb::ListRoutingRulesResponse> {
        respond(routing::grpc::list(self, request).await)
    }

    #[tracing::instrument(skip_all)]
    async fn create_routing_rule(
        &self,
        request: Request<pb::CreateRoutingRuleRequest>,
    ) -> Answer<pb::RoutingRule> {
        respond(routing::grpc::create(self, request).await)
    }

    #[tracing::instrument(skip_all)]
    async fn update_routing_rule(
        &self,
        request: Request<pb::UpdateRoutingRuleRequest>,
    ) -> Answer<pb::RoutingRule> {
        respond(routing::grpc::update(self, request).await)
    }

    #[tracing::instrument(skip_all, fields(rule.id = %request.get_ref().id))]
    async fn delete_routing_rule(
        &self,
        request: Request<pb::DeleteRoutingRuleRequest>,
    ) -> Answer<()> {
        respond(routing::grpc::delete(self, request).await)
    }
}
