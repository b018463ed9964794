//! `auth-service users ...`: account management for operators, without an admin to call the API.

use std::io::Read;

use anyhow::Context;
use secrecy::SecretString;

use crate::{
    auth::{Actor, RegisterInput, UserKey},
    clock::Clock,
    config::{Config, RoleArg, UsersCommand},
    domain::{Email, Role},
    startup,
};

pub async fn users(config: &Config, command: UsersCommand) -> anyhow::Result<()> {
    let (store, service) = startup::build_service(config, Clock::system()).await?;
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
