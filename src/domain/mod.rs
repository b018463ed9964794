//! Parsed value types: once a value has one of these types it is known to be valid.

mod client;
mod email;
mod login_attempt;
mod password;
pub mod password_rules;
mod profile;
mod session;
mod token_hash;
mod user;

pub use client::ClientContext;
pub use email::Email;
pub use login_attempt::{LoginAttempt, LoginFailure, Lookback, RecentAttempt};
pub use password::{LoginPassword, NewPassword, PASSWORD_MAX_LENGTH, PasswordPolicy};
pub use profile::{FullName, Username};
pub use session::{Revocation, SessionInfo, refresh_token_expiry};
pub use token_hash::TokenHash;
pub use user::{Role, User, UserQuery};
