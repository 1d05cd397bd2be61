//! Times in a service's time zone: minute-precision form input and display, dates.

use chrono::{NaiveDate, NaiveDateTime, TimeZone};
use chrono_tz::Tz;

/// A local time that could not be read or does not exist.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InvalidTime;

/// Parses a minute-precision local time (`YYYY-MM-DDTHH:MM`, as `datetime-local` sends it) in
/// the service's time zone into UTC. `Ok(None)` for an empty value; `Err` for an invalid or
/// non-existent local time (a daylight-saving gap).
pub fn parse_local_minute(tz: Tz, s: &str) -> Result<Option<NaiveDateTime>, InvalidTime> {
    let s = s.trim();
    if s.is_empty() {
        return Ok(None);
    }
    let naive = NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M")
        .or_else(|_| NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M"))
        .map_err(|_| InvalidTime)?;
    let local = tz
        .from_local_datetime(&naive)
        .earliest()
        .ok_or(InvalidTime)?;
    Ok(Some(local.naive_utc()))
}

/// A UTC time as the service's local `YYYY-MM-DDTHH:MM` (for `datetime-local` inputs).
pub fn local_input(tz: Tz, utc: NaiveDateTime) -> String {
    tz.from_utc_datetime(&utc)
        .format("%Y-%m-%dT%H:%M")
        .to_string()
}

/// A UTC time as the service's local `YYYY-MM-DD HH:MM`.
pub fn local_display(tz: Tz, utc: NaiveDateTime) -> String {
    tz.from_utc_datetime(&utc)
        .format("%Y-%m-%d %H:%M")
        .to_string()
}

/// A UTC time as the service's local date.
pub fn local_date(tz: Tz, utc: NaiveDateTime) -> String {
    tz.from_utc_datetime(&utc).format("%Y-%m-%d").to_string()
}

/// Checks a `YYYY-MM-DD` date.
pub fn parse_date(s: &str) -> Option<String> {
    NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d")
        .ok()
        .map(|d| d.format("%Y-%m-%d").to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_minutes_use_the_service_time_zone() {
        let seoul: Tz = "Asia/Seoul".parse().unwrap();
        let utc = parse_local_minute(seoul, "2026-03-01T09:30")
            .unwrap()
            .unwrap();
        assert_eq!(utc.format("%Y-%m-%d %H:%M").to_string(), "2026-03-01 00:30");
        assert_eq!(local_input(seoul, utc), "2026-03-01T09:30");
        assert!(parse_local_minute(seoul, "tomorrow").is_err());
        assert_eq!(parse_local_minute(seoul, ""), Ok(None));
    }
}
