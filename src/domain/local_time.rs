//! Times as people enter and read them: in the deployment's time zone (by default
//! `Asia/Ho_Chi_Minh`), while everything stored stays in UTC. Converting here, once, keeps
//! "giờ Việt Nam trừ 7 giờ" arithmetic out of administrators' heads.

use chrono::{NaiveDateTime, TimeZone as _};

/// The zone used when none is configured.
pub const DEFAULT_ZONE: &str = "Asia/Ho_Chi_Minh";

/// Formats accepted from an HTML `datetime-local` input (and by hand).
const INPUT_FORMATS: [&str; 3] = ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"];

/// A time zone of the IANA database, such as `Asia/Ho_Chi_Minh`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeZone(chrono_tz::Tz);

impl Default for TimeZone {
    fn default() -> Self {
        Self(chrono_tz::Tz::Asia__Ho_Chi_Minh)
    }
}

impl TimeZone {
    /// The zone with this IANA name (`Asia/Ho_Chi_Minh`, `UTC`, …), or `None`.
    pub fn parse(name: &str) -> Option<Self> {
        name.trim().parse::<chrono_tz::Tz>().ok().map(Self)
    }

    /// The IANA name.
    pub fn name(self) -> &'static str {
        self.0.name()
    }

    /// True for Vietnam's zone (under either of its IANA names), which the pages call
    /// "Giờ Việt Nam".
    pub fn is_vietnam(self) -> bool {
        matches!(
            self.0,
            chrono_tz::Tz::Asia__Ho_Chi_Minh | chrono_tz::Tz::Asia__Saigon
        )
    }

    /// The wall-clock time in this zone of a UTC instant.
    pub fn to_local(self, utc: NaiveDateTime) -> NaiveDateTime {
        self.0.from_utc_datetime(&utc).naive_local()
    }

    /// The UTC instant of a wall-clock time in this zone. A time that occurs twice (when
    /// clocks go back) is taken at its first occurrence; one that never occurs (when clocks go
    /// forward) is refused.
    pub fn to_utc(self, local: NaiveDateTime) -> Result<NaiveDateTime, TimeInputError> {
        self.0
            .from_local_datetime(&local)
            .earliest()
            .map(|t| t.naive_utc())
            .ok_or(TimeInputError::Skipped)
    }

    /// The value of a `datetime-local` input showing `utc` in this zone (`2025-09-01T08:00`).
    pub fn input_value(self, utc: NaiveDateTime) -> String {
        self.to_local(utc).format("%Y-%m-%dT%H:%M").to_string()
    }

    /// Reads a time typed in this zone (a `datetime-local` value) as UTC; empty means none.
    pub fn parse_input(self, raw: &str) -> Result<Option<NaiveDateTime>, TimeInputError> {
        let raw = raw.trim();
        if raw.is_empty() {
            return Ok(None);
        }
        let local = INPUT_FORMATS
            .iter()
            .find_map(|f| NaiveDateTime::parse_from_str(raw, f).ok())
            .ok_or(TimeInputError::NotATime)?;
        self.to_utc(local).map(Some)
    }
}

/// Why a typed time is not accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TimeInputError {
    /// Not a date and time such as `2025-09-01T08:00`.
    #[error("not a date and time such as 2025-09-01T08:00")]
    NotATime,
    /// The wall-clock time does not exist in the zone (clocks go forward over it).
    #[error("this time does not exist in the time zone (the clocks skip it)")]
    Skipped,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M").unwrap()
    }

    #[test]
    fn eight_in_the_morning_in_vietnam_is_one_in_the_morning_utc_and_back() {
        let zone = TimeZone::default();
        assert_eq!(zone.name(), DEFAULT_ZONE);
        assert!(zone.is_vietnam());
        let utc = zone.parse_input("2025-09-01T08:00").unwrap().unwrap();
        assert_eq!(utc, at("2025-09-01T01:00"));
        assert_eq!(zone.input_value(utc), "2025-09-01T08:00");
        assert_eq!(zone.to_local(utc), at("2025-09-01T08:00"));
    }

    #[test]
    fn an_empty_input_is_no_time_and_text_is_refused() {
        let zone = TimeZone::default();
        assert_eq!(zone.parse_input("  "), Ok(None));
        assert_eq!(zone.parse_input("mai"), Err(TimeInputError::NotATime));
        assert!(zone.parse_input("2025-09-01 08:00").unwrap().is_some());
    }

    #[test]
    fn a_time_the_clocks_skip_is_refused_and_a_repeated_one_takes_its_first_occurrence() {
        let berlin = TimeZone::parse("Europe/Berlin").unwrap();
        assert!(!berlin.is_vietnam());
        assert_eq!(
            berlin.parse_input("2025-03-30T02:30"),
            Err(TimeInputError::Skipped)
        );
        assert_eq!(
            berlin.parse_input("2025-10-26T02:30").unwrap(),
            Some(at("2025-10-26T00:30"))
        );
    }

    #[test]
    fn unknown_zone_names_are_refused() {
        assert!(TimeZone::parse("Asia/Hanoi").is_none());
        assert!(TimeZone::parse("UTC").is_some());
        assert!(TimeZone::parse("Asia/Saigon").unwrap().is_vietnam());
    }
}
