//! What ValidateToken remembers, so most calls need neither an EdDSA verification nor a database
//! read. Verified tokens are kept by a hash of the token until their `exp`. A session is trusted
//! to be live for at most the liveness TTL after the database said so. A replica forgets a session
//! at once when it revokes it, and when it reads another replica's revocation (see
//! `revocation_feed`), and a liveness read in flight meanwhile is not remembered (it may have read
//! the session just before it was revoked); the TTL bounds what a lost revocation could cost. Only
//! positive answers are kept: a revoked session or an inactive user is always read again.

use std::{collections::HashMap, sync::Mutex, time::Duration};

use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::AccessClaims;
use crate::domain::Revocation;

pub struct ValidationCache {
    tokens: Mutex<HashMap<[u8; 32], AccessClaims>>,
    live_sessions: Mutex<LiveSessions>,
    liveness_ttl: chrono::Duration,
    max_entries: usize,
}

pub type TokenKey = [u8; 32];

#[derive(Default)]
struct LiveSessions {
    /// Session id -> (its user, when the database last said it was live).
    checked: HashMap<Uuid, (Uuid, DateTime<Utc>)>,
    /// How many times sessions were forgotten: a liveness read that began before the latest
    /// forgetting may have read a session just revoked, and is not remembered.
    forgettings: u64,
}

/// Taken before a liveness read, so that its answer is remembered only if nothing was forgotten
/// while it was in flight.
#[derive(Debug, Clone, Copy)]
pub struct LivenessTicket(u64);

impl ValidationCache {
    pub fn new(liveness_ttl: Duration, max_entries: usize) -> Self {
        Self {
            tokens: Mutex::new(HashMap::new()),
            live_sessions: Mutex::new(LiveSessions::default()),
            liveness_ttl: chrono::Duration::from_std(liveness_ttl)
                .unwrap_or(chrono::Duration::zero()),
            max_entries,
        }
    }

    pub fn key(token: &str) -> TokenKey {
        Sha256::digest(token.as_bytes()).into()
    }

    /// The claims of a token verified before, if it has not expired since.
    pub fn verified(&self, key: &TokenKey, now: DateTime<Utc>) -> Option<AccessClaims> {
        let tokens = self.tokens.lock().ok()?;
        tokens
            .get(key)
            .filter(|claims| claims.expires_at > now)
            .cloned()
    }

    pub fn remember_verified(&self, key: TokenKey, claims: AccessClaims, now: DateTime<Utc>) {
        if let Ok(mut tokens) = self.tokens.lock() {
            if tokens.len() >= self.max_entries {
                tokens.retain(|_, claims| claims.expires_at > now);
                if tokens.len() >= self.max_entries {
                    tokens.clear();
                }
            }
            tokens.insert(key, claims);
        }
    }

    /// Whether the database said, within the liveness TTL, that this session of this user is live.
    pub fn known_live(&self, session_id: Uuid, user_id: Uuid, now: DateTime<Utc>) -> bool {
        let Ok(sessions) = self.live_sessions.lock() else {
            return false;
        };
        sessions
            .checked
            .get(&session_id)
            .is_some_and(|(owner, checked_at)| {
                *owner == user_id && now - *checked_at < self.liveness_ttl
            })
    }

    pub fn liveness_ticket(&self) -> LivenessTicket {
        let forgettings = self
            .live_sessions
            .lock()
            .map_or(u64::MAX, |sessions| sessions.forgettings);
        LivenessTicket(forgettings)
    }

    /// Remembers what a liveness read taken with `ticket` found, unless a session was forgotten
    /// since the ticket: that revocation may have landed after the read.
    pub fn remember_live(
        &self,
        session_id: Uuid,
        user_id: Uuid,
        now: DateTime<Utc>,
        ticket: LivenessTicket,
    ) {
        if self.liveness_ttl.is_zero() {
            return;
        }
        let Ok(mut sessions) = self.live_sessions.lock() else {
            return;
        };
        if sessions.forgettings != ticket.0 {
            return;
        }
        let checked = &mut sessions.checked;
        if checked.len() >= self.max_entries {
            let ttl = self.liveness_ttl;
            checked.retain(|_, (_, checked_at)| now - *checked_at < ttl);
            if checked.len() >= self.max_entries {
                checked.clear();
            }
        }
        checked.insert(session_id, (user_id, now));
    }

    /// Forgets the sessions `revocation` ended.
    pub fn forget(&self, revocation: Revocation) {
        let Ok(mut sessions) = self.live_sessions.lock() else {
            return;
        };
        sessions.forgettings += 1;
        match revocation {
            Revocation::Session(session_id) => {
                sessions.checked.remove(&session_id);
            }
            Revocation::UserSessions { user_id, kept } => sessions
                .checked
                .retain(|session_id, (owner, _)| *owner != user_id || Some(*session_id) == kept),
        }
    }

    /// For when revocations may have been missed: every session is read again.
    pub fn forget_all_sessions(&self) {
        if let Ok(mut sessions) = self.live_sessions.lock() {
            sessions.forgettings += 1;
            sessions.checked.clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Role;

    fn claims(session_id: Uuid, user_id: Uuid, expires_at: DateTime<Utc>) -> AccessClaims {
        AccessClaims {
            user_id,
            email: "a@example.com".into(),
            role: Role::User,
            session_id,
            expires_at,
        }
    }

    #[test]
    fn a_live_session_is_trusted_only_within_the_ttl() {
        let cache = ValidationCache::new(Duration::from_secs(1), 10);
        let (session, user, now) = (Uuid::new_v4(), Uuid::new_v4(), Utc::now());
        cache.remember_live(session, user, now, cache.liveness_ticket());
        assert!(cache.known_live(session, user, now + chrono::Duration::milliseconds(999)));
        assert!(!cache.known_live(session, user, now + chrono::Duration::seconds(1)));
        assert!(
            !cache.known_live(session, Uuid::new_v4(), now),
            "another user's claim to it is not trusted"
        );
    }

    #[test]
    fn forgetting_a_user_keeps_only_the_session_asked_for() {
        let cache = ValidationCache::new(Duration::from_secs(60), 10);
        let (user, keep, other, now) = (Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4(), Utc::now());
        cache.remember_live(keep, user, now, cache.liveness_ticket());
        cache.remember_live(other, user, now, cache.liveness_ticket());
        cache.forget(Revocation::UserSessions {
            user_id: user,
            kept: Some(keep),
        });
        assert!(cache.known_live(keep, user, now));
        assert!(!cache.known_live(other, user, now));
    }

    #[test]
    fn a_liveness_read_overtaken_by_a_revocation_is_not_remembered() {
        let cache = ValidationCache::new(Duration::from_secs(60), 10);
        let (session, user, now) = (Uuid::new_v4(), Uuid::new_v4(), Utc::now());
        let ticket = cache.liveness_ticket();
        // The read found the session live; the revocation committed and was forgotten after it.
        cache.forget(Revocation::Session(session));
        cache.remember_live(session, user, now, ticket);
        assert!(!cache.known_live(session, user, now));
        cache.remember_live(session, user, now, cache.liveness_ticket());
        assert!(
            cache.known_live(session, user, now),
            "a later read is remembered"
        );
    }

    #[test]
    fn an_expired_token_is_not_served_from_the_cache() {
        let cache = ValidationCache::new(Duration::from_secs(60), 10);
        let now = Utc::now();
        let key = ValidationCache::key("token");
        cache.remember_verified(
            key,
            claims(
                Uuid::new_v4(),
                Uuid::new_v4(),
                now + chrono::Duration::seconds(5),
            ),
            now,
        );
        assert!(cache.verified(&key, now).is_some());
        assert!(
            cache
                .verified(&key, now + chrono::Duration::seconds(5))
                .is_none()
        );
    }

    #[test]
    fn the_cache_stays_within_its_bound() {
        let cache = ValidationCache::new(Duration::from_secs(60), 3);
        let now = Utc::now();
        for _ in 0..10 {
            cache.remember_live(Uuid::new_v4(), Uuid::new_v4(), now, cache.liveness_ticket());
        }
        assert!(cache.live_sessions.lock().unwrap().checked.len() <= 3);
    }
}
