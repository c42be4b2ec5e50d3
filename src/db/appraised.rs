//! Appraised (non-survey) points per unit × component, imported by analysts to compose the
//! full index.

use diesel::prelude::*;

use super::AnyConnection;
use super::schema::appraised_points;

/// Replaces the appraised points of a round.
pub fn replace(
    conn: &mut AnyConnection,
    round_id: i64,
    rows: &[(i64, String, f64)],
) -> QueryResult<usize> {
    diesel::delete(appraised_points::table.filter(appraised_points::round_id.eq(round_id)))
        .execute(conn)?;
    for (unit_id, component, points) in rows {
        diesel::insert_into(appraised_points::table)
            .values((
                appraised_points::round_id.eq(round_id),
                appraised_points::unit_id.eq(unit_id),
                appraised_points::component_code.eq(component),
                appraised_points::points.eq(points),
            ))
            .execute(conn)?;
    }
    Ok(rows.len())
}

/// The appraised points of a round: (unit, component, points).
pub fn of_round(conn: &mut AnyConnection, round_id: i64) -> QueryResult<Vec<(i64, String, f64)>> {
    appraised_points::table
        .filter(appraised_points::round_id.eq(round_id))
        .select((
            appraised_points::unit_id,
            appraised_points::component_code,
            appraised_points::points,
        ))
        .load(conn)
}
