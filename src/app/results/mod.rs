//! What each viewer may see of a round's results, and the figures the dashboards show. One
//! place decides published snapshot versus live scores and scopes units per viewer, so the
//! pages, the downloads and the API can never disagree about who sees what.

pub mod breakdown;
mod cache;
mod compare;
mod fieldwork;
mod gains;
mod overview;
mod pages;
mod ranking;
mod scorecard;
mod small_groups;

pub use cache::{ResultsCache, round_results_cached};
pub use compare::{ComparePage, CompareRequest, RoundComparison, compare_with_national};
pub use fieldwork::{Fieldwork, GroupFieldwork, fieldwork};
pub use gains::{
    GainsPage, UnitGains, UnitPlan, UnitWhatIf, gains_page, unit_gains, unit_plan, unit_what_if,
};
pub use overview::{GroupMean, Overview, RegionSummary, overview};
pub use pages::{
    ChosenBreakdown, DashboardFrame, chosen_breakdown, dashboard_frame, units_in_scope,
};
pub use ranking::{RankingRow, SortKey, ranking_rows};
pub use scorecard::{
    ComponentResult, ItemDistribution, ItemResult, SCORECARD_ITEMS, Scorecard, item_distributions,
    scorecard,
};
pub use small_groups::{hide_small_distributions, is_small_group, unit_hides_distributions};

pub use crate::app::auth::viewer::{Scope, Viewer};
use crate::app::scores::{self, RoundScores};
use crate::db::rounds::RoundRow;
use crate::db::{self, AnyConnection};
use crate::domain::methodology::Methodology;
use crate::domain::yoy::UnitChange;
use crate::error::AppError;
use serde::Serialize;
use std::collections::BTreeMap;

/// Where the numbers come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "source", rename_all = "snake_case")]
pub enum Source {
    /// Computed now from the live tallies (unpublished).
    Live,
    /// The latest published snapshot.
    Published {
        /// Snapshot version.
        version: i32,
    },
}

/// A round's results as one viewer may see them.
#[derive(Debug, Clone)]
pub struct RoundResults {
    /// The round.
    pub round: RoundRow,
    /// Live or published.
    pub source: Source,
    /// Scores of the units in scope (rankings keep their national positions).
    pub scores: RoundScores,
    /// The methodology the index is composed with.
    pub methodology: Methodology,
    /// Region code → (Vietnamese, English) name.
    pub regions: BTreeMap<String, (String, String)>,
    /// Respondent group code → (Vietnamese, English) name.
    pub group_names: BTreeMap<String, (String, String)>,
    /// Year-over-year changes of the units in scope, when an earlier round is chosen and the
    /// viewer may see figures of it.
    pub yoy: Option<Vec<UnitChange>>,
    /// Where the earlier round's figures in `yoy` come from.
    pub yoy_source: Option<Source>,
    /// The units in scope.
    pub scope: Scope,
    /// `Some(k)` when this view hides the item answer distributions of every unit × group
    /// with fewer than k respondents (the public view, see [`hide_small_distributions`]).
    pub distributions_hidden_below: Option<u64>,
}

/// The latest published snapshot version of a round, if any.
pub fn published_version(conn: &mut AnyConnection, round_id: i64) -> Result<Option<i32>, AppError> {
    let next = db::snapshots::next_version(conn, round_id)?;
    Ok((next > 1).then_some(next - 1))
}

/// The rounds a viewer may open: everything for staff, published rounds for the public.
pub fn visible_rounds(
    conn: &mut AnyConnection,
    viewer: Viewer,
) -> Result<Vec<(RoundRow, Option<i32>)>, AppError> {
    let mut out = Vec::new();
    for round in db::rounds::list(conn)? {
        let published = published_version(conn, round.id)?;
        if viewer.sees_live() || published.is_some() {
            out.push((round, published));
        }
    }
    Ok(out)
}

/// A round's results for a viewer: the published snapshot when there is one, otherwise live
/// scores for staff; anonymous visitors get "login required" for unpublished rounds, and a
/// coordinator only their own units. The earlier round of the year-over-year comparison is
/// read by the same rule (see [`earlier_scores`]), so no view shows more of it than its own
/// results page would.
pub fn round_results(
    conn: &mut AnyConnection,
    round_id: i64,
    viewer: Viewer,
) -> Result<RoundResults, AppError> {
    let (round, published) = open_round(conn, round_id, viewer)?;
    let full = full_results(conn, round, published, viewer.sees_live())?;
    narrow(full, conn, viewer)
}

/// The round a viewer asked for and its latest published version: not found when it does not
/// exist, "login required" when it is unpublished and the viewer sees only published figures.
/// Every entry to a round's results (cached or not) opens it through here.
pub(crate) fn open_round(
    conn: &mut AnyConnection,
    round_id: i64,
    viewer: Viewer,
) -> Result<(db::rounds::RoundRow, Option<i32>), AppError> {
    let round = db::rounds::by_id(conn, round_id)?.ok_or(AppError::NotFound)?;
    let published = published_version(conn, round_id)?;
    if published.is_none() && !viewer.sees_live() {
        return Err(AppError::LoginRequired);
    }
    Ok((round, published))
}

/// The earlier round's scores a comparison may use, and their source: its latest published
/// snapshot for everyone; without one, its live scores for staff (`sees_live`) and nothing for
/// the public. Never live figures of a round the viewer could not open.
fn earlier_scores(
    conn: &mut AnyConnection,
    earlier_id: i64,
    sees_live: bool,
) -> Result<Option<(Source, RoundScores)>, AppError> {
    match published_version(conn, earlier_id)? {
        Some(version) => Ok(Some((
            Source::Published { version },
            snapshot_scores(conn, earlier_id, version)?,
        ))),
        None if sees_live => {
            let tallies = scores::live_tallies(conn, earlier_id)?;
            Ok(Some((
                Source::Live,
                scores::compute(conn, earlier_id, &tallies)?,
            )))
        }
        None => Ok(None),
    }
}

/// The scores of a published snapshot version.
fn snapshot_scores(
    conn: &mut AnyConnection,
    round_id: i64,
    version: i32,
) -> Result<RoundScores, AppError> {
    let (snapshot, _) =
        scores::read_snapshot(conn, round_id, version)?.ok_or(AppError::NotFound)?;
    serde_json::from_str(&snapshot.payload).map_err(AppError::internal)
}

/// Every unit's results: the snapshot when `published`, else live scores; compared with the
/// earlier round as [`earlier_scores`] allows.
pub(super) fn full_results(
    conn: &mut AnyConnection,
    round: RoundRow,
    published: Option<i32>,
    sees_live: bool,
) -> Result<RoundResults, AppError> {
    let round_id = round.id;
    let (source, scores) = match published {
        Some(version) => (
            Source::Published { version },
            snapshot_scores(conn, round_id, version)?,
        ),
        None => {
            let tallies = scores::live_tallies(conn, round_id)?;
            (Source::Live, scores::compute(conn, round_id, &tallies)?)
        }
    };
    let regions = scores::region_names(conn, round_id)?;
    let group_names = db::rounds::group_names(conn)?
        .into_iter()
        .map(|(code, vi, en)| (code, (vi, en)))
        .collect();
    let earlier = match round.compare_round_id {
        Some(earlier_id) => earlier_scores(conn, earlier_id, sees_live)?,
        None => None,
    };
    let (yoy, yoy_source) = match earlier {
        Some((earlier_source, earlier)) => (
            Some(scores::compare_rounds(conn, &round, &scores, &earlier)?),
            Some(earlier_source),
        ),
        None => (None, None),
    };
    Ok(RoundResults {
        group_names,
        yoy,
        yoy_source,
        methodology: scores::main_methodology(conn, round_id)?,
        round,
        source,
        scores,
        regions,
        scope: Scope::All,
        distributions_hidden_below: None,
    })
}

/// The results as `viewer` may see them: published results are public; live ones are narrowed
/// to a coordinator's units. A comparison with live earlier figures is narrowed the same way,
/// even on a published round.
pub(super) fn narrow(
    mut full: RoundResults,
    conn: &mut AnyConnection,
    viewer: Viewer,
) -> Result<RoundResults, AppError> {
    let scope = match full.source {
        Source::Published { .. } => Scope::All,
        Source::Live => viewer.scope(conn)?,
    };
    restrict(&mut full.scores, &scope);
    if let Some(changes) = full.yoy.as_mut() {
        let yoy_scope = match full.yoy_source {
            Some(Source::Live) => viewer.scope(conn)?,
            _ => scope.clone(),
        };
        changes.retain(|c| yoy_scope.includes(&c.unit));
    }
    full.scope = scope;
    // Staff see every distribution; the public sees none of a small unit × group.
    if viewer == Viewer::Public {
        let k = full.methodology.quality.disclosure_min_n;
        hide_small_distributions(&mut full.scores, k);
        full.distributions_hidden_below = Some(k);
    }
    Ok(full)
}

/// Drops every unit outside `scope` from scores and rankings (ranks keep their national
/// positions, so a coordinator sees where their unit stands, not the others).
pub fn restrict(scores: &mut RoundScores, scope: &Scope) {
    if *scope == Scope::All {
        return;
    }
    scores.units.retain(|u| scope.includes(&u.unit));
    scores.rankings.total.retain(|r| scope.includes(&r.unit));
    for c in &mut scores.rankings.components {
        c.ranked.retain(|r| scope.includes(&r.unit));
    }
    if let Some(u) = scores.uncertainty.as_mut() {
        u.retain(|unit, _| scope.includes(unit));
    }
}

#[cfg(test)]
mod tests;
