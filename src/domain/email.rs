use crate::error::AuthError;

/// An email address, trimmed and lower-cased: the form it is stored, compared and locked out under.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Email(String);

const MAX_LENGTH: usize = 254;
const MAX_LOCAL_LENGTH: usize = 64;

impl Email {
    pub fn parse(raw: &str) -> Result<Self, AuthError> {
        let fail = |reason: &str| Err(AuthError::invalid("email", reason));
        let email = raw.trim().to_lowercase();
        if email.is_empty() {
            return fail("is required");
        }
        if email.chars().count() > MAX_LENGTH {
            return fail("must be at most 254 characters");
        }
        let Some((local, domain)) = email.rsplit_once('@') else {
            return fail("must contain @");
        };
        if local.is_empty() || local.chars().count() > MAX_LOCAL_LENGTH {
            return fail("needs 1 to 64 characters before @");
        }
        if local.contains('@')
            || local.starts_with('.')
            || local.ends_with('.')
            || local.contains("..")
            || local
                .chars()
                .any(|c| c.is_whitespace() || c.is_control() || "\"(),:;<>[\\]".contains(c))
        {
            return fail("has characters not allowed before @");
        }
        if !is_domain(domain) {
            return fail("needs a domain such as example.com after @");
        }
        Ok(Self(email))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Only the database may vouch for a value without parsing it again.
    pub(crate) fn from_trusted(value: String) -> Self {
        Self(value)
    }
}

fn is_domain(domain: &str) -> bool {
    let labels: Vec<&str> = domain.split('.').collect();
    labels.len() >= 2
        && labels.iter().all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.chars().all(|c| c.is_alphanumeric() || c == '-')
        })
}

impl std::fmt::Display for Email {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn is_trimmed_and_lower_cased() {
        assert_eq!(
            Email::parse("  Ada@Example.COM ").map(|e| e.0).ok(),
            Some("ada@example.com".into())
        );
    }

    #[test]
    fn rejects_what_is_not_an_address() {
        for bad in [
            "",
            "   ",
            "ada",
            "ada@",
            "@example.com",
            "ada@example",
            "a b@example.com",
            "ada@@example.com",
            "ada@exa mple.com",
            "ada@-example.com",
            ".ada@example.com",
            "ada@example..com",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad:?} was accepted");
        }
    }

    #[test]
    fn accepts_plus_addressing_and_subdomains() {
        assert!(Email::parse("ada+auth@mail.example.co.uk").is_ok());
    }

    #[test]
    fn rejects_overlong_addresses() {
        let long = format!("{}@example.com", "a".repeat(65));
        assert!(Email::parse(&long).is_err());
    }
}
