//! Small groups: distributions of too few respondents are hidden, so that no answer can be
//! traced back to a person.

use super::RoundResults;
use crate::app::scores::{RoundScores, UnitScores};

/// Whether a unit × group of `responses` respondents is too small to publish its answer
/// distributions: `0 < responses < min_n` (k = `quality.disclosure_min_n`).
pub fn is_small_group(responses: u64, min_n: u64) -> bool {
    responses > 0 && responses < min_n
}

/// Removes the item rows (answer distributions, and the item means and percentages that are
/// the same information in one number) of every unit × group with fewer than `min_n`
/// respondents, keeping its group, criterion and component scores: with a handful of
/// respondents an item's distribution, or its percentage with one respondent, says what each
/// of them answered. Every output that reads the scores (pages, the national
/// distributions, downloads, the API) then has nothing to show, and the national sums leave
/// those units out, so they cannot be recovered by subtraction either. Returns how many unit ×
/// group distributions were hidden.
pub fn hide_small_distributions(scores: &mut RoundScores, min_n: u64) -> usize {
    let mut hidden = 0;
    for u in &mut scores.units {
        for g in u
            .groups
            .iter_mut()
            .filter(|g| is_small_group(g.responses, min_n))
        {
            g.items.clear();
            hidden += 1;
        }
        if let Some(s) = u
            .sipas
            .as_mut()
            .filter(|s| is_small_group(s.responses, min_n))
        {
            s.items.clear();
            hidden += 1;
        }
    }
    hidden
}

/// Whether the public view hides some answer distribution of this unit (see
/// [`hide_small_distributions`]).
pub fn unit_hides_distributions(results: &RoundResults, unit: &UnitScores) -> bool {
    results.distributions_hidden_below.is_some_and(|k| {
        unit.groups.iter().any(|g| is_small_group(g.responses, k))
            || unit
                .sipas
                .as_ref()
                .is_some_and(|s| is_small_group(s.responses, k))
    })
}
