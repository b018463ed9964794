//! SeaORM entities: the tables as the migrations define them. Used only inside `db`.

pub mod login_attempts;
pub mod login_guards;
pub mod refresh_tokens;
pub mod revocations;
pub mod signing_keys;
pub mod users;
