use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::domain::{Lookback, RecentAttempt};

/// `max_failures` counted failures within `window` with no reset after them (for an email: a
/// success or an admin's unlock) refuse further attempts until the oldest leaves the window. Used
/// per email (the lockout) and per client address (the throttle).
#[derive(Debug, Clone, Copy)]
pub struct GuessLimit {
    pub max_failures: u32,
    pub window: Duration,
}

impl GuessLimit {
    /// How far back, and how many attempts, [`Self::retry_after`] needs to see.
    pub fn lookback(&self, now: DateTime<Utc>) -> Lookback {
        let window = chrono::Duration::from_std(self.window).unwrap_or(chrono::Duration::MAX);
        Lookback {
            since: now
                .checked_sub_signed(window)
                .unwrap_or(DateTime::<Utc>::MIN_UTC),
            limit: u64::from(self.max_failures),
        }
    }

    /// `recent`: the latest counted attempts within the window, newest first.
    pub fn retry_after(&self, recent: &[RecentAttempt], now: DateTime<Utc>) -> Option<Duration> {
        let limit = usize::try_from(self.max_failures).unwrap_or(usize::MAX);
        let failures = recent
            .iter()
            .take(limit)
            .take_while(|attempt| !attempt.resets)
            .count();
        if failures < limit {
            return None;
        }
        let oldest = recent.get(limit - 1)?.at;
        let window = chrono::Duration::from_std(self.window).ok()?;
        (oldest + window - now)
            .to_std()
            .ok()
            .filter(|left| !left.is_zero())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const POLICY: GuessLimit = GuessLimit {
        max_failures: 3,
        window: Duration::from_secs(900),
    };

    fn at(now: DateTime<Utc>, seconds_ago: i64, resets: bool) -> RecentAttempt {
        RecentAttempt {
            resets,
            at: now - chrono::Duration::seconds(seconds_ago),
        }
    }

    #[test]
    fn fewer_failures_than_the_limit_do_not_lock() {
        let now = Utc::now();
        assert_eq!(
            POLICY.retry_after(&[at(now, 1, false), at(now, 2, false)], now),
            None
        );
    }

    #[test]
    fn the_limit_locks_until_the_oldest_leaves_the_window() {
        let now = Utc::now();
        let recent = [at(now, 10, false), at(now, 20, false), at(now, 100, false)];
        assert_eq!(
            POLICY.retry_after(&recent, now),
            Some(Duration::from_secs(800))
        );
    }

    #[test]
    fn a_success_resets_the_count() {
        let now = Utc::now();
        let recent = [
            at(now, 10, false),
            at(now, 20, false),
            at(now, 30, true),
            at(now, 40, false),
        ];
        assert_eq!(POLICY.retry_after(&recent, now), None);
    }
}
