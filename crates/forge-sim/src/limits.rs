//! Primary (hourly, per credential) and secondary (content-creation) rate limits.
//!
//! The numbers are switches a test turns, not a model of GitHub's real accounting: a test sets
//! "3 requests left" or "refuse the next 2 writes" and checks that the backend reads the headers
//! and waits as forge-facts §D.3 says. Counting is deterministic so tests are repeatable.

use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

use axum::http::StatusCode;
use serde::{Deserialize, Serialize};

/// Which primary budget a request draws from (`x-ratelimit-resource`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Resource {
    /// REST requests.
    Core,
    /// `POST /graphql`.
    Graphql,
}

impl Resource {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Resource::Core => "core",
            Resource::Graphql => "graphql",
        }
    }
}

/// A primary budget as a test sets it: `remaining` of `limit` left, refilled `reset_in_secs`
/// from now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PrimaryLimit {
    /// `x-ratelimit-limit`.
    pub limit: u64,
    /// Requests left before the credential is refused.
    pub remaining: u64,
    /// Seconds until the budget refills to `limit` (`x-ratelimit-reset` = now + this).
    pub reset_in_secs: u64,
}

/// What the rate-limit headers of one response say.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RateInfo {
    pub(crate) limit: u64,
    pub(crate) remaining: u64,
    pub(crate) reset: i64,
    pub(crate) resource: Resource,
    /// The budget was already empty: this request must be refused.
    pub(crate) exhausted: bool,
}

impl RateInfo {
    pub(crate) fn used(&self) -> u64 {
        self.limit.saturating_sub(self.remaining)
    }

    /// Headers for a request that never reached a budget (bad credentials).
    pub(crate) fn anonymous(resource: Resource, now: i64) -> Self {
        RateInfo {
            limit: 60,
            remaining: 60,
            reset: now + 3600,
            resource,
            exhausted: false,
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    limit: u64,
    remaining: u64,
    reset: i64,
}

/// Rate-limit state of the whole simulator.
#[derive(Debug)]
pub(crate) struct Limits {
    default_limit: u64,
    buckets: HashMap<(String, Resource), Bucket>,
    /// Status of a REST primary refusal (403 or 429; GitHub uses both).
    pub(crate) primary_status: StatusCode,
    secondary_next: u64,
    secondary_retry_after: Option<u64>,
    /// Status of a secondary refusal (403 or 429).
    pub(crate) secondary_status: StatusCode,
    window: Option<(u32, Duration, Option<u64>)>,
    window_hits: VecDeque<Instant>,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            default_limit: 5000,
            buckets: HashMap::new(),
            primary_status: StatusCode::FORBIDDEN,
            secondary_next: 0,
            secondary_retry_after: Some(1),
            secondary_status: StatusCode::FORBIDDEN,
            window: None,
            window_hits: VecDeque::new(),
        }
    }
}

/// Why a content-creating request is refused by the secondary limit.
#[derive(Debug, Clone, Copy)]
pub(crate) struct SecondaryRefusal {
    pub(crate) retry_after: Option<u64>,
}

impl Limits {
    pub(crate) fn set_default_limit(&mut self, limit: u64) {
        self.default_limit = limit;
    }

    pub(crate) fn set_primary(&mut self, key: &str, resource: Resource, l: PrimaryLimit, now: i64) {
        let reset = now.saturating_add(i64::try_from(l.reset_in_secs).unwrap_or(i64::MAX / 2));
        self.buckets.insert(
            (key.to_owned(), resource),
            Bucket {
                limit: l.limit,
                remaining: l.remaining.min(l.limit),
                reset,
            },
        );
    }

    /// Draws one request from `key`'s budget. A budget whose reset time has passed refills first.
    pub(crate) fn charge(&mut self, key: &str, resource: Resource, now: i64) -> RateInfo {
        let default_limit = self.default_limit;
        let bucket = self
            .buckets
            .entry((key.to_owned(), resource))
            .or_insert(Bucket {
                limit: default_limit,
                remaining: default_limit,
                reset: now + 3600,
            });
        if now >= bucket.reset {
            bucket.remaining = bucket.limit;
            bucket.reset = now + 3600;
        }
        let exhausted = bucket.remaining == 0;
        if !exhausted {
            bucket.remaining -= 1;
        }
        RateInfo {
            limit: bucket.limit,
            remaining: bucket.remaining,
            reset: bucket.reset,
            resource,
            exhausted,
        }
    }

    pub(crate) fn set_secondary_next(&mut self, n: u64, retry_after: Option<u64>) {
        self.secondary_next = n;
        self.secondary_retry_after = retry_after;
    }

    pub(crate) fn set_window(&mut self, window: Option<(u32, Duration, Option<u64>)>) {
        self.window = window;
        self.window_hits.clear();
    }

    /// Decides whether one content-creating request passes the secondary limit.
    pub(crate) fn check_secondary(&mut self, now: Instant) -> Option<SecondaryRefusal> {
        if self.secondary_next > 0 {
            self.secondary_next -= 1;
            return Some(SecondaryRefusal {
                retry_after: self.secondary_retry_after,
            });
        }
        if let Some((max, per, retry_after)) = self.window {
            while let Some(first) = self.window_hits.front() {
                if now.duration_since(*first) >= per {
                    self.window_hits.pop_front();
                } else {
                    break;
                }
            }
            if self.window_hits.len() >= max as usize {
                // Without a configured value, say when the oldest admitted request leaves
                // the window (rounded up, as GitHub's header is whole seconds).
                let computed = self
                    .window_hits
                    .front()
                    .map(|first| {
                        let left = per.saturating_sub(now.duration_since(*first));
                        left.as_secs() + u64::from(left.subsec_nanos() > 0)
                    })
                    .unwrap_or(0);
                return Some(SecondaryRefusal {
                    retry_after: Some(retry_after.unwrap_or(computed)),
                });
            }
            self.window_hits.push_back(now);
        }
        None
    }

    pub(crate) fn clear_secondary(&mut self) {
        self.secondary_next = 0;
        self.window = None;
        self.window_hits.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn primary_budget_runs_out_and_refills() {
        let mut l = Limits::default();
        l.set_primary(
            "t",
            Resource::Core,
            PrimaryLimit {
                limit: 2,
                remaining: 1,
                reset_in_secs: 10,
            },
            100,
        );
        let a = l.charge("t", Resource::Core, 100);
        assert!(!a.exhausted);
        assert_eq!(a.remaining, 0);
        assert!(l.charge("t", Resource::Core, 105).exhausted);
        let c = l.charge("t", Resource::Core, 110);
        assert!(!c.exhausted);
        assert_eq!(c.remaining, 1);
        assert!(!l.charge("t", Resource::Graphql, 110).exhausted);
    }

    #[test]
    fn window_admits_max_then_refuses() {
        let mut l = Limits::default();
        l.set_window(Some((2, Duration::from_secs(60), None)));
        let t0 = Instant::now();
        assert!(l.check_secondary(t0).is_none());
        assert!(l.check_secondary(t0).is_none());
        let r = l.check_secondary(t0).unwrap();
        assert_eq!(r.retry_after, Some(60));
        assert!(l.check_secondary(t0 + Duration::from_secs(61)).is_none());
    }
}
