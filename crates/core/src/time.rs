//! The current instant, at the precision both engines store.
//!
//! PostgreSQL keeps microseconds; a timestamp made with nanoseconds would be answered one way on
//! creation and another when read back. Every stored timestamp comes from [`now`].

use chrono::{DateTime, DurationRound, TimeDelta, Utc};

/// `Utc::now()` truncated to whole microseconds.
pub fn now() -> DateTime<Utc> {
    let t = Utc::now();
    t.duration_trunc(TimeDelta::microseconds(1)).unwrap_or(t)
}

#[cfg(test)]
mod tests {
    #[test]
    fn now_has_no_sub_microsecond_part() {
        assert_eq!(super::now().timestamp_subsec_nanos() % 1_000, 0);
    }
}
