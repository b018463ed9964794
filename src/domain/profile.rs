use crate::error::AuthError;

/// A public handle: 3 to 32 of a-z, 0-9, '.', '_', '-', stored lower-cased so uniqueness means the
/// same on every database whatever its collation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Username(String);

impl Username {
    /// An empty field means "no username".
    pub fn parse_optional(raw: &str) -> Result<Option<Self>, AuthError> {
        let name = raw.trim().to_lowercase();
        if name.is_empty() {
            return Ok(None);
        }
        if !(3..=32).contains(&name.chars().count()) {
            return Err(AuthError::invalid("username", "must be 3 to 32 characters"));
        }
        if !name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "._-".contains(c))
        {
            return Err(AuthError::invalid(
                "username",
                "may contain only a-z, 0-9, '.', '_' and '-'",
            ));
        }
        Ok(Some(Self(name)))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A display name, trimmed; at most 200 characters, no control characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FullName(String);

impl FullName {
    pub fn parse_optional(raw: &str) -> Result<Option<Self>, AuthError> {
        let name = raw.trim();
        if name.is_empty() {
            return Ok(None);
        }
        if name.chars().count() > 200 {
            return Err(AuthError::invalid(
                "full_name",
                "must be at most 200 characters",
            ));
        }
        if name.chars().any(char::is_control) {
            return Err(AuthError::invalid(
                "full_name",
                "must not contain control characters",
            ));
        }
        Ok(Some(Self(name.to_owned())))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn username_is_optional_and_lower_cased() {
        assert_eq!(Username::parse_optional("").ok(), Some(None));
        assert_eq!(
            Username::parse_optional(" Ada_L ")
                .ok()
                .flatten()
                .map(|u| u.0),
            Some("ada_l".into())
        );
    }

    #[test]
    fn username_rejects_spaces_and_short_names() {
        assert!(Username::parse_optional("ad").is_err());
        assert!(Username::parse_optional("ada lovelace").is_err());
        assert!(Username::parse_optional("ädä").is_err());
    }

    #[test]
    fn full_name_rejects_control_characters() {
        assert!(FullName::parse_optional("Ada\nLovelace").is_err());
        assert!(FullName::parse_optional("Ada Lovelace").is_ok());
    }
}
