//! What each viewer may see of a round's results, and the figures the dashboards show. One
//! place decides published snapshot versus live scores and scopes units per viewer, so the
//! pages, the downloads and the API can never disagree about who sees what.

pub mod breakdown;

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use crate::app::scores::{self, RoundScores, UnitScores};
use crate::db::rounds::RoundRow;
use crate::db::{self, AnyConnection};
use crate::domain::account::Role;
use crate::domain::methodology::Methodology;
use crate::domain::scoring::{Position, Ranked, Standing};
use crate::domain::yoy::UnitChange;
use crate::error::AppError;

/// Who is looking. Anonymous visitors see published rounds only.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Viewer {
    /// No session and no token.
    Public,
    /// A logged-in account or an API token's owner.
    Staff {
        /// The account.
        user_id: i64,
        /// Its role.
        role: Role,
    },
}

impl Viewer {
    /// The viewer behind an optional account.
    pub fn of(user: Option<(i64, Role)>) -> Self {
        user.map_or(Viewer::Public, |(user_id, role)| Viewer::Staff {
            user_id,
            role,
        })
    }

    /// Whether the viewer may read unpublished (live) results of the units in scope.
    pub fn sees_live(self) -> bool {
        matches!(self, Viewer::Staff { .. })
    }

    /// Whether the viewer may download microdata (anonymous, but still respondent-level).
    pub fn may_download_microdata(self) -> bool {
        matches!(
            self,
            Viewer::Staff {
                role: Role::Admin | Role::Analyst | Role::Coordinator,
                ..
            }
        )
    }
}

/// Which units a viewer may see in a round.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// Every unit.
    All,
    /// Only these unit codes (a coordinator's units).
    Only(BTreeSet<String>),
}

impl Scope {
    /// Whether the unit with this code is in scope.
    pub fn includes(&self, unit: &str) -> bool {
        match self {
            Scope::All => true,
            Scope::Only(codes) => codes.contains(unit),
        }
    }
}

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

/// The units a viewer may see in a round.
pub fn scope_of(conn: &mut AnyConnection, viewer: Viewer) -> Result<Scope, AppError> {
    match viewer {
        Viewer::Staff {
            user_id,
            role: Role::Coordinator,
        } => {
            let ids = db::users::unit_ids(conn, user_id)?;
            Ok(Scope::Only(
                db::units::codes_of(conn, &ids)?.into_iter().collect(),
            ))
        }
        _ => Ok(Scope::All),
    }
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
    let round = db::rounds::by_id(conn, round_id)?.ok_or(AppError::NotFound)?;
    let published = published_version(conn, round_id)?;
    if published.is_none() && !viewer.sees_live() {
        return Err(AppError::LoginRequired);
    }
    let full = full_results(conn, round, published, viewer.sees_live())?;
    narrow(full, conn, viewer)
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
fn full_results(
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
    let regions = db::rounds::units(conn, round_id)?
        .into_iter()
        .filter_map(|u| {
            Some((
                u.region_code?,
                (
                    u.region_vi.unwrap_or_default(),
                    u.region_en.unwrap_or_default(),
                ),
            ))
        })
        .collect();
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
fn narrow(
    mut full: RoundResults,
    conn: &mut AnyConnection,
    viewer: Viewer,
) -> Result<RoundResults, AppError> {
    let scope = match full.source {
        Source::Published { .. } => Scope::All,
        Source::Live => scope_of(conn, viewer)?,
    };
    restrict(&mut full.scores, &scope);
    if let Some(changes) = full.yoy.as_mut() {
        let yoy_scope = match full.yoy_source {
            Some(Source::Live) => scope_of(conn, viewer)?,
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

/// What a round's results depend on, read in two cheap queries: the responses counted in the
/// round (and in the round it compares with), the latest administrative change (exclusions,
/// appraised points, publishing, configuration are all audited) and the published version.
type Fingerprint = (i64, i64, Option<i32>);

/// Full results keyed by round and by whether the viewer sees live figures (the two differ in
/// the earlier round a comparison may use).
type CacheEntries = BTreeMap<(i64, bool), (Fingerprint, std::sync::Arc<RoundResults>)>;

/// Each round's full (unscoped) results with the fingerprint they were computed at. A page view
/// then costs two small queries instead of reading and scoring every tally, and a new response
/// or change is seen at once because it changes the fingerprint.
#[derive(Default)]
pub struct ResultsCache(std::sync::Mutex<CacheEntries>);

/// [`round_results`] through `cache`: the same answer, without recomputing unchanged results.
pub fn round_results_cached(
    cache: &ResultsCache,
    conn: &mut AnyConnection,
    round_id: i64,
    viewer: Viewer,
) -> Result<RoundResults, AppError> {
    let round = db::rounds::by_id(conn, round_id)?.ok_or(AppError::NotFound)?;
    let published = published_version(conn, round_id)?;
    if published.is_none() && !viewer.sees_live() {
        return Err(AppError::LoginRequired);
    }
    let mut rounds = vec![round_id];
    rounds.extend(round.compare_round_id);
    let fingerprint = (
        db::responses::counted_in(conn, &rounds)?,
        db::audit::latest_id(conn)?,
        published,
    );
    let key = (round_id, viewer.sees_live());
    let cached = cache.0.lock().ok().and_then(|c| {
        c.get(&key)
            .filter(|(f, _)| *f == fingerprint)
            .map(|(_, r)| r.clone())
    });
    let full = match cached {
        Some(full) => full,
        None => {
            let full =
                std::sync::Arc::new(full_results(conn, round, published, viewer.sees_live())?);
            if let Ok(mut c) = cache.0.lock() {
                c.insert(key, (fingerprint, full.clone()));
            }
            full
        }
    };
    narrow((*full).clone(), conn, viewer)
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

/// Fieldwork progress of one respondent group, over the units in scope.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GroupFieldwork {
    /// Group code.
    pub group: String,
    /// Target responses (sum over units).
    pub target: i64,
    /// Completed responses.
    pub completed: i64,
    /// Units below their target.
    pub units_behind: usize,
    /// Units.
    pub units: usize,
}

/// The coverage and data-quality panels of the dashboard (staff only).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Fieldwork {
    /// Per group.
    pub groups: Vec<GroupFieldwork>,
    /// Responses flagged by the quality checks (speeders, straight-liners).
    pub flagged: usize,
    /// Responses excluded from the scores.
    pub excluded: usize,
}

/// Coverage and data quality of the units in the viewer's scope; `None` for the public, who
/// see published figures, not fieldwork.
pub fn fieldwork(
    conn: &mut AnyConnection,
    round_id: i64,
    viewer: Viewer,
) -> Result<Option<Fieldwork>, AppError> {
    let Viewer::Staff { user_id, .. } = viewer else {
        return Ok(None);
    };
    let scope = scope_of(conn, viewer)?;
    let coordinator = (scope != Scope::All).then_some(user_id);
    let rows = crate::app::rounds::coverage_for(conn, round_id, coordinator)?;
    let mut groups: Vec<GroupFieldwork> = Vec::new();
    for r in &rows {
        let slot = match groups.iter().position(|g| g.group == r.group_code) {
            Some(i) => i,
            None => {
                groups.push(GroupFieldwork {
                    group: r.group_code.clone(),
                    target: 0,
                    completed: 0,
                    units_behind: 0,
                    units: 0,
                });
                groups.len() - 1
            }
        };
        if let Some(g) = groups.get_mut(slot) {
            g.target += r.target;
            g.completed += r.completed;
            g.units += 1;
            g.units_behind += usize::from(r.behind_target());
        }
    }
    let in_scope: BTreeSet<i64> = db::rounds::units(conn, round_id)?
        .into_iter()
        .filter(|u| scope.includes(&u.code))
        .map(|u| u.id)
        .collect();
    let (mut flagged, mut excluded) = (0, 0);
    for (unit, f, e) in db::responses::quality_counts(conn, round_id)? {
        if in_scope.contains(&unit) {
            flagged += usize::try_from(f).unwrap_or(0);
            excluded += usize::try_from(e).unwrap_or(0);
        }
    }
    Ok(Some(Fieldwork {
        groups,
        flagged,
        excluded,
    }))
}

// ---------------------------------------------------------------------------------------------
// Dashboard figures: pure functions of the scores
// ---------------------------------------------------------------------------------------------

/// Mean of the finite values; `None` for none.
fn mean(values: impl IntoIterator<Item = f64>) -> Option<f64> {
    let (sum, n) = values
        .into_iter()
        .filter(|v| v.is_finite())
        .fold((0.0, 0u32), |(s, n), v| (s + v, n + 1));
    (n > 0).then(|| sum / f64::from(n))
}

/// One region's summary.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RegionSummary {
    /// Region code.
    pub region: String,
    /// Units in it.
    pub units: usize,
    /// Units in it with a total (complete units): the n of "n of N".
    pub with_value: usize,
    /// Mean total percent over the units with a total.
    pub mean_percent: Option<f64>,
    /// Lowest total percent.
    pub min_percent: Option<f64>,
    /// Highest total percent.
    pub max_percent: Option<f64>,
    /// Total percent of each unit that has one, in unit-code order.
    pub values: Vec<(String, f64)>,
}

/// A group's national mean.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GroupMean {
    /// Group code.
    pub group: String,
    /// Units with a score in this group: the n of "n of N".
    pub units: usize,
    /// Mean points over the units with a score.
    pub mean_points: Option<f64>,
    /// The group's maximum.
    pub max_points: f64,
    /// Mean percent.
    pub mean_percent: Option<f64>,
    /// Responses in all units.
    pub responses: u64,
}

/// The national picture of a round.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Overview {
    /// Units in scope: the N of "n of N".
    pub units: usize,
    /// Ranked units: complete (with a total) and with enough respondents.
    pub complete: usize,
    /// Units with a total in the measure the round ranks on: the n of the means' "n of N".
    pub with_total: usize,
    /// Whether the round ranks on the index total (of 100, appraised points imported) rather
    /// than on the survey part (of 32).
    pub full_index: bool,
    /// Mean total points over the units with a total.
    pub mean_points: Option<f64>,
    /// The total's maximum.
    pub max_points: f64,
    /// Mean total percent over the units with a total.
    pub mean_percent: Option<f64>,
    /// Mean SIPAS percent over the units with a SIPAS score.
    pub mean_sipas_percent: Option<f64>,
    /// Units with a SIPAS score.
    pub sipas_units: usize,
    /// Per points group.
    pub groups: Vec<GroupMean>,
    /// Tier code (or `None` for untiered) → complete units, in the methodology's band order.
    pub tiers: Vec<(Option<String>, usize)>,
    /// Per region, in region-code order.
    pub regions: Vec<RegionSummary>,
    /// Component code → national mean percent, in methodology order.
    pub components: Vec<(String, Option<f64>)>,
}

/// National averages, tier counts, regional and component means. Every figure covers only
/// the units that have the value (a unit without a score is never averaged in as 0) and
/// carries how many those are.
pub fn overview(scores: &RoundScores, m: &Methodology) -> Overview {
    let units = &scores.units;
    let mut group_codes: Vec<String> = Vec::new();
    for g in units.iter().flat_map(|u| &u.groups) {
        if !group_codes.contains(&g.group) {
            group_codes.push(g.group.clone());
        }
    }
    let groups = group_codes
        .into_iter()
        .map(|code| {
            let of = || {
                units
                    .iter()
                    .flat_map(|u| &u.groups)
                    .filter(|g| g.group == code)
            };
            let (mean_points, mean_percent) = match scores.national(&code) {
                Some(p) => (p.points, p.percent),
                None => (
                    mean(of().filter_map(|g| g.points)),
                    mean(of().filter_map(|g| g.percent)),
                ),
            };
            GroupMean {
                units: of().filter(|g| g.points.is_some()).count(),
                mean_points,
                max_points: of().map(|g| g.max_points).next().unwrap_or(0.0),
                mean_percent,
                responses: of().map(|g| g.responses).sum(),
                group: code.clone(),
            }
        })
        .collect();
    let mut tiers: Vec<(Option<String>, usize)> = m
        .tiers
        .bands
        .iter()
        .map(|b| (Some(b.code.clone()), 0))
        .collect();
    tiers.push((None, 0));
    for u in units
        .iter()
        .filter(|u| scores.standing(u) == Standing::Ranked)
    {
        if let Some(slot) = tiers.iter_mut().find(|(t, _)| *t == u.index.tier) {
            slot.1 += 1;
        }
    }
    let mut by_region: BTreeMap<&str, Vec<&UnitScores>> = BTreeMap::new();
    for u in units {
        by_region.entry(u.region.as_str()).or_default().push(u);
    }
    let regions = by_region
        .into_iter()
        .map(|(region, members)| {
            let values: Vec<(String, f64)> = members
                .iter()
                .filter_map(|u| Some((u.unit.clone(), scores.round_total(u).1?)))
                .collect();
            let finite = || values.iter().map(|(_, v)| *v).filter(|v| v.is_finite());
            RegionSummary {
                region: region.to_owned(),
                units: members.len(),
                with_value: values.len(),
                mean_percent: mean(finite()),
                min_percent: finite().reduce(f64::min),
                max_percent: finite().reduce(f64::max),
                values,
            }
        })
        .collect();
    let components = m
        .components
        .iter()
        .map(|c| {
            (
                c.code.clone(),
                mean(units.iter().filter_map(|u| {
                    u.index
                        .components
                        .iter()
                        .find(|x| x.code == c.code)?
                        .percent
                })),
            )
        })
        .collect();
    let sipas = || {
        units
            .iter()
            .filter_map(|u| u.sipas.as_ref().and_then(|s| s.overall_percent))
    };
    Overview {
        units: units.len(),
        complete: units
            .iter()
            .filter(|u| scores.standing(u) == Standing::Ranked)
            .count(),
        with_total: units
            .iter()
            .filter(|u| scores.round_total(u).0.is_some())
            .count(),
        mean_points: mean(units.iter().filter_map(|u| scores.round_total(u).0)),
        max_points: if scores.full_index() {
            m.total_points
        } else {
            units.first().map_or(0.0, |u| u.index.survey_max_points)
        },
        full_index: scores.full_index(),
        mean_percent: mean(units.iter().filter_map(|u| scores.round_total(u).1)),
        mean_sipas_percent: match units
            .iter()
            .find_map(|u| u.sipas.as_ref())
            .and_then(|s| scores.national(&s.group))
        {
            Some(p) => p.percent,
            None => mean(sipas()),
        },
        sipas_units: sipas().count(),
        groups,
        tiers,
        regions,
        components,
    }
}

/// What the ranking table is sorted by.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SortKey {
    /// Total percent (the national rank).
    Total,
    /// One component's percent.
    Component(String),
    /// A points group's points.
    Group(String),
    /// The SIPAS percent.
    Sipas,
    /// Change since the earlier round.
    Change,
    /// Unit name.
    Unit,
}

impl SortKey {
    /// Parses the `sort` query value (`total`, `component:C1`, `group:leader`, `sipas`,
    /// `change`, `unit`); anything else sorts by total.
    pub fn parse(raw: &str) -> Self {
        match raw.split_once(':') {
            Some(("component", c)) if !c.is_empty() => SortKey::Component(c.to_owned()),
            Some(("group", g)) if !g.is_empty() => SortKey::Group(g.to_owned()),
            _ => match raw {
                "sipas" => SortKey::Sipas,
                "change" => SortKey::Change,
                "unit" => SortKey::Unit,
                _ => SortKey::Total,
            },
        }
    }

    /// The query value that parses back to this key.
    pub fn as_query(&self) -> String {
        match self {
            SortKey::Total => "total".to_owned(),
            SortKey::Component(c) => format!("component:{c}"),
            SortKey::Group(g) => format!("group:{g}"),
            SortKey::Sipas => "sipas".to_owned(),
            SortKey::Change => "change".to_owned(),
            SortKey::Unit => "unit".to_owned(),
        }
    }
}

/// One row of the ranking table.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RankingRow {
    /// Unit code.
    pub unit: String,
    /// Vietnamese name.
    pub name_vi: String,
    /// English name.
    pub name_en: String,
    /// Region code.
    pub region: String,
    /// National rank.
    pub national: Option<Position>,
    /// Rank in the region.
    pub regional: Option<Position>,
    /// The survey part (leaders + SIPAS) in points; `None` when one of them has no score.
    pub survey_points: Option<f64>,
    /// The survey part's maximum (32 under the bundled methodology).
    pub survey_max_points: f64,
    /// The index total (of 100, with appraised points); `None` unless the unit's appraised
    /// points are imported and every input has a value.
    pub index_points: Option<f64>,
    /// The index total's maximum.
    pub index_max_points: f64,
    /// The percent the round ranks on: of the index total when the round composes the full
    /// index, else of the survey part.
    pub percent: Option<f64>,
    /// Ranked, or why not; unranked units are listed after the ranked ones with what they
    /// have.
    pub standing: Standing,
    /// Tier code.
    pub tier: Option<String>,
    /// Points of each points group, in the round's group order (`None`: no score).
    pub groups: Vec<(String, Option<f64>)>,
    /// SIPAS percent.
    pub sipas_percent: Option<f64>,
    /// Component code → percent, in methodology order (`None`: no value).
    pub components: Vec<(String, Option<f64>)>,
    /// Change of the total percent since the earlier round (percentage points).
    pub change_percent_points: Option<f64>,
    /// Places moved up (negative: down).
    pub rank_change: Option<i64>,
    /// `Some(false)` when the data do not support the unit's place (bootstrap intervals
    /// overlap its neighbours'); `None` when not computed (live scores) or not ranked.
    pub rank_supported: Option<bool>,
}

/// The ranking table sorted by `key` (descending, or ascending with `ascending`). Ties and
/// missing values keep national-rank order, so the table is stable.
pub fn ranking_rows(results: &RoundResults, key: &SortKey, ascending: bool) -> Vec<RankingRow> {
    let scores = &results.scores;
    let ranks: BTreeMap<&str, &Ranked> = scores
        .rankings
        .total
        .iter()
        .map(|r| (r.unit.as_str(), r))
        .collect();
    let changes: BTreeMap<&str, &UnitChange> = results
        .yoy
        .iter()
        .flatten()
        .map(|c| (c.unit.as_str(), c))
        .collect();
    let mut rows: Vec<RankingRow> = scores
        .by_rank()
        .into_iter()
        .map(|(u, rank)| {
            let change = changes.get(u.unit.as_str());
            RankingRow {
                unit: u.unit.clone(),
                name_vi: u.name_vi.clone(),
                name_en: u.name_en.clone(),
                region: u.region.clone(),
                national: rank.and_then(|r| r.national),
                regional: rank.and_then(|r| r.regional),
                survey_points: u.index.survey_points,
                survey_max_points: u.index.survey_max_points,
                index_points: u.index_total(),
                index_max_points: results.methodology.total_points,
                percent: scores.round_total(u).1,
                standing: scores.standing(u),
                tier: u
                    .index
                    .tier
                    .clone()
                    .or_else(|| ranks.get(u.unit.as_str()).and_then(|r| r.tier.clone())),
                groups: u
                    .groups
                    .iter()
                    .map(|g| (g.group.clone(), g.points))
                    .collect(),
                sipas_percent: u.sipas.as_ref().and_then(|s| s.overall_percent),
                components: u
                    .index
                    .components
                    .iter()
                    .map(|c| (c.code.clone(), c.percent))
                    .collect(),
                change_percent_points: change.and_then(|c| c.change_percent_points),
                rank_change: change.and_then(|c| c.rank_change),
                rank_supported: scores
                    .uncertainty
                    .as_ref()
                    .and_then(|x| x.get(&u.unit))
                    .and_then(|x| x.leader_rank_supported),
            }
        })
        .collect();
    let value = |r: &RankingRow| -> Option<f64> {
        match key {
            SortKey::Total | SortKey::Unit => r.percent,
            SortKey::Component(c) => r.components.iter().find(|x| &x.0 == c).and_then(|x| x.1),
            SortKey::Group(g) => r.groups.iter().find(|x| &x.0 == g).and_then(|x| x.1),
            SortKey::Sipas => r.sipas_percent,
            SortKey::Change => r.change_percent_points,
        }
    };
    if *key == SortKey::Unit {
        rows.sort_by(|a, b| a.name_vi.cmp(&b.name_vi).then_with(|| a.unit.cmp(&b.unit)));
        if !ascending {
            rows.reverse();
        }
        return rows;
    }
    // Stable sort: rows without a value go last in either direction.
    rows.sort_by(|a, b| match (value(a), value(b)) {
        (Some(x), Some(y)) => {
            let order = y.total_cmp(&x);
            if ascending { order.reverse() } else { order }
        }
        (Some(_), None) => std::cmp::Ordering::Less,
        (None, Some(_)) => std::cmp::Ordering::Greater,
        (None, None) => std::cmp::Ordering::Equal,
    });
    rows
}

/// One item on a unit's scorecard.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ItemResult {
    /// Group code.
    pub group: String,
    /// Item code.
    pub item: String,
    /// Percent of the item's maximum (points groups) or satisfied share / scale (SIPAS).
    pub percent: f64,
    /// National mean of the same item.
    pub national_percent: Option<f64>,
    /// Valid answers.
    pub valid_n: u64,
}

/// A component on a scorecard: code, the unit's percent, the national mean percent over the
/// units with a value, and the unit's national rank in the component.
pub type ComponentResult = (String, Option<f64>, Option<f64>, Option<Position>);

/// A unit's scorecard: the unit page.
#[derive(Debug, Clone, Serialize)]
pub struct Scorecard<'a> {
    /// The unit's scores.
    #[serde(skip)]
    pub unit: &'a UnitScores,
    /// Its entry in the total ranking.
    pub national: Option<Position>,
    /// Its rank in the region.
    pub regional: Option<Position>,
    /// Component code → (unit percent, national mean percent over the units with a value,
    /// national rank).
    pub components: Vec<ComponentResult>,
    /// Its best items, best first.
    pub strongest: Vec<ItemResult>,
    /// Its weakest items, weakest first.
    pub weakest: Vec<ItemResult>,
    /// Its change since the earlier round.
    pub change: Option<UnitChange>,
}

/// How many strongest and weakest items a scorecard lists.
pub const SCORECARD_ITEMS: usize = 5;

/// Every scored item of a unit with the national mean of the same item.
fn item_results(scores: &RoundScores, unit: &UnitScores) -> Vec<ItemResult> {
    let national = |group: &str, item: &str| {
        mean(scores.units.iter().filter_map(|u| {
            let g = u.groups.iter().find(|g| g.group == group)?;
            g.item(item)?.percent
        }))
    };
    let mut out: Vec<ItemResult> = unit
        .groups
        .iter()
        .flat_map(|g| {
            g.items.iter().filter_map(|i| {
                Some(ItemResult {
                    group: g.group.clone(),
                    item: i.item.clone(),
                    percent: i.percent?,
                    national_percent: national(&g.group, &i.item),
                    valid_n: i.valid_n,
                })
            })
        })
        .collect();
    if let Some(s) = &unit.sipas {
        out.extend(s.items.iter().filter_map(|i| {
            Some(ItemResult {
                group: s.group.clone(),
                item: i.item.clone(),
                percent: i.percent?,
                national_percent: mean(scores.units.iter().filter_map(|u| {
                    u.sipas
                        .as_ref()?
                        .items
                        .iter()
                        .find(|x| x.item == i.item)?
                        .percent
                })),
                valid_n: i.valid_n,
            })
        }));
    }
    out
}

/// The scorecard of `unit`, or `None` when it is not among the (scoped) results.
pub fn scorecard<'a>(results: &'a RoundResults, unit: &str) -> Option<Scorecard<'a>> {
    let scores = &results.scores;
    let u = scores.units.iter().find(|u| u.unit == unit)?;
    let total = scores.rankings.total.iter().find(|r| r.unit == unit);
    let components = u
        .index
        .components
        .iter()
        .map(|c| {
            let national = mean(scores.units.iter().filter_map(|o| {
                o.index
                    .components
                    .iter()
                    .find(|x| x.code == c.code)?
                    .percent
            }));
            let rank = scores
                .rankings
                .components
                .iter()
                .find(|r| r.component == c.code)
                .and_then(|r| r.ranked.iter().find(|x| x.unit == unit))
                .and_then(|x| x.national);
            (c.code.clone(), c.percent, national, rank)
        })
        .collect();
    let mut items = item_results(scores, u);
    items.sort_by(|a, b| {
        b.percent
            .total_cmp(&a.percent)
            .then_with(|| a.item.cmp(&b.item))
    });
    let strongest = items.iter().take(SCORECARD_ITEMS).cloned().collect();
    let weakest = items.iter().rev().take(SCORECARD_ITEMS).cloned().collect();
    Some(Scorecard {
        unit: u,
        national: total.and_then(|r| r.national),
        regional: total.and_then(|r| r.regional),
        components,
        strongest,
        weakest,
        change: results
            .yoy
            .iter()
            .flatten()
            .find(|c| c.unit == unit)
            .cloned(),
    })
}

/// One question's national answer distribution (the stacked bars).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ItemDistribution {
    /// Group code.
    pub group: String,
    /// Item code.
    pub item: String,
    /// Answer value → count over all units in scope, in value order.
    pub counts: BTreeMap<String, u64>,
}

/// The national answer distribution of every scored item (summed over units in scope).
pub fn item_distributions(scores: &RoundScores) -> Vec<ItemDistribution> {
    let mut out: Vec<ItemDistribution> = Vec::new();
    let mut add = |group: &str, item: &str, dist: &BTreeMap<String, u64>| {
        let pos = out
            .iter()
            .position(|d| d.group == group && d.item == item)
            .unwrap_or_else(|| {
                out.push(ItemDistribution {
                    group: group.to_owned(),
                    item: item.to_owned(),
                    counts: BTreeMap::new(),
                });
                out.len() - 1
            });
        if let Some(d) = out.get_mut(pos) {
            for (value, n) in dist {
                *d.counts.entry(value.clone()).or_default() += n;
            }
        }
    };
    for u in &scores.units {
        for g in &u.groups {
            for i in &g.items {
                add(&g.group, &i.item, &i.distribution);
            }
        }
        if let Some(s) = &u.sipas {
            for i in &s.items {
                add(&s.group, &i.item, &i.distribution);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests;
