//! Staying under GitHub's secondary limit for content creation instead of running into it.
//! GitHub documents "generally no more than 80 content-generating requests per minute and no
//! more than 500 per hour" (forge-facts §D.2), answers more with 403/429 and a `retry-after`,
//! and warns that integrations which keep hitting it may be banned.
//!
//! Writes are spaced evenly (a generic cell rate algorithm: one slot every 60 s / 76, with a
//! burst of four, so no rolling minute ever holds more than 80). Even spacing matters: a plain
//! "80 per rolling minute" lets 80 writes through in a few seconds and then stalls the lane for
//! the rest of the minute, longer than a caller waits. While writes wait, the lane's next
//! batch grows, so throughput comes from batch size, not request rate. The hourly figure is
//! not paced here (that would mean one write per 7.2 s from the first one on); when GitHub
//! answers it, its `retry-after` is honoured like any rate limit.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

/// Content-creating requests per minute this pacer lets through at most.
const PER_MINUTE: u32 = 80;
/// Writes that may go back to back after a quiet spell (a scaffold with its review).
const BURST: u32 = 4;

pub(super) struct Pacer {
    /// Time between slots.
    interval: Duration,
    /// How far ahead of schedule a request may run: `BURST` slots.
    tolerance: Duration,
    /// When the next slot is due if requests arrived exactly on schedule.
    due: Mutex<Option<Instant>>,
    /// Slots taken ahead by [`Pacer::reserve`] and not yet used by a request.
    reserved: AtomicU32,
}

impl Pacer {
    /// GitHub's documented per-minute figure, burst included.
    pub(super) fn github() -> Self {
        Self::new(PER_MINUTE, BURST)
    }

    /// At most `per_minute` slots in any rolling minute, `burst` of them back to back.
    pub(super) fn new(per_minute: u32, burst: u32) -> Self {
        let burst = burst.clamp(1, per_minute.max(1));
        // Burst plus a steady rate must fit the minute: (per_minute - burst) slots per 60 s.
        let steady = per_minute.saturating_sub(burst).max(1);
        let interval = Duration::from_secs(60) / steady;
        Self {
            interval,
            tolerance: interval * (burst - 1),
            due: Mutex::new(None),
            reserved: AtomicU32::new(0),
        }
    }

    /// Waits for a slot now and keeps it for the next content-creating request, so that a
    /// caller can wait before it reads the branch rather than between its read and its
    /// compare-and-swap write (a wait there is a window for someone else's push). A slot kept
    /// is a slot spent, so the rate still holds; at most `BURST` are kept.
    pub(super) async fn reserve(&self) {
        if self.reserved.load(Ordering::Relaxed) >= BURST {
            return;
        }
        self.wait_for_slot().await;
        self.reserved.fetch_add(1, Ordering::Relaxed);
    }

    /// Waits until one more content-creating request fits (or uses a kept one), and counts it.
    pub(super) async fn slot(&self) {
        let kept = self
            .reserved
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |r| r.checked_sub(1));
        if kept.is_ok() {
            return;
        }
        self.wait_for_slot().await;
    }

    async fn wait_for_slot(&self) {
        loop {
            let Some(wait) = self.try_take(Instant::now()) else {
                return;
            };
            tracing::debug!(
                wait_ms = wait.as_millis() as u64,
                "pacing a content-creating request"
            );
            tokio::time::sleep(wait).await;
        }
    }

    /// Takes a slot at `now` if one is free (`None`), else says how long until one is.
    fn try_take(&self, now: Instant) -> Option<Duration> {
        let Ok(mut due) = self.due.lock() else {
            // A poisoned lock only means another request panicked; do not block writes on it.
            return None;
        };
        let next = due.map_or(now, |d| d.max(now));
        let ahead = next.duration_since(now);
        if ahead > self.tolerance {
            return Some(ahead - self.tolerance);
        }
        *due = Some(next + self.interval);
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Takes every slot it can from `start` on, one request each millisecond when allowed,
    /// and returns when each was let through.
    fn drive(pacer: &Pacer, start: Instant, span: Duration) -> Vec<Instant> {
        let mut taken = Vec::new();
        let mut now = start;
        while now < start + span {
            match pacer.try_take(now) {
                None => taken.push(now),
                Some(wait) => now += wait,
            }
        }
        taken
    }

    #[test]
    fn no_rolling_minute_holds_more_than_the_limit() {
        let pacer = Pacer::new(80, 4);
        let start = Instant::now();
        let taken = drive(&pacer, start, Duration::from_secs(600));
        for (i, t) in taken.iter().enumerate() {
            let in_minute = taken[i..]
                .iter()
                .take_while(|u| u.duration_since(*t) < Duration::from_secs(60))
                .count();
            assert!(in_minute <= 80, "{in_minute} in the minute from slot {i}");
        }
        // Nearly the whole budget is used: 76 a minute after the burst.
        assert!(taken.len() >= 760, "{}", taken.len());
    }

    #[tokio::test]
    async fn a_kept_slot_is_used_without_waiting_and_counts_against_the_rate() {
        let pacer = Pacer::new(80, 4);
        for _ in 0..4 {
            pacer.slot().await;
        }
        // The budget is spent: the reservation waits, the write after it does not.
        let started = Instant::now();
        pacer.reserve().await;
        let waited = started.elapsed();
        assert!(waited >= Duration::from_millis(700), "{waited:?}");
        let started = Instant::now();
        pacer.slot().await;
        assert!(started.elapsed() < Duration::from_millis(100));
        assert!(
            pacer.try_take(Instant::now()).is_some(),
            "the kept slot was spent"
        );
    }

    #[test]
    fn a_burst_goes_through_then_slots_are_evenly_spaced() {
        let pacer = Pacer::new(80, 4);
        let start = Instant::now();
        for _ in 0..4 {
            assert_eq!(pacer.try_take(start), None);
        }
        let wait = pacer.try_take(start).unwrap();
        assert!(wait <= Duration::from_secs(1), "{wait:?}");
        assert_eq!(pacer.try_take(start + wait), None);
        let next = pacer.try_take(start + wait).unwrap();
        assert_eq!(next, Duration::from_secs(60) / 76);
    }
}
