//! Staying under GitHub's secondary limit for content creation instead of running into it.
//! GitHub documents "generally no more than 80 content-generating requests per minute and no
//! more than 500 per hour" (forge-facts §D.2), answers more with 403/429 and a `retry-after`,
//! and warns that integrations which keep hitting it may be banned. Writes are spaced here so
//! that a busy lane never sees the limit: the requests simply wait for a slot, and the lane's
//! next batch grows meanwhile, so throughput comes from batch size, not from request rate.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::{Duration, Instant};

const MINUTE: Duration = Duration::from_secs(60);
const HOUR: Duration = Duration::from_secs(3600);

/// Content-creating requests allowed per rolling minute and per rolling hour.
pub(super) struct Pacer {
    per_minute: usize,
    per_hour: usize,
    /// When each request of the last hour was let through, oldest first.
    sent: Mutex<VecDeque<Instant>>,
}

impl Pacer {
    /// GitHub's documented figures.
    pub(super) fn github() -> Self {
        Self::new(80, 500)
    }

    pub(super) fn new(per_minute: usize, per_hour: usize) -> Self {
        Self {
            per_minute: per_minute.max(1),
            per_hour: per_hour.max(1),
            sent: Mutex::new(VecDeque::new()),
        }
    }

    /// Waits until one more content-creating request fits, and counts it.
    pub(super) async fn slot(&self) {
        loop {
            let wait = match self.try_take(Instant::now()) {
                None => return,
                Some(wait) => wait,
            };
            tracing::debug!(
                wait_ms = wait.as_millis() as u64,
                "pacing a content-creating request"
            );
            tokio::time::sleep(wait).await;
        }
    }

    /// Counts a request at `now` if it fits (`None`), else says how long until one does.
    fn try_take(&self, now: Instant) -> Option<Duration> {
        let Ok(mut sent) = self.sent.lock() else {
            // A poisoned lock only means another request panicked; do not block writes on it.
            return None;
        };
        while sent.front().is_some_and(|t| now.duration_since(*t) >= HOUR) {
            sent.pop_front();
        }
        let in_minute = sent.len() - sent.partition_point(|t| now.duration_since(*t) >= MINUTE);
        if in_minute < self.per_minute && sent.len() < self.per_hour {
            sent.push_back(now);
            return None;
        }
        let minute_free = (in_minute >= self.per_minute)
            .then(|| sent.get(sent.len() - in_minute))
            .flatten()
            .map(|t| (*t + MINUTE).saturating_duration_since(now));
        let hour_free = (sent.len() >= self.per_hour)
            .then(|| sent.front())
            .flatten()
            .map(|t| (*t + HOUR).saturating_duration_since(now));
        let wait = minute_free.max(hour_free).unwrap_or(Duration::ZERO);
        Some(wait.max(Duration::from_millis(1)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lets_the_limit_through_then_says_when_the_oldest_expires() {
        let pacer = Pacer::new(3, 100);
        let start = Instant::now();
        for i in 0..3 {
            assert_eq!(pacer.try_take(start + Duration::from_secs(i)), None);
        }
        assert_eq!(
            pacer.try_take(start + Duration::from_secs(10)),
            Some(Duration::from_secs(50))
        );
        // A minute after the first, one more fits; the next waits for the second.
        assert_eq!(pacer.try_take(start + MINUTE), None);
        assert_eq!(pacer.try_take(start + MINUTE), Some(Duration::from_secs(1)));
    }

    #[test]
    fn the_hourly_limit_holds_too() {
        let pacer = Pacer::new(100, 2);
        let start = Instant::now();
        assert_eq!(pacer.try_take(start), None);
        assert_eq!(pacer.try_take(start + Duration::from_secs(120)), None);
        assert_eq!(
            pacer.try_take(start + Duration::from_secs(240)),
            Some(HOUR - Duration::from_secs(240))
        );
        assert_eq!(pacer.try_take(start + HOUR), None);
    }
}
