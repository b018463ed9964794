//! The gRPC edge: proto <-> domain conversion, the AuthService handlers, and errors -> Status.

mod admin_api;
mod auth_api;
mod caller;
mod client_info;
mod convert;
pub mod routes;

pub use admin_api::AdminApi;
pub use auth_api::AuthApi;
pub use client_info::ClientResolver;

/// Generated from `proto/auth/v1/auth.proto`.
pub mod proto {
    #![allow(
        clippy::all,
        clippy::pedantic,
        clippy::unwrap_used,
        clippy::expect_used,
        missing_docs
    )]
    tonic::include_proto!("auth.v1");

    /// Served by reflection, so grpcurl works without the .proto file.
    pub const FILE_DESCRIPTOR_SET: &[u8] = tonic::include_file_descriptor_set!("auth_descriptor");
}

/// The most a request may carry. Far above any valid request; far below what would cost anything.
pub const MAX_REQUEST_BYTES: usize = 64 * 1024;
