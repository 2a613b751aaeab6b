//! The JSON shape of `opening_hours`, and its validation into a [`Schedule`].

use std::collections::BTreeMap;
use std::collections::btree_map::Entry;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use switchboard_core::FieldError;
use utoipa::ToSchema;

use super::schedule::{Schedule, Span};
use super::{MAX_EXCEPTIONS, MAX_INTERVALS_PER_DAY};

/// Weekly opening hours with dated exceptions. `{}` means Mon–Fri 09:00–17:00.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OpeningHours {
    /// Intervals per weekday; a weekday left out is closed. Absent: Mon–Fri 09:00–17:00.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub days: Option<WeekHours>,
    /// Dates whose intervals replace the weekday's; `[]` closes the date.
    #[serde(default)]
    pub exceptions: Vec<DateException>,
}

/// The intervals of each weekday (`mon` … `sun`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct WeekHours {
    #[serde(default)]
    pub mon: Vec<TimeInterval>,
    #[serde(default)]
    pub tue: Vec<TimeInterval>,
    #[serde(default)]
    pub wed: Vec<TimeInterval>,
    #[serde(default)]
    pub thu: Vec<TimeInterval>,
    #[serde(default)]
    pub fri: Vec<TimeInterval>,
    #[serde(default)]
    pub sat: Vec<TimeInterval>,
    #[serde(default)]
    pub sun: Vec<TimeInterval>,
    /// Keys that are not weekdays, kept so that validation can name them in a field error.
    #[serde(flatten, skip_serializing)]
    #[schema(ignore)]
    pub other: BTreeMap<String, serde_json::Value>,
}

/// `{"start": "09:00", "end": "17:00"}`; an end not after the start runs into the next day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TimeInterval {
    /// `HH:MM`, 00:00–23:59.
    #[schema(example = "09:00")]
    pub start: String,
    /// `HH:MM`, 00:00–23:59, or 24:00 for the midnight ending the day.
    #[schema(example = "17:00")]
    pub end: String,
}

/// One date with its own hours.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DateException {
    /// `YYYY-MM-DD`, in the target's zone.
    #[schema(example = "2026-12-24")]
    pub date: String,
    /// The intervals of that date; `[]` closes it.
    #[serde(default)]
    pub intervals: Vec<TimeInterval>,
}

impl TimeInterval {
    pub fn new(start: impl Into<String>, end: impl Into<String>) -> Self {
        Self { start: start.into(), end: end.into() }
    }
}

const WEEKDAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

impl WeekHours {
    fn day(&self, index: usize) -> &[TimeInterval] {
        match index {
            0 => &self.mon,
            1 => &self.tue,
            2 => &self.wed,
            3 => &self.thu,
            4 => &self.fri,
            5 => &self.sat,
            _ => &self.sun,
        }
    }

    pub(super) fn from_days(days: [Vec<TimeInterval>; 7]) -> Self {
        let [mon, tue, wed, thu, fri, sat, sun] = days;
        Self { mon, tue, wed, thu, fri, sat, sun, other: BTreeMap::new() }
    }
}

impl OpeningHours {
    /// Mon–Fri 09:00–17:00 (what `{}` means).
    pub fn default_week() -> Self {
        let office = || vec![TimeInterval::new("09:00", "17:00")];
        let days = [office(), office(), office(), office(), office(), Vec::new(), Vec::new()];
        Self { days: Some(WeekHours::from_days(days)), exceptions: Vec::new() }
    }

    /// Parses and validates the wire JSON (a non-null value) into the compiled schedule.
    /// `field` is the prefix for error paths, e.g. "opening_hours".
    pub fn compile(&self, field: &str) -> Result<Schedule, Vec<FieldError>> {
        let mut errors = Vec::new();
        let default_days;
        let days = match &self.days {
            Some(days) => days,
            None => {
                default_days = Self::default_week().days.unwrap_or_default();
                &default_days
            }
        };

        for key in days.other.keys() {
            errors.push(FieldError::new(
                format!("{field}.days.{key}"),
                format!("`{key}` is not a weekday; use mon, tue, wed, thu, fri, sat or sun"),
            ));
        }
        let week: [Vec<Span>; 7] = std::array::from_fn(|i| {
            intervals(days.day(i), &format!("{field}.days.{}", WEEKDAYS[i]), &mut errors)
        });

        if self.exceptions.len() > MAX_EXCEPTIONS {
            errors.push(FieldError::new(
                format!("{field}.exceptions"),
                format!(
                    "at most {MAX_EXCEPTIONS} exceptions are allowed ({} given); remove past dates",
                    self.exceptions.len()
                ),
            ));
        }
        let mut exceptions: BTreeMap<NaiveDate, (usize, Vec<Span>)> = BTreeMap::new();
        for (i, exception) in self.exceptions.iter().enumerate() {
            let path = format!("{field}.exceptions[{i}]");
            let spans = intervals(&exception.intervals, &format!("{path}.intervals"), &mut errors);
            match parse_date(&exception.date) {
                Err(message) => errors.push(FieldError::new(format!("{path}.date"), message)),
                Ok(date) => match exceptions.entry(date) {
                    Entry::Vacant(slot) => {
                        slot.insert((i, spans));
                    }
                    Entry::Occupied(first) => errors.push(FieldError::new(
                        format!("{path}.date"),
                        format!(
                            "{date} is already listed at {field}.exceptions[{}]; list each date once",
                            first.get().0
                        ),
                    )),
                },
            }
        }

        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(Schedule::new(week, exceptions.into_iter().map(|(date, (_, spans))| (date, spans)).collect()))
    }
}

/// Validates one day's intervals, recording errors under `path` (`….days.mon`).
fn intervals(list: &[TimeInterval], path: &str, errors: &mut Vec<FieldError>) -> Vec<Span> {
    if list.len() > MAX_INTERVALS_PER_DAY {
        errors.push(FieldError::new(
            path,
            format!(
                "at most {MAX_INTERVALS_PER_DAY} intervals per day are allowed ({} given); merge some",
                list.len()
            ),
        ));
    }
    let mut spans = Vec::with_capacity(list.len());
    for (i, interval) in list.iter().enumerate() {
        let start = parse_time(&interval.start, false);
        let end = parse_time(&interval.end, true);
        if let Err(message) = &start {
            errors.push(FieldError::new(format!("{path}[{i}].start"), message.clone()));
        }
        if let Err(message) = &end {
            errors.push(FieldError::new(format!("{path}[{i}].end"), message.clone()));
        }
        if let (Ok(start), Ok(end)) = (start, end) {
            spans.push(Span { start, end });
        }
    }
    spans
}

/// `HH:MM` → minutes since midnight. `24:00` (→ 1440) only when `is_end`.
pub(super) fn parse_time(text: &str, is_end: bool) -> Result<u16, String> {
    let b = text.as_bytes();
    let digits = |i: usize, j: usize| -> Option<u16> {
        let (x, y) = (b[i], b[j]);
        (x.is_ascii_digit() && y.is_ascii_digit()).then(|| u16::from(x - b'0') * 10 + u16::from(y - b'0'))
    };
    let parsed = if b.len() == 5 && b[2] == b':' { digits(0, 1).zip(digits(3, 4)) } else { None };
    let Some((hours, minutes)) = parsed else {
        return Err(format!("`{text}` is not a time; write HH:MM on a 24-hour clock, e.g. 09:00 or 17:30"));
    };
    match (hours, minutes) {
        (24, 0) if is_end => Ok(1440),
        (24, 0) => Err("24:00 can only end an interval; start at 00:00 instead".to_owned()),
        (h, _) if h > 23 => Err(format!(
            "`{text}` is not a time: hours go from 00 to 23 (24:00 only as an end, meaning midnight)"
        )),
        (_, m) if m > 59 => Err(format!("`{text}` is not a time: minutes go from 00 to 59")),
        (h, m) => Ok(h * 60 + m),
    }
}

/// Minutes since midnight → `HH:MM` (1440 → `24:00`).
pub(super) fn format_time(minutes: u16) -> String {
    format!("{:02}:{:02}", minutes / 60, minutes % 60)
}

/// Strict `YYYY-MM-DD`.
fn parse_date(text: &str) -> Result<NaiveDate, String> {
    let b = text.as_bytes();
    let shape_ok = b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && b.iter().enumerate().all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit());
    let number = |range: std::ops::Range<usize>| text.get(range).and_then(|s| s.parse::<u32>().ok());
    let parts = if shape_ok { number(0..4).zip(number(5..7)).zip(number(8..10)) } else { None };
    let Some(((year, month), day)) = parts else {
        return Err(format!("`{text}` is not a date; write YYYY-MM-DD, e.g. 2026-12-24"));
    };
    i32::try_from(year)
        .ok()
        .and_then(|year| NaiveDate::from_ymd_opt(year, month, day))
        .ok_or_else(|| format!("`{text}` is not a day of the calendar; write YYYY-MM-DD, e.g. 2026-12-24"))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use serde_json::json;

    use super::*;

    fn errors(value: serde_json::Value) -> Vec<(String, String)> {
        let hours: OpeningHours = serde_json::from_value(value).unwrap();
        hours.compile("opening_hours").unwrap_err().into_iter().map(|e| (e.field, e.message)).collect()
    }

    fn fields(value: serde_json::Value) -> Vec<String> {
        errors(value).into_iter().map(|(field, _)| field).collect()
    }

    #[test]
    fn times_parse_strictly() {
        assert_eq!(parse_time("00:00", false), Ok(0));
        assert_eq!(parse_time("09:05", false), Ok(545));
        assert_eq!(parse_time("23:59", false), Ok(1439));
        assert_eq!(parse_time("24:00", true), Ok(1440));
        for bad in ["9:00", "24:30", "12:60", "ab:cd", "", "0900", "09:00 ", "+9:00", "09:0a", "24:00"] {
            assert!(parse_time(bad, false).is_err(), "{bad}");
        }
        assert!(parse_time("24:01", true).is_err());
        assert!(parse_time("٠٩:٠٠", false).is_err());
    }

    #[test]
    fn time_messages_say_what_to_type() {
        assert!(parse_time("9:00", false).unwrap_err().contains("HH:MM"));
        assert!(parse_time("24:30", true).unwrap_err().contains("00 to 23"));
        assert!(parse_time("12:60", false).unwrap_err().contains("00 to 59"));
        assert!(parse_time("24:00", false).unwrap_err().contains("start at 00:00"));
    }

    #[test]
    fn dates_parse_strictly() {
        assert_eq!(parse_date("2026-12-24"), Ok(NaiveDate::from_ymd_opt(2026, 12, 24).unwrap()));
        for bad in ["2026-2-24", "2026-02-30", "26-12-24", "2026/12/24", "2026-12-24T00:00", "", "+026-12-24"]
        {
            assert!(parse_date(bad).is_err(), "{bad}");
        }
        assert!(parse_date("2026-02-30").unwrap_err().contains("not a day of the calendar"));
    }

    #[test]
    fn times_format_back() {
        assert_eq!(format_time(0), "00:00");
        assert_eq!(format_time(545), "09:05");
        assert_eq!(format_time(1440), "24:00");
    }

    #[test]
    fn empty_object_is_the_default_week() {
        let hours: OpeningHours = serde_json::from_value(json!({})).unwrap();
        assert_eq!(hours, OpeningHours::default());
        let wire = hours.compile("opening_hours").unwrap().to_wire();
        assert_eq!(wire, OpeningHours::default_week());
        assert_eq!(
            serde_json::to_value(&wire).unwrap(),
            json!({"days": {
                "mon": [{"start": "09:00", "end": "17:00"}], "tue": [{"start": "09:00", "end": "17:00"}],
                "wed": [{"start": "09:00", "end": "17:00"}], "thu": [{"start": "09:00", "end": "17:00"}],
                "fri": [{"start": "09:00", "end": "17:00"}], "sat": [], "sun": []
            }, "exceptions": []})
        );
    }

    #[test]
    fn unknown_top_level_and_interval_fields_are_serde_errors() {
        let err = serde_json::from_value::<OpeningHours>(json!({"dayz": {}})).unwrap_err();
        assert!(err.to_string().contains("unknown field `dayz`"), "{err}");
        let err = serde_json::from_value::<OpeningHours>(
            json!({"days": {"mon": [{"start": "09:00", "end": "17:00", "x": 1}]}}),
        )
        .unwrap_err();
        assert!(err.to_string().contains("unknown field `x`"), "{err}");
        let err = serde_json::from_value::<OpeningHours>(
            json!({"exceptions": [{"date": "2026-12-24", "closed": true}]}),
        )
        .unwrap_err();
        assert!(err.to_string().contains("unknown field `closed`"), "{err}");
    }

    #[test]
    fn unknown_weekday_is_a_field_error() {
        let found = errors(json!({"days": {"monday": [], "mon": [], "Tue": []}}));
        assert_eq!(
            found.iter().map(|(f, _)| f.as_str()).collect::<Vec<_>>(),
            ["opening_hours.days.Tue", "opening_hours.days.monday"]
        );
        assert!(found[1].1.contains("use mon, tue, wed, thu, fri, sat or sun"));
    }

    #[test]
    fn every_bad_time_is_reported_with_its_path() {
        let found = fields(json!({"days": {
            "mon": [{"start": "09:00", "end": "12:00"}, {"start": "9:00", "end": "24:30"}],
            "sun": [{"start": "12:60", "end": "ab:cd"}]
        }}));
        assert_eq!(
            found,
            [
                "opening_hours.days.mon[1].start",
                "opening_hours.days.mon[1].end",
                "opening_hours.days.sun[0].start",
                "opening_hours.days.sun[0].end",
            ]
        );
    }

    #[test]
    fn exception_errors_have_paths() {
        let found = errors(json!({"exceptions": [
            {"date": "2026-12-24", "intervals": []},
            {"date": "24.12.2026", "intervals": []},
            {"date": "2026-12-24", "intervals": [{"start": "10:00", "end": "25:00"}]},
        ]}));
        let paths: Vec<_> = found.iter().map(|(f, _)| f.as_str()).collect();
        assert_eq!(
            paths,
            [
                "opening_hours.exceptions[1].date",
                "opening_hours.exceptions[2].intervals[0].end",
                "opening_hours.exceptions[2].date",
            ]
        );
        assert!(found[2].1.contains("already listed at opening_hours.exceptions[0]"));
    }

    #[test]
    fn limits_are_enforced() {
        let eleven: Vec<_> =
            (0..11).map(|h| json!({"start": format!("{h:02}:00"), "end": format!("{h:02}:30")})).collect();
        assert_eq!(fields(json!({"days": {"wed": eleven.clone()}})), ["opening_hours.days.wed"]);
        assert_eq!(
            fields(json!({"exceptions": [{"date": "2026-01-01", "intervals": eleven}]})),
            ["opening_hours.exceptions[0].intervals"]
        );
        let ten: Vec<_> =
            (0..10).map(|h| json!({"start": format!("{h:02}:00"), "end": format!("{h:02}:30")})).collect();
        let hours: OpeningHours = serde_json::from_value(json!({"days": {"wed": ten}})).unwrap();
        assert!(hours.compile("opening_hours").is_ok());

        let start = NaiveDate::from_ymd_opt(2026, 1, 1).unwrap();
        let many = |n: u64| -> Vec<_> {
            (0..n)
                .map(|i| json!({"date": (start + chrono::Days::new(i)).to_string(), "intervals": []}))
                .collect()
        };
        assert_eq!(fields(json!({"exceptions": many(367)})), ["opening_hours.exceptions"]);
        let hours: OpeningHours = serde_json::from_value(json!({"exceptions": many(366)})).unwrap();
        assert!(hours.compile("opening_hours").is_ok());
    }

    #[test]
    fn schema_lists_weekdays_but_not_the_catch_all() {
        let schema = serde_json::to_value(<WeekHours as utoipa::PartialSchema>::schema()).unwrap();
        let mut properties: Vec<&str> =
            schema["properties"].as_object().unwrap().keys().map(|k| k.as_str()).collect();
        properties.sort_unstable();
        let mut weekdays = WEEKDAYS;
        weekdays.sort_unstable();
        assert_eq!(properties, weekdays);
    }

    #[test]
    fn wire_round_trips_normalised() {
        let value = json!({
            "days": {"fri": [{"start": "22:00", "end": "24:00"}], "mon": [{"start": "08:00", "end": "12:00"}]},
            "exceptions": [
                {"date": "2027-01-01", "intervals": []},
                {"date": "2026-12-24", "intervals": [{"start": "09:00", "end": "12:00"}]}
            ]
        });
        let hours: OpeningHours = serde_json::from_value(value).unwrap();
        let wire = hours.compile("opening_hours").unwrap().to_wire();
        assert_eq!(
            serde_json::to_value(&wire).unwrap(),
            json!({
                "days": {
                    "mon": [{"start": "08:00", "end": "12:00"}], "tue": [], "wed": [], "thu": [],
                    "fri": [{"start": "22:00", "end": "24:00"}], "sat": [], "sun": []
                },
                "exceptions": [
                    {"date": "2026-12-24", "intervals": [{"start": "09:00", "end": "12:00"}]},
                    {"date": "2027-01-01", "intervals": []}
                ]
            })
        );
        assert_eq!(wire.compile("x").unwrap().to_wire(), wire);
    }
}
