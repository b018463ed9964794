//! What a new password may not be, beyond its length: one of the most common passwords, or built
//! on the user's own email name or username (NIST SP 800-63B: context-specific words).
//! No composition rules: they make passwords harder to remember, not to guess.

use std::{collections::HashSet, sync::LazyLock};

use crate::error::AuthError;

/// The 10,000 most common passwords (SecLists; licence in common_passwords.LICENSE), compared
/// without regard to case.
static COMMON: LazyLock<HashSet<String>> = LazyLock::new(|| {
    include_str!("common_passwords.txt")
        .lines()
        .map(str::to_lowercase)
        .collect()
});

/// Shorter names are too likely to occur by chance in any password to be refused for it.
const MIN_CONTEXT_LENGTH: usize = 3;

/// Words a user's password must not contain: the parts of their own identity.
#[derive(Debug, Default, Clone)]
pub struct PasswordContext {
    words: Vec<(String, &'static str)>,
}

impl PasswordContext {
    pub fn new(email: &str, username: Option<&str>) -> Self {
        let mut context = Self::default();
        if let Some((local, _)) = email.split_once('@') {
            context.add(local, "your email address");
            if let Some((before_tag, _)) = local.split_once('+') {
                context.add(before_tag, "your email address");
            }
        }
        if let Some(username) = username {
            context.add(username, "your username");
        }
        context
    }

    fn add(&mut self, word: &str, what: &'static str) {
        if word.chars().count() >= MIN_CONTEXT_LENGTH {
            self.words.push((word.to_lowercase(), what));
        }
    }
}

/// Refuses a common password or one containing the user's own names, naming the `field`.
pub fn check(
    field: &'static str,
    password: &str,
    context: &PasswordContext,
) -> Result<(), AuthError> {
    let lowered = password.to_lowercase();
    if COMMON.contains(&lowered) {
        return Err(AuthError::invalid(
            field,
            "is one of the most common passwords; choose another",
        ));
    }
    if let Some((_, what)) = context
        .words
        .iter()
        .find(|(word, _)| lowered.contains(word.as_str()))
    {
        return Err(AuthError::invalid(
            field,
            format!("must not contain {what}"),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ships_at_least_ten_thousand_common_passwords() {
        assert!(include_str!("common_passwords.txt").lines().count() >= 10_000);
    }

    #[test]
    fn common_passwords_are_refused_whatever_their_case() {
        let none = PasswordContext::default();
        for common in [
            "password123",
            "PASSWORD123",
            "Baseball1",
            "qwertyuiop",
            "iloveyou1",
        ] {
            assert!(check("password", common, &none).is_err(), "{common}");
        }
        assert!(check("password", "correct horse battery staple", &none).is_ok());
    }

    #[test]
    fn passwords_built_on_the_users_names_are_refused() {
        let context = PasswordContext::new("ada.lovelace+auth@example.com", Some("countess"));
        for bad in [
            "ada.lovelace forever",
            "I am ADA.LOVELACE",
            "countess of lovelace",
            "ada.lovelace+auth!",
        ] {
            assert!(check("password", bad, &context).is_err(), "{bad}");
        }
        assert!(check("password", "analytical engine notes", &context).is_ok());
    }

    #[test]
    fn very_short_names_are_not_held_against_a_password() {
        let context = PasswordContext::new("al@example.com", Some("al"));
        assert!(check("password", "totally alright passphrase", &context).is_ok());
    }

    #[test]
    fn the_message_names_the_field() {
        let error = check("new_password", "password123", &PasswordContext::default()).unwrap_err();
        assert!(error.to_string().starts_with("new_password: "));
    }
}
