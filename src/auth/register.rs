use secrecy::SecretString;

use super::{Actor, AuthService};
use crate::{
    db::NewUser,
    domain::{Email, FullName, NewPassword, Role, User, Username, password_rules::PasswordContext},
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
        self.create_user(input, Role::User).await
    }

    /// `auth-service users create-admin`: how the first admin comes to exist.
    #[tracing::instrument(skip_all)]
    pub async fn create_admin(&self, input: RegisterInput) -> Result<User, AuthError> {
        let user = self.create_user(input, Role::Admin).await?;
        tracing::info!(actor = %Actor::Cli, target = %user.id, action = "create_admin", "admin action");
        Ok(user)
    }

    async fn create_user(&self, input: RegisterInput, role: Role) -> Result<User, AuthError> {
        let RegisterInput {
            email,
            password,
            username,
            full_name,
        } = input;
        let context = PasswordContext::new(email.as_str(), username.as_ref().map(Username::as_str));
        let password = NewPassword::parse(password, self.settings.password_policy, &context)?;
        let password_hash = self.hasher.hash(password.into_secret()).await?;
        let user = self
            .store
            .insert_user(
                NewUser {
                    email,
                    username,
                    full_name,
                    password_hash,
                    role,
                },
                self.clock.now(),
            )
            .await?;
        tracing::info!(user_id = %user.id, "user registered");
        Ok(user)
    }
}
