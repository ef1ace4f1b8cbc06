//! Why the registry refuses a well-formed call: the stable codes a client
//! matches on (`code` in the problem document, `ErrorInfo.reason` over
//! gRPC). Every code the registry can answer with is listed here, once.

gearshift_platform::reasons! {
    /// The registry's reason codes.
    pub enum Reason {
        /// The supplier's lifecycle does not allow this verb from its status.
        InvalidTransition = "INVALID_TRANSITION",
        /// The supplier has withdrawn; its record is read-only.
        SupplierWithdrawn = "SUPPLIER_WITHDRAWN",
        /// The stage change was already confirmed or rejected.
        StageChangeDecided = "STAGE_CHANGE_DECIDED",
        /// The supplier's stage moved since the proposal was made.
        StageMoved = "STAGE_MOVED",
        /// Another proposal of the same supplier waits for an operator.
        ProposalPending = "PROPOSAL_PENDING",
    }
}
