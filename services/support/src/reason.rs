//! Why the support centre refuses a well-formed call: the stable codes a
//! client matches on (`code` in the problem document, `ErrorInfo.reason`
//! over gRPC). Every code the service can answer with is listed here, once.

gearshift_platform::reasons! {
    /// The support centre's reason codes.
    pub enum Reason {
        /// The ticket's status does not allow this move.
        InvalidTransition = "INVALID_TRANSITION",
        /// A resolved ticket can be reopened only within the reopen period.
        ReopenPeriodOver = "REOPEN_PERIOD_OVER",
        /// The company has withdrawn from the programme.
        SupplierWithdrawn = "SUPPLIER_WITHDRAWN",
        /// The ticket has no institute yet: name one.
        NoInstitute = "NO_INSTITUTE",
        /// Only a resolved or closed ticket can be rated.
        NotResolved = "NOT_RESOLVED",
        /// A ticket is rated once.
        AlreadyRated = "ALREADY_RATED",
    }
}
