//! Who the end user is, network-wise. A trusted peer (a gateway, a mesh sidecar) may say so in
//! ClientInfo or x-forwarded-for; any other caller is taken to be the end user itself, at its own
//! address, so it cannot dodge the per-address throttle by claiming another.

use std::{net::IpAddr, sync::Arc};

use ipnet::IpNet;
use tonic::Request;

use super::proto;
use crate::domain::ClientContext;

#[derive(Debug, Clone)]
pub struct ClientResolver {
    trusted_proxies: Arc<[IpNet]>,
}

/// What the transport says about a call, read before the request body is taken.
pub struct Transport {
    peer: Option<IpAddr>,
    trusted: bool,
    forwarded_for: Option<String>,
    user_agent: Option<String>,
}

impl ClientResolver {
    pub fn new(trusted_proxies: Vec<IpNet>) -> Self {
        Self {
            trusted_proxies: trusted_proxies.into(),
        }
    }

    pub fn transport<T>(&self, request: &Request<T>) -> Transport {
        let metadata = request.metadata();
        let text = |key: &str| {
            metadata
                .get(key)
                .and_then(|value| value.to_str().ok())
                .map(str::to_owned)
        };
        let peer = request.remote_addr().map(|addr| addr.ip().to_canonical());
        Transport {
            peer,
            trusted: peer.is_some_and(|ip| self.is_trusted(ip)),
            forwarded_for: text("x-forwarded-for").and_then(|list| self.forwarded_client(&list)),
            user_agent: text("user-agent"),
        }
    }

    fn is_trusted(&self, ip: IpAddr) -> bool {
        self.trusted_proxies.iter().any(|net| net.contains(&ip))
    }

    /// Each proxy appends the address it saw to the list it was sent, and a client can send any
    /// list it likes: only the entries our own proxies added can be believed. Walking from the
    /// right past them, the first other entry is the client. If an entry up to and including that
    /// one is no IP address, the whole list is ignored.
    fn forwarded_client(&self, list: &str) -> Option<String> {
        let mut last_proxy = None;
        for hop in list.rsplit(',') {
            let ip = hop.trim().parse::<IpAddr>().ok()?.to_canonical();
            if !self.is_trusted(ip) {
                return Some(ip.to_string());
            }
            last_proxy = Some(ip);
        }
        // Every hop is one of ours: the first of them is as far as the list goes.
        last_proxy.map(|ip| ip.to_string())
    }
}

impl Transport {
    /// Fields a trusted peer filled in win, one by one, over the headers, and those over the peer.
    pub fn resolve(self, client: Option<proto::ClientInfo>) -> ClientContext {
        let peer = self.peer.map(|ip| ip.to_string());
        if !self.trusted {
            return ClientContext::new(peer, self.user_agent);
        }
        let proto::ClientInfo {
            ip_address,
            user_agent,
        } = client.unwrap_or_default();
        let given = ClientContext::new(Some(ip_address), Some(user_agent));
        let headers = ClientContext::new(self.forwarded_for, self.user_agent);
        ClientContext {
            ip_address: given.ip_address.or(headers.ip_address).or(peer),
            user_agent: given.user_agent.or(headers.user_agent),
        }
    }
}
