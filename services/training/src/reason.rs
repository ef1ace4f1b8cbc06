//! Why training refuses a well-formed call: the stable codes a client
//! matches on. Every code the service can answer with is listed here, once.

gearshift_platform::reasons! {
    /// Training's reason codes.
    pub enum Reason {
        /// The record's status does not allow this move.
        InvalidTransition = "INVALID_TRANSITION",
        /// The cohort takes no enrolments now (not ENROLLING, or outside its window).
        EnrollmentClosed = "ENROLLMENT_CLOSED",
        /// The cohort is full and keeps no waitlist.
        CohortFull = "COHORT_FULL",
        /// A prerequisite course is not completed.
        PrerequisitesMissing = "PREREQUISITES_MISSING",
        /// The company has placed as many trainees as the cohort's quota allows.
        QuotaExceeded = "QUOTA_EXCEEDED",
        /// The trainee is in a cohort whose dates overlap.
        ScheduleConflict = "SCHEDULE_CONFLICT",
        /// The trainee's company is not active in the registry.
        CompanyNotActive = "COMPANY_NOT_ACTIVE",
        /// The course takes no new cohorts (not PUBLISHED).
        CourseNotPublished = "COURSE_NOT_PUBLISHED",
        /// Fewer seats than are taken.
        CapacityBelowSeatsTaken = "CAPACITY_BELOW_SEATS_TAKEN",
    }
}
