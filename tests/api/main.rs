//! The integration suite: one binary, each test its own server and database.

mod helpers;

mod client_info;
mod config;
mod health;
mod jwks;
mod lockout;
mod login;
mod reflection;
mod refresh;
mod registration;
mod revoke;
mod validate;
