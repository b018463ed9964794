//! A gRPC authentication service: register, login, rotating refresh tokens, revocation, JWKS.
//! Layers point one way: `grpc` -> `auth` -> `db`, with `domain` and `error` beneath all three.

pub mod auth;
pub mod cli;
pub mod clock;
pub mod config;
pub mod db;
pub mod domain;
pub mod edge;
pub mod error;
pub mod grpc;
pub mod health;
pub mod housekeeping;
pub mod startup;
pub mod telemetry;
