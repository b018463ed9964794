//! The integration suite: one binary, each test its own server and database.
// A failed unwrap in a test is a failed test: exactly what it should be.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod helpers;

mod account;
mod admin;
mod client_info;
mod config;
mod harness;
mod health;
mod housekeeping;
mod http;
mod jwks;
mod keys;
mod load_bench;
mod lockout;
mod login;
mod migrations;
mod operations;
mod reflection;
mod refresh;
mod refresh_grace;
mod registration;
mod replicas;
mod revoke;
mod revoke_races;
mod throttle;
mod tls;
mod validate;
