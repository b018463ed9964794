//! Who the end user is, network-wise: the gateway's ClientInfo when it sends one, otherwise the
//! x-forwarded-for and user-agent metadata, otherwise the peer address.

use tonic::Request;

use super::proto;
use crate::domain::ClientContext;

/// What the transport alone says about the caller.
pub fn from_transport<T>(request: &Request<T>) -> ClientContext {
    let metadata = request.metadata();
    let forwarded_for = metadata
        .get("x-forwarded-for")
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split(',').next())
        .map(|first| first.trim().to_owned())
        .filter(|first| !first.is_empty());
    let ip_address =
        forwarded_for.or_else(|| request.remote_addr().map(|addr| addr.ip().to_string()));
    let user_agent = metadata
        .get("user-agent")
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned);
    ClientContext::new(ip_address, user_agent)
}

/// Fields the gateway filled in win, one by one, over what the transport says.
pub fn resolve(client: Option<proto::ClientInfo>, transport: ClientContext) -> ClientContext {
    let proto::ClientInfo {
        ip_address,
        user_agent,
    } = client.unwrap_or_default();
    let given = ClientContext::new(Some(ip_address), Some(user_agent));
    ClientContext {
        ip_address: given.ip_address.or(transport.ip_address),
        user_agent: given.user_agent.or(transport.user_agent),
    }
}
