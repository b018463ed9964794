/// Where a call came from, as far as it can be told: recorded with login attempts and sessions.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClientContext {
    pub ip_address: Option<String>,
    pub user_agent: Option<String>,
}

const MAX_IP_LENGTH: usize = 45;
const MAX_USER_AGENT_LENGTH: usize = 512;

impl ClientContext {
    /// Bounds what a caller can make the service store; an over-long value is cut, not refused,
    /// since it is informational.
    pub fn new(ip_address: Option<String>, user_agent: Option<String>) -> Self {
        Self {
            ip_address: clean(ip_address, MAX_IP_LENGTH),
            user_agent: clean(user_agent, MAX_USER_AGENT_LENGTH),
        }
    }
}

fn clean(value: Option<String>, max_chars: usize) -> Option<String> {
    let value = value?;
    let value: String = value
        .trim()
        .chars()
        .filter(|c| !c.is_control())
        .take(max_chars)
        .collect();
    (!value.is_empty()).then_some(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_values_become_none_and_long_ones_are_cut() {
        let client = ClientContext::new(Some("  ".into()), Some("x".repeat(1000)));
        assert_eq!(client.ip_address, None);
        assert_eq!(client.user_agent.map(|ua| ua.len()), Some(512));
    }
}
