//! Gearshift's integration tests, as modules of one test binary so the whole
//! stack is linked once (on two cores that is most of a test run's time).
//! Each module is one part of the user's story; `common` starts the platform.

mod api_keys;
mod binary;
mod browser;
mod common;
mod deploy;
mod dispatch;
mod faults;
mod financing;
mod gateway;
mod grpc;
mod registry;
mod suppliers;
mod support;
mod training;
