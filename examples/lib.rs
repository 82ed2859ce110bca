//! The examples' logic as a library: the reference HTTP service that `shop-service`
//! serves and `shop-load` loads, and the order flows that `order-flow`, `flash-sale`
//! and `cancel-refund` print. The binaries only print; the tests in `tests/it` assert
//! what the flows and the service claim.

pub mod flows;
pub mod pgbench;
pub mod service;

pub use service::{
    ApiError, ApiJson, ApiPath, ApiQuery, BodyKind, MAX_BODY_BYTES, RunningService, decode_body,
    router,
};
