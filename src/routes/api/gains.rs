//! Where a unit can gain: `/api/v1/rounds/{id}/units/{code}/gains`, the JSON form of the
//! gains page, opened through the same results entry (visibility, disclosure, scope), and
//! `/api/v1/rounds/{id}/units/{code}/whatif`, its what-if form.

use actix_web::{HttpResponse, web};
use serde::Serialize;
use utoipa::ToSchema;

use crate::app::auth::api_token::ApiCaller;
use crate::app::results::{self, Source};
use crate::app::state::AppState;
use crate::domain::gains::{DragRanking, Goal, ShiftTarget, Stake, TargetPlan, WhatIf, form};
use crate::error::AppResult;
use crate::i18n::Lang;

use super::{ErrorBody, ErrorDetail};

/// One row at stake.
#[derive(Debug, Serialize, ToSchema)]
pub struct ApiStake {
    /// `component`, `linked_index`, `criterion` or `item`.
    pub level: String,
    /// `survey` or `appraised` points.
    pub part: String,
    /// Respondent group of a criterion or item; null for components and linked indices.
    pub group: Option<String>,
    /// Code of the component, linked index, criterion or item.
    pub code: String,
    /// The component the row belongs to.
    pub component: String,
    /// The unit's points; null without a value.
    #[serde(serialize_with = "crate::app::export::serialize_file_number_opt")]
    pub points: Option<f64>,
    /// Maximum.
    #[serde(serialize_with = "crate::app::export::serialize_file_number")]
    pub max_points: f64,
    /// Points lost (maximum − points): what the row can recover at most.
    #[serde(serialize_with = "crate::app::export::serialize_file_number_opt")]
    pub points_lost: Option<f64>,
    /// Best points among the units in the caller's view.
    #[serde(serialize_with = "crate::app::export::serialize_file_number_opt")]
    pub national_best: Option<f64>,
    /// National best − points.
    #[serde(serialize_with = "crate::app::export::serialize_file_number_opt")]
    pub gap_to_national_best: Option<f64>,
    /// Best points in the unit's region.
    #[serde(serialize_with = "crate::app::export::serialize_file_number_opt")]
    pub regional_best: Option<f64>,
    /// Regional best − points.
    #[serde(serialize_with = "crate::app::export::serialize_file_number_opt")]
    pub gap_to_regional_best: Option<f64>,
    /// Points in the previous round (through the unit lineage); null when not compared.
    #[serde(serialize_with = "crate::app::export::serialize_file_number_opt")]
    pub previous: Option<f64>,
    /// Points − previous.
    #[serde(serialize_with = "crate::app::export::serialize_file_number_opt")]
    pub change_since_previous: Option<f64>,
}

impl From<Stake> for ApiStake {
    fn from(s: Stake) -> Self {
        ApiStake {
            level: s.key.level.code().to_owned(),
            part: s.key.part.code().to_owned(),
            group: s.key.group,
            code: s.key.code,
            component: s.component,
            points: s.points,
            max_points: s.max_points,
            points_lost: s.lost,
            national_best: s.national_best,
            gap_to_national_best: s.gap_to_national_best,
            regional_best: s.regional_best,
            gap_to_regional_best: s.gap_to_regional_best,
            previous: s.previous,
            change_since_previous: s.change_since_previous,
        }
    }
}

/// A unit's points at stake.
#[derive(Debug, Serialize, ToSchema)]
pub struct ApiUnitGains {
    /// Unit code.
    pub unit: String,
    /// Vietnamese name.
    pub name_vi: String,
    /// English name.
    pub name_en: String,
    /// Region code.
    pub region: String,
    /// `live` (computed now, unpublished) or `published`.
    pub source: String,
    /// The published snapshot version, when `source` is `published`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub snapshot_version: Option<i32>,
    /// Units the best values are taken among.
    pub compared_units: usize,
    /// The round the previous values come from; null when there are none.
    pub previous_round: Option<i64>,
    /// Every row, most points lost first.
    pub stakes: Vec<ApiStake>,
    /// The units in the caller's view ranked by how much each drags the round-wide score
    /// down; null when no unit has a score.
    pub drag: Option<ApiDragRanking>,
}

/// One unit's drag on the round-wide score.
#[derive(Debug, Serialize, ToSchema)]
pub struct ApiDrag {
    /// Unit code.
    pub unit: String,
    /// Respondents in the groups that count toward the index.
    pub respondents: u64,
    /// Its share of the respondents of the units ranked (0–1).
    pub share: f64,
    /// Its index percent.
    pub score: f64,
    /// Best − score.
    pub gap_to_best: f64,
    /// share × (best − score): how many points the round-wide score would rise were this
    /// unit alone at the best unit's score.
    pub drag: f64,
}

/// The units ranked by drag. The round-wide score is the mean of the units' index percent
/// weighted by their respondents; the drags add up to best − overall.
#[derive(Debug, Serialize, ToSchema)]
pub struct ApiDragRanking {
    /// The round-wide score.
    pub overall: f64,
    /// The best unit's index percent.
    pub best: f64,
    /// Every unit with a score and respondents, most drag first.
    pub units: Vec<ApiDrag>,
}

impl From<DragRanking> for ApiDragRanking {
    fn from(d: DragRanking) -> Self {
        ApiDragRanking {
            overall: d.overall,
            best: d.best,
            units: d
                .units
                .into_iter()
                .map(|u| ApiDrag {
                    unit: u.unit,
                    respondents: u.respondents,
                    share: u.share,
                    score: u.score,
                    gap_to_best: u.gap_to_best,
                    drag: u.drag,
                })
                .collect(),
        }
    }
}

/// `GET /api/v1/rounds/{id}/units/{code}/gains`
#[utoipa::path(get, path = "/api/v1/rounds/{id}/units/{code}/gains", tag = "rounds",
    params(("id" = i64, Path, description = "Round id"), ("code" = String, Path, description = "Unit code")),
    responses((status = 200, description = "The unit's points at stake, most points lost first", body = ApiUnitGains),
        (status = 401, description = "Unpublished and no token", body = ErrorBody),
        (status = 404, description = "No such round, or the unit is not in the caller's scope", body = ErrorBody)),
    security((), ("bearer" = [])))]
pub async fn unit_gains(
    state: web::Data<AppState>,
    caller: ApiCaller,
    path: web::Path<(i64, String)>,
) -> AppResult<HttpResponse> {
    let viewer = caller.viewer;
    let (round_id, code) = path.into_inner();
    let (source, gains) = state
        .with_results(round_id, viewer, move |conn, r| {
            let gains = results::unit_gains(conn, &r, viewer, &code)?;
            Ok((r.source, gains))
        })
        .await?;
    Ok(HttpResponse::Ok().json(ApiUnitGains {
        unit: gains.unit,
        name_vi: gains.name_vi,
        name_en: gains.name_en,
        region: gains.region,
        source: match source {
            Source::Live => "live".to_owned(),
            Source::Published { .. } => "published".to_owned(),
        },
        snapshot_version: match source {
            Source::Published { version } => Some(version),
            Source::Live => None,
        },
        compared_units: gains.compared_units,
        previous_round: gains.previous_round,
        stakes: gains.stakes.into_iter().map(ApiStake::from).collect(),
        drag: gains.drag.map(ApiDragRanking::from),
    }))
}

/// A place in a ranking.
#[derive(Debug, Serialize, ToSchema)]
pub struct ApiPosition {
    /// Rank, 1 = best.
    pub rank: u32,
    /// Ranked units.
    pub of: u32,
}

/// A unit's figures before or after a what-if.
#[derive(Debug, Serialize, ToSchema)]
pub struct ApiWhatIfFigures {
    /// Respondent group code → points (null: no score).
    #[schema(value_type = std::collections::BTreeMap<String, Option<f64>>)]
    pub groups: std::collections::BTreeMap<String, Option<f64>>,
    /// The survey part.
    pub survey_points: Option<f64>,
    /// The index total.
    pub total_points: Option<f64>,
    /// Total percent.
    pub percent: Option<f64>,
    /// Tier.
    pub tier: Option<String>,
    /// National rank among the ranked units in the caller's view.
    pub national: Option<ApiPosition>,
    /// Rank in the unit's region.
    pub regional: Option<ApiPosition>,
}

impl From<WhatIf> for ApiWhatIfFigures {
    fn from(w: WhatIf) -> Self {
        let pos = |p: Option<crate::domain::scoring::Position>| {
            p.map(|p| ApiPosition {
                rank: p.rank,
                of: p.of,
            })
        };
        ApiWhatIfFigures {
            groups: w.groups,
            survey_points: w.survey_points,
            total_points: w.total_points,
            percent: w.percent,
            tier: w.tier,
            national: pos(w.national),
            regional: pos(w.regional),
        }
    }
}

/// An item or criterion as a way to gain index points.
#[derive(Debug, Serialize, ToSchema)]
pub struct ApiLever {
    /// Respondent group.
    pub group: String,
    /// `item` or `criterion`.
    pub level: String,
    /// Its code.
    pub code: String,
    /// The best answer value, where answers are moved.
    pub to_value: String,
    /// Index points gained per percentage point of answers moved into the best value.
    pub points_per_pp: f64,
    /// Percentage points of answers not yet at the best value.
    pub headroom_pp: f64,
    /// Percentage points needed to reach the goal with this lever alone; null when not enough.
    pub pp_needed: Option<f64>,
}

/// The extra points a goal needs and the cheapest ways to them.
#[derive(Debug, Serialize, ToSchema)]
pub struct ApiTargetPlan {
    /// `tier`, `rank` or `total`.
    pub goal: String,
    /// The goal's tier code, rank or total, as text.
    pub goal_value: String,
    /// The unit's index total now.
    pub total_points: f64,
    /// The total that meets the goal.
    pub goal_points: f64,
    /// Extra index points needed (0 when met).
    pub extra_points: f64,
    /// Items and criteria, most points per percentage point first.
    pub levers: Vec<ApiLever>,
}

impl From<TargetPlan> for ApiTargetPlan {
    fn from(p: TargetPlan) -> Self {
        let (goal, goal_value) = match &p.goal {
            Goal::Tier(t) => ("tier", t.clone()),
            Goal::Rank(n) => ("rank", n.to_string()),
            Goal::Total(x) => ("total", x.to_string()),
        };
        ApiTargetPlan {
            goal: goal.to_owned(),
            goal_value,
            total_points: p.total_points,
            goal_points: p.goal_points,
            extra_points: p.extra_points,
            levers: p
                .levers
                .into_iter()
                .map(|l| {
                    let (level, code) = match l.target {
                        ShiftTarget::Item(c) => ("item", c),
                        ShiftTarget::Criterion(c) => ("criterion", c),
                    };
                    ApiLever {
                        group: l.group,
                        level: level.to_owned(),
                        code,
                        to_value: l.to_value,
                        points_per_pp: l.points_per_pp,
                        headroom_pp: l.headroom_pp,
                        pp_needed: l.pp_needed,
                    }
                })
                .collect(),
        }
    }
}

/// A unit re-scored with changed answers or appraised points, and its plan toward a goal.
#[derive(Debug, Serialize, ToSchema)]
pub struct ApiWhatIf {
    /// Unit code.
    pub unit: String,
    /// `live` or `published`: the results the simulation starts from.
    pub source: String,
    /// As scored now.
    pub before: ApiWhatIfFigures,
    /// With the changes.
    pub after: ApiWhatIfFigures,
    /// Answers moved by each change, in request order (0 for appraised points).
    pub moved_answers: Vec<u64>,
    /// The plan toward the goal, when `goal` was given.
    pub plan: Option<ApiTargetPlan>,
}

/// `GET /api/v1/rounds/{id}/units/{code}/whatif`: the gains page's what-if form as JSON. Reads
/// only; the unit is opened exactly as for its gains.
#[utoipa::path(get, path = "/api/v1/rounds/{id}/units/{code}/whatif", tag = "rounds",
    params(("id" = i64, Path, description = "Round id"), ("code" = String, Path, description = "Unit code"),
        ("shift1_group" = Option<String>, Query, description = "Respondent group of answer change 1 (also shift2_…, shift3_…)"),
        ("shift1_target" = Option<String>, Query, description = "`item:CODE` or `criterion:CODE`"),
        ("shift1_to" = Option<String>, Query, description = "Answer value answers move into (answers at it or better stay)"),
        ("shift1_pp" = Option<f64>, Query, description = "Percentage points of the answers to move, 0 to 100"),
        ("appraised1_component" = Option<String>, Query, description = "Component whose appraised points are set (also appraised2_…)"),
        ("appraised1_points" = Option<f64>, Query, description = "The new appraised points"),
        ("goal" = Option<String>, Query, description = "`tier`, `rank` or `total`"),
        ("goal_value" = Option<String>, Query, description = "Tier code, national rank or index points")),
    responses((status = 200, description = "The unit before and after, and the plan toward the goal", body = ApiWhatIf),
        (status = 400, description = "A refused field, named in the detail", body = ErrorBody),
        (status = 401, description = "Unpublished and no token", body = ErrorBody),
        (status = 404, description = "No such round, or the unit is not in the caller's scope", body = ErrorBody)),
    security((), ("bearer" = [])))]
pub async fn unit_what_if(
    state: web::Data<AppState>,
    caller: ApiCaller,
    path: web::Path<(i64, String)>,
    query: web::Query<Vec<(String, String)>>,
) -> AppResult<HttpResponse> {
    let viewer = caller.viewer;
    let (round_id, code) = path.into_inner();
    let parsed = form::parse(&query);
    let request = parsed.clone().unwrap_or_default();
    let (source, answer) = state
        .with_results(round_id, viewer, move |conn, r| {
            let answer = results::unit_what_if(conn, &r, &code, &request)?;
            Ok((r.source, answer.map(|a| (code, a))))
        })
        .await?;
    let refused = |e: &form::FieldError| {
        let reason = crate::i18n::t(Lang::En, e.reason);
        HttpResponse::BadRequest().json(ErrorBody {
            error: ErrorDetail {
                status: 400,
                title: crate::i18n::t(Lang::En, "error.bad_request.title").to_owned(),
                detail: crate::i18n::tf(
                    Lang::En,
                    "whatif.field_error",
                    &[("field", &e.field), ("reason", reason)],
                ),
            },
        })
    };
    // A malformed field is refused before the simulation's answer is looked at; the round
    // and unit were still opened, so an unknown unit is 404 either way.
    if let Err(e) = &parsed {
        return Ok(refused(e));
    }
    let (unit, w) = match answer {
        Ok(a) => a,
        Err(e) => return Ok(refused(&e)),
    };
    Ok(HttpResponse::Ok().json(ApiWhatIf {
        unit,
        source: match source {
            Source::Live => "live".to_owned(),
            Source::Published { .. } => "published".to_owned(),
        },
        before: w.outcome.before.into(),
        after: w.outcome.after.into(),
        moved_answers: w.outcome.moved_answers,
        plan: w.plan.map(ApiTargetPlan::from),
    }))
}
