//! Opening hours of a forwarding target (SPEC §6): the wire form, its validation, and a compiled
//! [`Schedule`] that answers "open at this instant?" — with when that next changes — in a zone.
//!
//! # Rules
//!
//! - `{}` (no `days`) is Mon–Fri 09:00–17:00; a weekday missing from `days` is closed.
//! - A day holds up to 10 `{start, end}` intervals (`HH:MM`, 00:00–23:59). Overlapping intervals
//!   are merged (their union is open). An interval whose end is not after its start runs past
//!   midnight into the next day: `22:00–02:00` ends at 02:00 the next morning, `00:00–00:00`
//!   (or `09:00–09:00`) is a full 24 h. `24:00` is accepted as an *end* only and means the
//!   midnight that ends the day — the same as writing `00:00` there; it is kept on the way back.
//! - Exceptions (at most 366, one per date): on that date their intervals replace the weekday's,
//!   `[]` closing the date.
//! - **Spill rule:** an interval belongs to the date it starts on. An overnight interval of the
//!   previous date therefore still runs into an exception date (Wednesday 22:00–02:00 keeps the
//!   target open until 02:00 on an exception Thursday); an exception date's own overnight interval
//!   runs into the next date the same way. To close those early hours, give the previous date an
//!   exception that ends at 24:00.
//!
//! # Time zones and DST
//!
//! The local wall-clock time of the instant in the target's zone decides, and nothing else: an
//! instant is open when its local date and minute fall in an interval. What follows from that:
//! - a local time skipped by a spring-forward gap never happens: an interval starting in the gap
//!   (Berlin 2026-03-29 02:30) opens at the first instant after it (03:00 CEST), one ending in the
//!   gap closes when the gap begins, and one lying wholly inside the gap does not open that day;
//! - a local time repeated by a fall-back overlap is open both times it happens: `02:00–02:30` on
//!   Berlin 2026-10-25 is open 02:00–02:30 CEST and again 02:00–02:30 CET; a boundary at a repeated
//!   time therefore first takes effect at the earlier instant (`until` is 02:30 CEST), and the
//!   status may flip back when the clock is turned back.
//!
//! # Look-ahead
//!
//! `until` / `next_open` are searched up to 14 days past the later of the instant and the last
//! date an exception affects (its date, or the next one for its spill), at most 400 days ahead;
//! `None` means no change within that window. After the last exception the week repeats, so 14
//! days find any change that exists (even one skipped once by a DST gap). The search assumes a
//! zone changes its UTC offset at most once within 24 hours, true of every zone in current tzdata.

mod schedule;
mod wire;

pub use schedule::{Availability, Schedule};
pub use wire::{DateException, OpeningHours, TimeInterval, WeekHours};

/// At most this many intervals on one day (weekday or exception).
pub const MAX_INTERVALS_PER_DAY: usize = 10;
/// At most this many dated exceptions.
pub const MAX_EXCEPTIONS: usize = 366;
