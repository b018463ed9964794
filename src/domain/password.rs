use secrecy::{ExposeSecret, SecretString};

use super::password_rules::{self, PasswordContext};
use crate::error::AuthError;

/// The longest password accepted: long enough for any passphrase, short enough that hashing it
/// costs no more than hashing any other.
pub const PASSWORD_MAX_LENGTH: usize = 128;

/// Length limits in Unicode code points; no composition rules (NIST 800-63B).
#[derive(Debug, Clone, Copy)]
pub struct PasswordPolicy {
    pub min_length: usize,
}

/// A password that meets the policy, kept exactly as given: no trimming, no case folding, no
/// truncation.
#[derive(Debug)]
pub struct NewPassword(SecretString);

impl NewPassword {
    pub fn parse(
        raw: SecretString,
        policy: PasswordPolicy,
        context: &PasswordContext,
    ) -> Result<Self, AuthError> {
        Self::parse_field("password", raw, policy, context)
    }

    /// As [`Self::parse`], for a request field with another name.
    pub fn parse_field(
        field: &'static str,
        raw: SecretString,
        policy: PasswordPolicy,
        context: &PasswordContext,
    ) -> Result<Self, AuthError> {
        let length = raw.expose_secret().chars().count();
        if length < policy.min_length || length > PASSWORD_MAX_LENGTH {
            return Err(AuthError::invalid(
                field,
                format!(
                    "must be {} to {PASSWORD_MAX_LENGTH} characters",
                    policy.min_length
                ),
            ));
        }
        password_rules::check(field, raw.expose_secret(), context)?;
        Ok(Self(raw))
    }

    pub fn into_secret(self) -> SecretString {
        self.0
    }
}

/// A password offered at login. Only the upper bound applies: accounts made under a lower minimum
/// must still be able to log in.
#[derive(Debug)]
pub struct LoginPassword(SecretString);

impl LoginPassword {
    pub fn parse(raw: SecretString) -> Result<Self, AuthError> {
        Self::parse_field("password", raw)
    }

    /// As [`Self::parse`], for a request field with another name.
    pub fn parse_field(field: &'static str, raw: SecretString) -> Result<Self, AuthError> {
        if raw.expose_secret().is_empty() {
            return Err(AuthError::invalid(field, "is required"));
        }
        if raw.expose_secret().chars().count() > PASSWORD_MAX_LENGTH {
            return Err(AuthError::invalid(
                field,
                format!("must be at most {PASSWORD_MAX_LENGTH} characters"),
            ));
        }
        Ok(Self(raw))
    }

    pub fn into_secret(self) -> SecretString {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const POLICY: PasswordPolicy = PasswordPolicy { min_length: 8 };

    fn secret(value: &str) -> SecretString {
        SecretString::from(value)
    }

    #[test]
    fn length_counts_code_points_not_bytes() {
        assert!(
            NewPassword::parse(secret("ñññññññ"), POLICY, &PasswordContext::default()).is_err(),
            "7 code points, 14 bytes"
        );
        assert!(
            NewPassword::parse(secret("ññññññññ"), POLICY, &PasswordContext::default()).is_ok()
        );
        assert!(
            NewPassword::parse(
                secret(&"€".repeat(128)),
                POLICY,
                &PasswordContext::default()
            )
            .is_ok(),
            "128 code points, 384 bytes"
        );
        assert!(
            NewPassword::parse(
                secret(&"€".repeat(129)),
                POLICY,
                &PasswordContext::default()
            )
            .is_err()
        );
    }

    #[test]
    fn is_kept_exactly_as_given() {
        let password =
            NewPassword::parse(secret("  Pass Word "), POLICY, &PasswordContext::default())
                .map(NewPassword::into_secret);
        assert_eq!(
            password.map(|p| p.expose_secret().to_owned()).ok(),
            Some("  Pass Word ".into())
        );
    }

    #[test]
    fn login_refuses_only_empty_and_overlong() {
        assert!(LoginPassword::parse(secret("")).is_err());
        assert!(LoginPassword::parse(secret("x")).is_ok());
        assert!(LoginPassword::parse(secret(&"x".repeat(129))).is_err());
    }
}
