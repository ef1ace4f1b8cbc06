//! Why financing refuses a well-formed call: the stable codes a client
//! matches on. Every code the service can answer with is listed here, once.

gearshift_platform::reasons! {
    /// Financing's reason codes.
    pub enum Reason {
        /// The record's status does not allow this move.
        InvalidTransition = "INVALID_TRANSITION",
        /// The programme takes no applications now (not open, or outside its window).
        ProgrammeNotOpen = "PROGRAMME_NOT_OPEN",
        /// A required document is not provided.
        DocumentsMissing = "DOCUMENTS_MISSING",
        /// The registry says the company does not meet the programme's conditions.
        NotEligible = "NOT_ELIGIBLE",
        /// An assigned review is not in, or fewer than the programme needs are scored.
        ReviewsIncomplete = "REVIEWS_INCOMPLETE",
        /// The reviewers' scores are too far apart: a consensus note comes first.
        ConsensusRequired = "CONSENSUS_REQUIRED",
        /// The reviewers' mean score is under the programme's pass mark.
        BelowPassMark = "BELOW_PASS_MARK",
        /// The programme's remaining budget cannot take the approved amount.
        BudgetExhausted = "BUDGET_EXHAUSTED",
        /// The tranche is more than what is left of the approved amount.
        OverApprovedAmount = "OVER_APPROVED_AMOUNT",
        /// The reviewers' scores do not spread enough to need a consensus note.
        ConsensusNotNeeded = "CONSENSUS_NOT_NEEDED",
    }
}
