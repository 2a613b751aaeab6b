//! The compiled schedule and its evaluation.
//!
//! Compiling turns the intervals into per-local-day *profiles*: the merged, sorted minute ranges
//! open on that day, own intervals and the previous day's overnight spill together. Seven weekly
//! profiles cover ordinary days; exception dates and the days after them get their own, looked
//! up by binary search. Evaluation works on "local seconds" (the wall-clock time read as if it
//! were UTC): it reads the instant's offset once, finds the next change in wall-clock order, and
//! checks whether a UTC-offset change comes first. Nothing is allocated per evaluation.

use chrono::{DateTime, Datelike, NaiveDate, Offset, TimeZone, Utc};
use chrono_tz::Tz;

use super::wire::{DateException, OpeningHours, TimeInterval, WeekHours, format_time};

const DAY: i64 = 86_400;
const FULL_DAY: u16 = 1440;
/// 14 days: after the last exception the week repeats, so any change happens within two weeks.
const LOOKAHEAD: i64 = 14 * DAY;
const MAX_LOOKAHEAD: i64 = 400 * DAY;
/// `NaiveDate::num_days_from_ce` of 1970-01-01.
const UNIX_EPOCH_DAYS_FROM_CE: i64 = 719_163;

/// Whether a target is reachable at an instant, and until when.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Availability {
    /// Open now; `until` is when it next closes (None: never within the search horizon).
    Open { until: Option<DateTime<Utc>> },
    /// Closed now; `next_open` is when it next opens (None: never within the search horizon).
    Closed { next_open: Option<DateTime<Utc>> },
}

impl Availability {
    pub fn is_open(&self) -> bool {
        matches!(self, Availability::Open { .. })
    }
}

/// One wire interval in minutes since midnight; `end` is 1440 for `24:00`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Span {
    pub(super) start: u16,
    pub(super) end: u16,
}

impl Span {
    /// The part on its own day: `[start, end)`, or `[start, 24:00)` when it runs overnight.
    fn own(self) -> (u16, u16) {
        if self.end > self.start { (self.start, self.end) } else { (self.start, FULL_DAY) }
    }

    /// The part on the next day, `[00:00, end)`, if it runs overnight.
    fn spill(self) -> Option<(u16, u16)> {
        (self.end <= self.start && self.end > 0).then_some((0, self.end))
    }

    fn to_wire(self) -> TimeInterval {
        TimeInterval::new(format_time(self.start), format_time(self.end))
    }
}

/// The minute ranges `[start, end)` open on one local day: sorted, disjoint, not touching.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
struct Profile(Box<[(u16, u16)]>);

impl Profile {
    fn build(own: &[Span], previous: &[Span]) -> Self {
        let mut ranges: Vec<(u16, u16)> =
            own.iter().map(|s| s.own()).chain(previous.iter().filter_map(|s| s.spill())).collect();
        ranges.sort_unstable();
        let mut merged: Vec<(u16, u16)> = Vec::with_capacity(ranges.len());
        for (start, end) in ranges {
            match merged.last_mut() {
                Some(last) if start <= last.1 => last.1 = last.1.max(end),
                _ => merged.push((start, end)),
            }
        }
        Self(merged.into_boxed_slice())
    }

    fn contains(&self, minute: u16) -> bool {
        self.0.iter().any(|&(start, end)| start <= minute && minute < end)
    }
}

/// A validated schedule ready for fast evaluation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Schedule {
    week: [Vec<Span>; 7],
    /// Sorted by date, one entry per date.
    exceptions: Vec<(NaiveDate, Vec<Span>)>,
    /// Profiles of ordinary days, Monday first.
    weekly: [Profile; 7],
    /// Profiles of exception dates and the days after them, by local day number, sorted.
    special: Vec<(i64, Profile)>,
}

/// Days since 1970-01-01.
fn day_number(date: NaiveDate) -> i64 {
    i64::from(date.num_days_from_ce()) - UNIX_EPOCH_DAYS_FROM_CE
}

/// Monday = 0 (1970-01-01 was a Thursday).
fn weekday(day: i64) -> usize {
    // rem_euclid(7) is in 0..7, so the cast cannot truncate.
    (day + 3).rem_euclid(7) as usize
}

/// The zone's UTC offset at a Unix second, in seconds.
fn offset_at(zone: Tz, secs: i64) -> Option<i64> {
    let utc = DateTime::from_timestamp(secs, 0)?.naive_utc();
    Some(i64::from(zone.offset_from_utc_datetime(&utc).fix().local_minus_utc()))
}

impl Schedule {
    /// `exceptions` sorted by date, one entry per date (compile guarantees both).
    pub(super) fn new(week: [Vec<Span>; 7], exceptions: Vec<(NaiveDate, Vec<Span>)>) -> Self {
        let weekly = std::array::from_fn(|w| Profile::build(&week[w], &week[(w + 6) % 7]));
        let by_day: Vec<(i64, &[Span])> =
            exceptions.iter().map(|(date, spans)| (day_number(*date), spans.as_slice())).collect();
        let source = |day: i64| -> &[Span] {
            match by_day.binary_search_by_key(&day, |(d, _)| *d) {
                Ok(i) => by_day[i].1,
                Err(_) => &week[weekday(day)],
            }
        };
        let mut special: Vec<(i64, Profile)> = Vec::with_capacity(by_day.len() * 2);
        for &(day, _) in &by_day {
            for d in [day, day + 1] {
                if special.last().is_none_or(|(last, _)| *last < d) {
                    special.push((d, Profile::build(source(d), source(d - 1))));
                }
            }
        }
        Self { week, exceptions, weekly, special }
    }

    /// The wire form again (normalised: `{}` becomes the explicit Mon–Fri days).
    pub fn to_wire(&self) -> OpeningHours {
        let spans = |list: &[Span]| list.iter().map(|s| s.to_wire()).collect::<Vec<_>>();
        OpeningHours {
            days: Some(WeekHours::from_days(std::array::from_fn(|w| spans(&self.week[w])))),
            exceptions: self
                .exceptions
                .iter()
                .map(|(date, list)| DateException { date: date.to_string(), intervals: spans(list) })
                .collect(),
        }
    }

    /// Open or closed at `at`, evaluated in `zone`.
    pub fn status_at(&self, at: DateTime<Utc>, zone: Tz) -> Availability {
        let t = at.timestamp();
        let offset = i64::from(zone.offset_from_utc_datetime(&at.naive_utc()).fix().local_minus_utc());
        let local = t + offset;
        let open = self.covers(local);
        let horizon = self.horizon(t, offset);
        let change =
            self.next_change(t, offset, open, zone, horizon).and_then(|s| DateTime::from_timestamp(s, 0));
        if open { Availability::Open { until: change } } else { Availability::Closed { next_open: change } }
    }

    fn profile(&self, day: i64) -> &Profile {
        if let (Some((first, _)), Some((last, _))) = (self.special.first(), self.special.last())
            && (*first..=*last).contains(&day)
            && let Ok(i) = self.special.binary_search_by_key(&day, |(d, _)| *d)
        {
            return &self.special[i].1;
        }
        &self.weekly[weekday(day)]
    }

    /// Whether the wall-clock time `local` (seconds, local time read as UTC) is open.
    fn covers(&self, local: i64) -> bool {
        // rem_euclid(DAY) / 60 is in 0..1440.
        let minute = (local.rem_euclid(DAY) / 60) as u16;
        self.profile(local.div_euclid(DAY)).contains(minute)
    }

    /// The end of the search: 14 days past the later of `t` and the last day an exception affects.
    fn horizon(&self, t: i64, offset: i64) -> i64 {
        let last_special_end = self.special.last().map_or(t, |(day, _)| (day + 1) * DAY - offset);
        (t.max(last_special_end) + LOOKAHEAD).min(t + MAX_LOOKAHEAD)
    }

    /// The first instant after `t` (Unix seconds, offset `offset`, status `open`) whose status differs.
    fn next_change(&self, t: i64, offset: i64, open: bool, zone: Tz, horizon: i64) -> Option<i64> {
        let (mut now, mut offset) = (t, offset);
        loop {
            // With the offset unchanged, the status would change at this instant …
            let candidate =
                self.next_local_change(now + offset, open, horizon + offset + DAY).map(|l| l - offset);
            // … unless the offset changes first.
            let until = candidate.map_or(horizon, |c| c.min(horizon));
            match first_offset_change(zone, now, offset, until) {
                None => return candidate.filter(|c| *c <= horizon),
                Some((at, new_offset)) => {
                    (now, offset) = (at, new_offset);
                    if self.covers(now + offset) != open {
                        return Some(now);
                    }
                }
            }
        }
    }

    /// The first wall-clock time after `local` (whose status is `open`) with the other status,
    /// searching days up to `limit`.
    fn next_local_change(&self, local: i64, open: bool, limit: i64) -> Option<i64> {
        let mut day = local.div_euclid(DAY);
        let second = local.rem_euclid(DAY);
        let ranges = &self.profile(day).0;
        if open {
            let mut end =
                ranges.iter().find(|(s, e)| i64::from(*s) * 60 <= second && second < i64::from(*e) * 60)?.1;
            loop {
                if end < FULL_DAY {
                    return Some(day * DAY + i64::from(end) * 60);
                }
                day += 1;
                if day * DAY > limit {
                    return None;
                }
                match self.profile(day).0.first() {
                    Some(&(0, next_end)) => end = next_end,
                    _ => return Some(day * DAY),
                }
            }
        } else {
            if let Some((start, _)) = ranges.iter().find(|(s, _)| i64::from(*s) * 60 > second) {
                return Some(day * DAY + i64::from(*start) * 60);
            }
            loop {
                day += 1;
                if day * DAY > limit {
                    return None;
                }
                if let Some((start, _)) = self.profile(day).0.first() {
                    return Some(day * DAY + i64::from(*start) * 60);
                }
            }
        }
    }
}

/// The first instant in `(from, until]` at which `zone`'s offset is no longer `offset`, with the
/// new offset. Probes a day apart, then bisects: an offset that changes and changes back within
/// one day would be missed (no current zone does that).
fn first_offset_change(zone: Tz, from: i64, offset: i64, until: i64) -> Option<(i64, i64)> {
    let mut low = from;
    while low < until {
        let high = (low + DAY).min(until);
        let high_offset = offset_at(zone, high)?;
        if high_offset != offset {
            let (mut low, mut high, mut high_offset) = (low, high, high_offset);
            while high - low > 1 {
                let mid = low + (high - low) / 2;
                let mid_offset = offset_at(zone, mid)?;
                if mid_offset == offset {
                    low = mid;
                } else {
                    (high, high_offset) = (mid, mid_offset);
                }
            }
            return Some((high, high_offset));
        }
        low = high;
    }
    None
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn span(start: u16, end: u16) -> Span {
        Span { start, end }
    }

    #[test]
    fn schedule_can_be_shared_between_threads() {
        fn shareable<T: Clone + std::fmt::Debug + Send + Sync + 'static>() {}
        shareable::<Schedule>();
        shareable::<Availability>();
    }

    #[test]
    fn weekday_numbers_start_on_monday() {
        assert_eq!(weekday(0), 3); // 1970-01-01, a Thursday
        let monday = NaiveDate::from_ymd_opt(2026, 3, 30).unwrap();
        assert_eq!(weekday(day_number(monday)), 0);
        assert_eq!(weekday(day_number(monday) - 1), 6);
        assert_eq!(weekday(-1), 2);
    }

    #[test]
    fn profiles_merge_own_intervals_and_spill() {
        let p = Profile::build(
            &[span(600, 720), span(700, 800), span(800, 900), span(1320, 60)],
            &[span(1380, 120)],
        );
        assert_eq!(&*p.0, &[(0, 120), (600, 900), (1320, 1440)]);
        assert_eq!(&*Profile::build(&[span(0, 0)], &[span(0, 0)]).0, &[(0, 1440)]);
        assert_eq!(&*Profile::build(&[span(540, 1440)], &[span(540, 1440)]).0, &[(540, 1440)]);
        assert!(Profile::build(&[], &[]).0.is_empty());
    }

    #[test]
    fn special_days_cover_the_exception_and_the_day_after() {
        let week: [Vec<Span>; 7] = std::array::from_fn(|_| vec![span(1320, 120)]);
        let d = |day| NaiveDate::from_ymd_opt(2026, 12, day).unwrap();
        let schedule =
            Schedule::new(week, vec![(d(24), vec![]), (d(25), vec![span(600, 660)]), (d(31), vec![])]);
        let days: Vec<i64> = schedule.special.iter().map(|(day, _)| *day).collect();
        let n = day_number(d(24));
        assert_eq!(days, [n, n + 1, n + 2, n + 7, n + 8]);
        assert_eq!(&*schedule.profile(n).0, &[(0, 120)]);
        assert_eq!(&*schedule.profile(n + 1).0, &[(600, 660)]);
        assert_eq!(&*schedule.profile(n + 2).0, &[(1320, 1440)]);
        assert_eq!(&*schedule.profile(n + 3).0, &[(0, 120), (1320, 1440)]);
    }
}
