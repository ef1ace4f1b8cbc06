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
    }
}
