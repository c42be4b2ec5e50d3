//! A group's score split by a question, after disclosure control:
//! `/api/v1/rounds/{id}/breakdown`.

use actix_web::{HttpResponse, web};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::app::results;
use crate::app::results::breakdown::PublicCell;
use crate::error::AppResult;

use super::{ErrorBody, RoundCall};

/// Which breakdown.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct BreakdownQuery {
    /// Respondent group code.
    group: String,
    /// Code of a single-choice or yes/no question of the group's questionnaire.
    by: String,
}

/// An answer category of a breakdown.
#[derive(Debug, Serialize, ToSchema)]
pub struct Category {
    /// Stored answer value (`_none`: not answered).
    pub value: String,
    /// Vietnamese label.
    pub label_vi: String,
    /// English label.
    pub label_en: String,
}

/// One unit's row of a breakdown.
#[derive(Debug, Serialize, ToSchema)]
pub struct BreakdownRow {
    /// Unit code.
    pub unit: String,
    /// One cell per category.
    pub cells: Vec<PublicCell>,
    /// The unit's total.
    pub total: PublicCell,
    /// True when the unit is not split at all (fewer than `min_n` respondents in the group):
    /// every cell and the total are hidden here, and the column totals leave the unit out.
    /// Its respondents and score are in `/scores`.
    pub withheld: bool,
}

/// A group's score split by a question, after disclosure control: cells with 0 < n < k are
/// hidden, and so are enough others that no hidden cell can be worked out from the totals,
/// the units' published totals (`/scores`) included.
#[derive(Debug, Serialize, ToSchema)]
pub struct BreakdownTable {
    /// Group.
    pub group: String,
    /// The question.
    pub by: String,
    /// The minimum cell size k.
    pub min_n: u64,
    /// Columns.
    pub categories: Vec<Category>,
    /// One row per unit in the caller's scope.
    pub rows: Vec<BreakdownRow>,
    /// Column totals.
    pub totals: Vec<PublicCell>,
    /// Grand total.
    pub grand_total: PublicCell,
}

fn public(e: Option<crate::domain::disclosure::Entry>) -> PublicCell {
    e.map_or(
        PublicCell {
            n: None,
            percent: None,
            suppressed: true,
        },
        PublicCell::from,
    )
}

/// `GET /api/v1/rounds/{id}/breakdown`
#[utoipa::path(get, path = "/api/v1/rounds/{id}/breakdown", tag = "scores",
    params(("id" = i64, Path, description = "Round id"), BreakdownQuery),
    responses((status = 200, description = "The protected breakdown", body = BreakdownTable),
        (status = 400, description = "Not a categorical question", body = ErrorBody),
        (status = 401, description = "Unpublished and no token", body = ErrorBody),
        (status = 404, description = "No such round or group", body = ErrorBody)),
    security((), ("bearer" = [])))]
pub async fn breakdown(
    call: RoundCall,
    query: web::Query<BreakdownQuery>,
) -> AppResult<HttpResponse> {
    let query = query.into_inner();
    let bd = call
        .state
        .with_results(call.round_id, call.viewer, move |conn, visible| {
            results::breakdown::breakdown(conn, &visible, &query.group, &query.by)
        })
        .await?;
    let t = &bd.table;
    Ok(HttpResponse::Ok().json(BreakdownTable {
        group: bd.group.clone(),
        by: bd.by.clone(),
        min_n: bd.min_n,
        categories: bd
            .categories
            .iter()
            .map(|(v, l)| Category {
                value: v.clone(),
                label_vi: l.vi.clone(),
                label_en: l.en.clone(),
            })
            .collect(),
        rows: bd
            .units
            .iter()
            .enumerate()
            .map(|(i, (code, _, _))| BreakdownRow {
                unit: code.clone(),
                cells: (0..bd.categories.len())
                    .map(|c| public(t.cell(i, c)))
                    .collect(),
                total: public(t.row_total(i)),
                withheld: t.withheld_rows().contains(&i),
            })
            .collect(),
        totals: (0..bd.categories.len())
            .map(|c| public(t.column_total(c)))
            .collect(),
        grand_total: public(t.grand_total()),
    }))
}
