//! `auth-service users ...` and `keys ...`: what operators do from the command line.

use std::io::Read;

use anyhow::Context;
use secrecy::SecretString;

use crate::{
    auth::{Actor, RegisterInput, UserKey, keys},
    clock::Clock,
    config::{Config, KeysCommand, RoleArg, UsersCommand},
    domain::{Email, Role},
    housekeeping, startup,
};

pub async fn users(config: &Config, command: UsersCommand) -> anyhow::Result<()> {
    let startup::Parts { store, service, .. } =
        startup::build_service(config, Clock::system()).await?;
    let outcome = match command {
        UsersCommand::CreateAdmin {
            email,
            password_file,
        } => {
            let password = read_password(password_file.as_deref())?;
            let input = RegisterInput {
                email: Email::parse(&email)?,
                password,
                username: None,
                full_name: None,
            };
            let user = service.create_admin(input).await?;
            format!("created admin {} ({})", user.email, user.id)
        }
        UsersCommand::SetRole { email, role } => {
            let user = service
                .get_user(Actor::Cli, UserKey::Email(Email::parse(&email)?))
                .await?;
            let role = match role {
                RoleArg::User => Role::User,
                RoleArg::Admin => Role::Admin,
            };
            let user = service.set_role(Actor::Cli, user.id, role).await?;
            format!("{} is now {}", user.email, user.role.as_str())
        }
    };
    store.close().await;
    println!("{outcome}");
    Ok(())
}

pub async fn cleanup(config: &Config) -> anyhow::Result<()> {
    let startup::Parts { store, clock, .. } =
        startup::build_service(config, Clock::system()).await?;
    let removed = housekeeping::clean(&store, clock.now(), startup::retention(config)).await?;
    store.close().await;
    println!(
        "deleted {} refresh tokens, {} login attempts, {} idle login guards, {} old revocations",
        removed.refresh_tokens, removed.login_attempts, removed.login_guards, removed.revocations
    );
    Ok(())
}

pub async fn keys(config: &Config, command: KeysCommand) -> anyhow::Result<()> {
    let startup::Parts { store, clock, .. } =
        startup::build_service(config, Clock::system()).await?;
    match command {
        KeysCommand::Rotate => {
            anyhow::ensure!(
                config.keys.jwt_private_key_file.is_none(),
                "AUTH_JWT_PRIVATE_KEY_FILE is set: tokens are signed with that file's key; rotate by replacing the file on every replica"
            );
            let now = clock.now();
            let refresh = chrono::Duration::from_std(config.keys.key_refresh_interval)?;
            let activates_at = now + refresh;
            let retire_at = activates_at
                + chrono::Duration::from_std(config.tokens.access_token_ttl)?
                + refresh;
            let kid = keys::rotate(&store, now, activates_at, retire_at).await?;
            println!(
                "new signing key {kid}: published now, signs from {activates_at}; older keys retire at {retire_at}"
            );
        }
        KeysCommand::List => {
            println!(
                "{:<44}  {:<32}  {:<32}  {:<32}  private key",
                "kid", "created", "signs from", "retires"
            );
            for key in store.all_signing_keys().await? {
                let retires = key
                    .retired_at
                    .map_or_else(|| "-".to_owned(), |at| at.to_string());
                let private = if key.private_key_pem.is_some() {
                    "database"
                } else {
                    "file"
                };
                println!(
                    "{:<44}  {:<32}  {:<32}  {:<32}  {private}",
                    key.kid,
                    key.created_at.to_string(),
                    key.activates_at.to_string(),
                    retires
                );
            }
        }
    }
    store.close().await;
    Ok(())
}

/// From the file, or standard input; one trailing newline (as `echo` or an editor adds) is dropped.
fn read_password(file: Option<&std::path::Path>) -> anyhow::Result<SecretString> {
    let mut password = match file {
        Some(path) => std::fs::read_to_string(path)
            .with_context(|| format!("cannot read {}", path.display()))?,
        None => {
            let mut input = String::new();
            std::io::stdin()
                .read_to_string(&mut input)
                .context("cannot read the password from standard input")?;
            input
        }
    };
    if password.ends_with('\n') {
        password.pop();
        if password.ends_with('\r') {
            password.pop();
        }
    }
    Ok(SecretString::from(password))
}
