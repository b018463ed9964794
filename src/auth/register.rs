use secrecy::SecretString;

use super::AuthService;
use crate::{
    db::NewUser,
    domain::{Email, FullName, NewPassword, User, Username},
    error::AuthError,
};

#[derive(Debug)]
pub struct RegisterInput {
    pub email: Email,
    pub password: SecretString,
    pub username: Option<Username>,
    pub full_name: Option<FullName>,
}

impl AuthService {
    /// Creates an email/password account. The unique constraints decide duplicates, also under races.
    #[tracing::instrument(skip_all)]
    pub async fn register(&self, input: RegisterInput) -> Result<User, AuthError> {
        let RegisterInput {
            email,
            password,
            username,
            full_name,
        } = input;
        let password = NewPassword::parse(password, self.settings.password_policy)?;
        let password_hash = self.hasher.hash(password.into_secret()).await?;
        let user = self
            .store
            .insert_user(
                NewUser {
                    email,
                    username,
                    full_name,
                    password_hash,
                },
                self.clock.now(),
            )
            .await?;
        tracing::info!(user_id = %user.id, "user registered");
        Ok(user)
    }
}
