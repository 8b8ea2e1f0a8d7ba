//! Reconnect delays: exponential backoff with jitter, as a pure function.

/// Delay before reconnect attempt number `attempt` (0 for the first retry).
///
/// The ceiling doubles from `base_ms` each attempt up to `max_ms`; `jitter` in
/// `[0, 1)` (a random draw) picks a point in the upper half of that ceiling,
/// so that many tabs cut off at once do not reconnect in lockstep.
pub fn reconnect_delay_ms(attempt: u32, base_ms: u64, max_ms: u64, jitter: f64) -> u64 {
    let ceiling = base_ms.saturating_mul(1u64.checked_shl(attempt.min(32)).unwrap_or(u64::MAX)).min(max_ms);
    let jitter = if jitter.is_finite() { jitter.clamp(0.0, 1.0) } else { 0.0 };
    let half = ceiling / 2;
    half + ((ceiling - half) as f64 * jitter) as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grows_exponentially_then_caps() {
        assert_eq!(reconnect_delay_ms(0, 500, 30_000, 1.0), 500);
        assert_eq!(reconnect_delay_ms(1, 500, 30_000, 1.0), 1000);
        assert_eq!(reconnect_delay_ms(3, 500, 30_000, 1.0), 4000);
        assert_eq!(reconnect_delay_ms(10, 500, 30_000, 1.0), 30_000);
        assert_eq!(reconnect_delay_ms(u32::MAX, 500, 30_000, 1.0), 30_000);
    }

    #[test]
    fn jitter_stays_in_the_upper_half() {
        for attempt in 0..12 {
            let ceiling = (500u64 << attempt).min(30_000);
            for j in [0.0, 0.25, 0.5, 0.999, -3.0, 7.0, f64::NAN] {
                let d = reconnect_delay_ms(attempt, 500, 30_000, j);
                assert!(d >= ceiling / 2 && d <= ceiling, "attempt {attempt} jitter {j}: {d}");
            }
        }
        assert_ne!(reconnect_delay_ms(4, 500, 30_000, 0.1), reconnect_delay_ms(4, 500, 30_000, 0.9));
    }
}
