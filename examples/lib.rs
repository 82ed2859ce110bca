//! The examples' logic as a library: the reference HTTP service that `shop-service`
//! serves and `shop-load` loads.

pub mod service;

pub use service::{
    ApiError, ApiJson, ApiPath, ApiQuery, BodyKind, MAX_BODY_BYTES, RunningService, decode_body,
    router,
};
