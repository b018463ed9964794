//! The domain: register, login, rotate, revoke, validate. No transport types in here.

mod account;
mod admin;
mod guard;
mod guess_limit;
mod hashing_pool;
pub mod keys;
mod login;
pub mod password;
pub mod refresh_token;
mod register;
mod revocation_feed;
mod service;
mod sessions;
pub mod token;
mod validate;
mod validation_cache;

pub use account::ChangePasswordInput;
pub use admin::{Actor, UserKey};
pub use guess_limit::GuessLimit;
pub use login::LoginInput;
pub use register::RegisterInput;
pub use revocation_feed::follow_revocations;
pub use service::{AuthService, AuthSettings, TokenPair};
pub use sessions::{RefreshInput, RevokeInput};
pub use token::AccessClaims;
