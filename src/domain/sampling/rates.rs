//! Response rates by the AAPOR Standard Definitions (RR1, COOP1) for a list sample, and the
//! sample size that a target and an expected response rate call for.
//!
//! # From khaosat's states to AAPOR's codes
//!
//! | khaosat                                               | AAPOR                          |
//! |-------------------------------------------------------|--------------------------------|
//! | submitted (completed)                                 | I, complete interview          |
//! | started (a draft, not submitted)                      | P, partial interview           |
//! | replaced as *refused*                                 | R, refusal                     |
//! | replaced as *ineligible*                              | not eligible: in no denominator|
//! | replaced as *unreachable*                             | UO, unknown eligibility        |
//! | sampled, never started (invited or not yet)           | UO, unknown eligibility        |
//!
//! The frame is a list of named people, so everyone on it is presumed eligible until shown
//! otherwise; what stays unknown is whether the people never heard from are still eligible.
//! In this form of the definitions the cases of unknown eligibility are exactly the
//! non-contacted ones, so NC (eligible, not contacted), O (other) and UH stay 0. Either way
//! RR1 counts them all in its denominator and COOP1 none of them, so the split between NC and
//! UO cannot change a rate.

/// How a sampled case ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Submitted a response.
    Completed,
    /// Started answering and did not submit.
    Started,
    /// Replaced as refused.
    Refused,
    /// Replaced as ineligible.
    Ineligible,
    /// Replaced as unreachable.
    Unreachable,
    /// In the sample, never started (invited or not).
    NeverStarted,
}

/// The AAPOR final disposition counts of a sample.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct Dispositions {
    /// I: complete interviews.
    pub complete: u64,
    /// P: partial interviews.
    pub partial: u64,
    /// R: refusals and break-offs.
    pub refusal: u64,
    /// NC: non-contacts (eligible).
    pub non_contact: u64,
    /// O: other eligible non-interviews.
    pub other: u64,
    /// UH: unknown if household (or person) is eligible, unknown whether reached.
    pub unknown_household: u64,
    /// UO: unknown eligibility, other.
    pub unknown_other: u64,
    /// Not eligible: excluded from every rate.
    pub not_eligible: u64,
}

impl Dispositions {
    /// Counts one case ending with `outcome` (mapping in the module documentation).
    pub fn add(&mut self, outcome: Outcome) {
        let slot = match outcome {
            Outcome::Completed => &mut self.complete,
            Outcome::Started => &mut self.partial,
            Outcome::Refused => &mut self.refusal,
            Outcome::Ineligible => &mut self.not_eligible,
            Outcome::Unreachable | Outcome::NeverStarted => &mut self.unknown_other,
        };
        *slot += 1;
    }

    /// The dispositions of these outcomes.
    pub fn of(outcomes: impl IntoIterator<Item = Outcome>) -> Self {
        let mut d = Dispositions::default();
        for outcome in outcomes {
            d.add(outcome);
        }
        d
    }

    /// RR1 = I / ((I + P) + (R + NC + O) + (UH + UO)); `None` with an empty denominator.
    pub fn rr1(&self) -> Option<f64> {
        let base = self.complete
            + self.partial
            + self.refusal
            + self.non_contact
            + self.other
            + self.unknown_household
            + self.unknown_other;
        ratio(self.complete, base)
    }

    /// COOP1 = I / ((I + P) + R + O); `None` with an empty denominator.
    pub fn coop1(&self) -> Option<f64> {
        let base = self.complete + self.partial + self.refusal + self.other;
        ratio(self.complete, base)
    }
}

fn ratio(part: u64, whole: u64) -> Option<f64> {
    (whole > 0).then(|| part as f64 / whole as f64)
}

/// An expected response rate, in basis points (1 to 10 000, that is 0.01 % to 100 %).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rate(u32);

/// Why a response rate was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RateError {
    /// Not a number as `0.6`, `0,6` or `60%`, or with more than four decimals.
    #[error("`{0}` is not a response rate such as 0.6 or 60%")]
    NotARate(String),
    /// Zero, or above 100 %.
    #[error("a response rate must be above 0 and at most 1 (100%)")]
    OutOfRange,
}

impl Rate {
    /// Reads `0.6`, `0,6` or `60%` (at most four decimals of the fraction).
    pub fn parse(text: &str) -> Result<Self, RateError> {
        let trimmed = text.trim();
        let not = || RateError::NotARate(trimmed.to_owned());
        let (number, scale) = match trimmed.strip_suffix('%') {
            Some(percent) => (percent.trim(), 100),
            None => (trimmed, 10_000),
        };
        let number = number.replace(',', ".");
        let (whole, fraction) = number.split_once('.').unwrap_or((&number, ""));
        let decimals = if scale == 100 { 2 } else { 4 };
        if whole.is_empty() && fraction.is_empty()
            || !whole.chars().all(|c| c.is_ascii_digit())
            || !fraction.chars().all(|c| c.is_ascii_digit())
            || fraction.len() > decimals
            || whole.len() > 5
        {
            return Err(not());
        }
        let whole: u64 = if whole.is_empty() {
            0
        } else {
            whole.parse().map_err(|_| not())?
        };
        let fraction: u64 = format!("{fraction:0<decimals$}")
            .parse()
            .map_err(|_| not())?;
        // A fraction has four decimals of basis points, a percent two.
        let points = if scale == 100 {
            whole * 100 + fraction
        } else {
            whole * 10_000 + fraction
        };
        if points == 0 || points > 10_000 {
            return Err(RateError::OutOfRange);
        }
        Ok(Rate(
            u32::try_from(points).map_err(|_| RateError::OutOfRange)?,
        ))
    }

    /// The rate in basis points.
    pub fn basis_points(self) -> u32 {
        self.0
    }
}

/// The sample size for `target` completed responses at the `expected` response rate:
/// ceil(target / rate), in integers (no rounding error), and never more than the frame.
pub fn sample_size(target: u64, expected: Rate, frame: u64) -> u64 {
    let points = u64::from(expected.0);
    (target * 10_000).div_ceil(points).min(frame)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rr1_and_coop1_match_the_hand_computed_values() {
        // A unit × group of 24 cases: 12 completed (I), 2 started (P), 3 refused (R),
        // 1 unreachable and 4 never started (UO = 5), 2 ineligible (excluded).
        // RR1   = 12 / ((12 + 2) + (3 + 0 + 0) + (0 + 5)) = 12 / 22 = 0.545454…
        // COOP1 = 12 / ((12 + 2) + 3 + 0)                 = 12 / 17 = 0.705882…
        let mut outcomes = Vec::new();
        outcomes.extend([Outcome::Completed; 12]);
        outcomes.extend([Outcome::Started; 2]);
        outcomes.extend([Outcome::Refused; 3]);
        outcomes.push(Outcome::Unreachable);
        outcomes.extend([Outcome::NeverStarted; 4]);
        outcomes.extend([Outcome::Ineligible; 2]);
        let d = Dispositions::of(outcomes);
        assert_eq!(
            (
                d.complete,
                d.partial,
                d.refusal,
                d.unknown_other,
                d.not_eligible
            ),
            (12, 2, 3, 5, 2)
        );
        assert!((d.rr1().unwrap() - 12.0 / 22.0).abs() < 1e-12);
        assert!((d.coop1().unwrap() - 12.0 / 17.0).abs() < 1e-12);
        assert_eq!(format!("{:.4}", d.rr1().unwrap()), "0.5455");
        assert_eq!(format!("{:.4}", d.coop1().unwrap()), "0.7059");
    }

    #[test]
    fn ineligible_cases_leave_both_rates_unchanged() {
        let base = Dispositions::of([Outcome::Completed, Outcome::Refused, Outcome::NeverStarted]);
        let mut with = base;
        with.add(Outcome::Ineligible);
        assert_eq!(base.rr1(), with.rr1());
        assert_eq!(base.coop1(), with.coop1());
        // 1 / 3 and 1 / 2 by hand.
        assert_eq!(base.rr1(), Some(1.0 / 3.0));
        assert_eq!(base.coop1(), Some(0.5));
    }

    #[test]
    fn rates_without_cases_are_none() {
        assert_eq!(Dispositions::default().rr1(), None);
        assert_eq!(Dispositions::of([Outcome::NeverStarted]).coop1(), None);
        assert_eq!(Dispositions::of([Outcome::NeverStarted]).rr1(), Some(0.0));
    }

    #[test]
    fn rates_are_read_as_fractions_or_percentages() {
        assert_eq!(Rate::parse("0.6").unwrap().basis_points(), 6_000);
        assert_eq!(Rate::parse("0,65").unwrap().basis_points(), 6_500);
        assert_eq!(Rate::parse("60%").unwrap().basis_points(), 6_000);
        assert_eq!(Rate::parse("12.5 %").unwrap().basis_points(), 1_250);
        assert_eq!(Rate::parse("1").unwrap().basis_points(), 10_000);
        assert_eq!(Rate::parse(".7").unwrap().basis_points(), 7_000);
        assert_eq!(Rate::parse("0"), Err(RateError::OutOfRange));
        assert_eq!(Rate::parse("120%"), Err(RateError::OutOfRange));
        assert!(matches!(
            Rate::parse("sáu mươi"),
            Err(RateError::NotARate(_))
        ));
        assert!(matches!(
            Rate::parse("0.123456"),
            Err(RateError::NotARate(_))
        ));
        assert!(matches!(Rate::parse("%"), Err(RateError::NotARate(_))));
    }

    #[test]
    fn the_sample_size_is_the_target_over_the_rate_rounded_up_and_capped_at_the_frame() {
        // 30 / 0.6 = 50 exactly (a float division would give 50.000…01 and round up to 51).
        assert_eq!(sample_size(30, Rate::parse("0.6").unwrap(), 500), 50);
        // 25 / 0.7 = 35.71… → 36.
        assert_eq!(sample_size(25, Rate::parse("70%").unwrap(), 500), 36);
        // 40 / 0.5 = 80, but the frame has 64.
        assert_eq!(sample_size(40, Rate::parse("0.5").unwrap(), 64), 64);
        assert_eq!(sample_size(0, Rate::parse("0.5").unwrap(), 64), 0);
    }
}
