//! GitLab-style rate limiting (forge-facts §G.5): fixed one-minute windows per token, the
//! `RateLimit-*` headers every response carries, and a test switch that refuses the next n
//! requests with 429.

use std::collections::HashMap;

/// Authenticated API requests per minute and user on GitLab.com.
pub(crate) const AUTHENTICATED_PER_MINUTE: u64 = 2000;
/// Unauthenticated API requests per minute and IP on GitLab.com.
pub(crate) const ANONYMOUS_PER_MINUTE: u64 = 500;
const WINDOW_SECS: i64 = 60;

/// What the `RateLimit-*` headers of one response say.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct RateInfo {
    pub(crate) limit: u64,
    pub(crate) observed: u64,
    pub(crate) remaining: u64,
    /// Epoch seconds when the window resets (`RateLimit-Reset`).
    pub(crate) reset: i64,
    pub(crate) authenticated: bool,
}

impl RateInfo {
    /// `RateLimit-Name`.
    pub(crate) fn name(&self) -> &'static str {
        if self.authenticated {
            "throttle_authenticated_api"
        } else {
            "throttle_unauthenticated_api"
        }
    }
}

#[derive(Debug)]
pub(crate) struct RateLimits {
    per_minute: u64,
    /// key → (window start, requests observed in it).
    windows: HashMap<String, (i64, u64)>,
    forced: u64,
    forced_retry_after: u64,
}

impl Default for RateLimits {
    fn default() -> Self {
        RateLimits {
            per_minute: AUTHENTICATED_PER_MINUTE,
            windows: HashMap::new(),
            forced: 0,
            forced_retry_after: 1,
        }
    }
}

impl RateLimits {
    /// The next `n` API requests answer 429 with `Retry-After: retry_after`.
    pub(crate) fn set_forced(&mut self, n: u64, retry_after: u64) {
        self.forced = n;
        self.forced_retry_after = retry_after;
    }

    pub(crate) fn set_per_minute(&mut self, limit: u64) {
        self.per_minute = limit;
    }

    /// Consumes one forced refusal, returning its `Retry-After`.
    pub(crate) fn take_forced(&mut self) -> Option<u64> {
        if self.forced == 0 {
            return None;
        }
        self.forced -= 1;
        Some(self.forced_retry_after)
    }

    /// Headers of a forced refusal: the budget is spent until `now + retry_after`.
    pub(crate) fn forced_info(&self, now: i64, retry_after: u64) -> RateInfo {
        RateInfo {
            limit: self.per_minute,
            observed: self.per_minute.saturating_add(1),
            remaining: 0,
            reset: now.saturating_add(i64::try_from(retry_after).unwrap_or(i64::MAX / 2)),
            authenticated: true,
        }
    }

    /// Counts one request of `key`; the flag says it is over the budget and must be refused.
    pub(crate) fn charge(&mut self, key: &str, authenticated: bool, now: i64) -> (RateInfo, bool) {
        let limit = if authenticated {
            self.per_minute
        } else {
            ANONYMOUS_PER_MINUTE
        };
        let start = now - now.rem_euclid(WINDOW_SECS);
        let window = self.windows.entry(key.to_owned()).or_insert((start, 0));
        if window.0 != start {
            *window = (start, 0);
        }
        window.1 += 1;
        let observed = window.1;
        let info = RateInfo {
            limit,
            observed,
            remaining: limit.saturating_sub(observed),
            reset: start + WINDOW_SECS,
            authenticated,
        };
        (info, observed > limit)
    }
}

const WEEKDAYS: [&str; 7] = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// `epoch` as an RFC 2616 date (`Wed, 17 Jul 2019 00:58:57 GMT`), for `RateLimit-ResetTime`.
pub(crate) fn http_date(epoch: i64) -> String {
    let iso = crate::clock::rfc3339(epoch);
    let (date, time) = iso
        .trim_end_matches('Z')
        .split_once('T')
        .unwrap_or(("1970-01-01", "00:00:00"));
    let mut parts = date.rsplitn(3, '-');
    let day = parts.next().unwrap_or("01");
    let month = parts
        .next()
        .and_then(|m| m.parse::<usize>().ok())
        .and_then(|m| MONTHS.get(m.wrapping_sub(1)))
        .copied()
        .unwrap_or("Jan");
    let year = parts.next().unwrap_or("1970");
    // 1970-01-01 was a Thursday.
    let weekday = usize::try_from((epoch.div_euclid(86_400) + 4).rem_euclid(7)).unwrap_or(0);
    let weekday = WEEKDAYS.get(weekday).copied().unwrap_or("Thu");
    format!("{weekday}, {day} {month} {year} {time} GMT")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_http_dates() {
        assert_eq!(http_date(1_563_325_137), "Wed, 17 Jul 2019 00:58:57 GMT");
        assert_eq!(http_date(0), "Thu, 01 Jan 1970 00:00:00 GMT");
    }

    #[test]
    fn windows_count_and_reset() {
        let mut l = RateLimits::default();
        l.set_per_minute(2);
        let (a, over) = l.charge("t", true, 120);
        assert!(!over);
        assert_eq!((a.observed, a.remaining, a.reset), (1, 1, 180));
        assert!(!l.charge("t", true, 150).1);
        let (c, over) = l.charge("t", true, 179);
        assert!(over);
        assert_eq!(c.remaining, 0);
        assert!(!l.charge("t", true, 180).1);
        assert_eq!(l.charge("anon", false, 180).0.limit, ANONYMOUS_PER_MINUTE);
    }

    #[test]
    fn forced_refusals_run_out() {
        let mut l = RateLimits::default();
        l.set_forced(2, 7);
        assert_eq!(l.take_forced(), Some(7));
        assert_eq!(l.take_forced(), Some(7));
        assert_eq!(l.take_forced(), None);
    }
}
