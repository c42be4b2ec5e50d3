//! Scores of a round: tallies per unit × group (live, or recomputed from the raw answers), the
//! scoring engine applied with the round's methodologies, rankings, and published snapshots.

mod appraised;
mod compare;
mod compute;
mod publish;
mod round_scores;
mod tallies;
mod uncertainty;

pub use appraised::import_appraised;
pub use compare::{compare_rounds, main_methodology, year_over_year};
pub use compute::{LiveScores, compute, live_scores, region_names};
pub use publish::{Snapshot, inputs_hash, publish, read_snapshot};
pub use round_scores::UnitUncertainty;
pub use round_scores::{NationalFigure, RoundScores, UnitScores, rank_unit_scores};
pub use tallies::{
    Tallies, TallyCheck, add_counted, add_to_tallies, live_tallies, recompute_tallies,
    recompute_tallies_with_excluded, tally_differences, verify_tallies,
};
pub use uncertainty::{BOOTSTRAP_REPLICATES, uncertainty};
