//! Unit sets (the 63 provinces, the 34 units from 2025, imported lists), their units and the
//! lineage that links a merged unit to the units it absorbed.

use diesel::prelude::*;

use super::AnyConnection;
use super::schema::{unit_lineage, unit_sets, units};

/// A stored unit set.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = unit_sets)]
pub struct UnitSetRow {
    /// Row id.
    pub id: i64,
    /// Stable code, e.g. `vn-provinces-2023`.
    pub code: String,
    /// Vietnamese name.
    pub name_vi: String,
    /// English name.
    pub name_en: String,
    /// First year the set is valid for.
    pub first_year: Option<i32>,
    /// Last year the set is valid for.
    pub last_year: Option<i32>,
    /// Bundled reference data (not editable).
    pub builtin: bool,
}

/// A stored unit.
#[derive(Debug, Clone, Queryable, Selectable, serde::Serialize)]
#[diesel(table_name = units)]
pub struct UnitRow {
    /// Row id.
    pub id: i64,
    /// The set it belongs to.
    pub unit_set_id: i64,
    /// Code, unique in the set.
    pub code: String,
    /// Vietnamese name.
    pub name_vi: String,
    /// English name.
    pub name_en: String,
    /// `province`, `city`, or a custom word.
    pub kind: String,
    /// Region code.
    pub region_code: Option<String>,
    /// Region name in Vietnamese.
    pub region_vi: Option<String>,
    /// Region name in English.
    pub region_en: Option<String>,
}

/// A new unit set.
#[derive(Debug, Insertable)]
#[diesel(table_name = unit_sets)]
pub struct NewUnitSet<'a> {
    /// Stable code.
    pub code: &'a str,
    /// Vietnamese name.
    pub name_vi: &'a str,
    /// English name.
    pub name_en: &'a str,
    /// First valid year.
    pub first_year: Option<i32>,
    /// Last valid year.
    pub last_year: Option<i32>,
    /// Bundled reference data.
    pub builtin: bool,
    /// Creation time.
    pub created_at: chrono::NaiveDateTime,
}

/// A new unit.
#[derive(Debug, Insertable)]
#[diesel(table_name = units)]
pub struct NewUnit<'a> {
    /// The set.
    pub unit_set_id: i64,
    /// Code.
    pub code: &'a str,
    /// Vietnamese name.
    pub name_vi: &'a str,
    /// English name.
    pub name_en: &'a str,
    /// Kind.
    pub kind: &'a str,
    /// Region code.
    pub region_code: Option<&'a str>,
    /// Region name in Vietnamese.
    pub region_vi: Option<&'a str>,
    /// Region name in English.
    pub region_en: Option<&'a str>,
}

/// The set with this code.
pub fn set_by_code(conn: &mut AnyConnection, code: &str) -> QueryResult<Option<UnitSetRow>> {
    unit_sets::table
        .filter(unit_sets::code.eq(code))
        .select(UnitSetRow::as_select())
        .get_result(conn)
        .optional()
}

/// The set with this id.
pub fn set_by_id(conn: &mut AnyConnection, id: i64) -> QueryResult<Option<UnitSetRow>> {
    unit_sets::table
        .find(id)
        .select(UnitSetRow::as_select())
        .get_result(conn)
        .optional()
}

/// Every set, oldest first.
pub fn sets(conn: &mut AnyConnection) -> QueryResult<Vec<UnitSetRow>> {
    unit_sets::table
        .order(unit_sets::id)
        .select(UnitSetRow::as_select())
        .load(conn)
}

/// How many units each set has, as (set id, count).
pub fn count_by_set(conn: &mut AnyConnection) -> QueryResult<Vec<(i64, i64)>> {
    units::table
        .group_by(units::unit_set_id)
        .select((units::unit_set_id, diesel::dsl::count_star()))
        .load(conn)
}

/// Inserts a set and returns its id.
pub fn insert_set(conn: &mut AnyConnection, new: &NewUnitSet<'_>) -> QueryResult<i64> {
    diesel::insert_into(unit_sets::table)
        .values(new)
        .execute(conn)?;
    set_by_code(conn, new.code)?
        .map(|s| s.id)
        .ok_or(diesel::result::Error::NotFound)
}

/// Inserts units (one statement per unit keeps it portable across both backends).
pub fn insert_units(conn: &mut AnyConnection, new: &[NewUnit<'_>]) -> QueryResult<usize> {
    let mut inserted = 0;
    for unit in new {
        inserted += diesel::insert_into(units::table)
            .values(unit)
            .execute(conn)?;
    }
    Ok(inserted)
}

/// The units of a set, in code order.
pub fn units_of_set(conn: &mut AnyConnection, set_id: i64) -> QueryResult<Vec<UnitRow>> {
    units::table
        .filter(units::unit_set_id.eq(set_id))
        .order(units::code)
        .select(UnitRow::as_select())
        .load(conn)
}

/// Records that `unit_id` absorbed `absorbed_unit_id`.
pub fn insert_lineage(
    conn: &mut AnyConnection,
    unit_id: i64,
    absorbed_unit_id: i64,
) -> QueryResult<usize> {
    diesel::insert_into(unit_lineage::table)
        .values((
            unit_lineage::unit_id.eq(unit_id),
            unit_lineage::absorbed_unit_id.eq(absorbed_unit_id),
        ))
        .execute(conn)
}

/// (unit, absorbed unit) pairs for the units of a set.
pub fn lineage_of_set(conn: &mut AnyConnection, set_id: i64) -> QueryResult<Vec<(i64, i64)>> {
    unit_lineage::table
        .inner_join(units::table.on(units::id.eq(unit_lineage::unit_id)))
        .filter(units::unit_set_id.eq(set_id))
        .select((unit_lineage::unit_id, unit_lineage::absorbed_unit_id))
        .load(conn)
}

/// The codes of the units with these ids.
pub fn codes_of(conn: &mut AnyConnection, ids: &[i64]) -> QueryResult<Vec<String>> {
    units::table
        .filter(units::id.eq_any(ids))
        .select(units::code)
        .load(conn)
}

/// Every unit of every set, by set then code.
pub fn all_units(conn: &mut AnyConnection) -> QueryResult<Vec<UnitRow>> {
    units::table
        .order((units::unit_set_id, units::code))
        .select(UnitRow::as_select())
        .load(conn)
}
