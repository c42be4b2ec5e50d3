//! Unit sets: the bundled reference lists and imported ones.

use super::*;

/// Loads the bundled unit sets (63 provinces; 34 units from 2025 with lineage) if absent.
pub fn load_reference_units(conn: &mut AnyConnection) -> Result<usize> {
    let mut added = 0;
    db::write_transaction(conn, |conn| {
        if db::units::set_by_code(conn, PROVINCES_2023)?.is_none() {
            let set = provinces_2023().map_err(|e| {
                invalid("round.invalid.bundled_units", &[("detail", &e.to_string())])
            })?;
            store_unit_set(
                conn,
                PROVINCES_2023,
                "63 tỉnh, thành phố (đến 2024)",
                "63 provinces (to 2024)",
                None,
                Some(2024),
                &set,
                true,
            )?;
            added += 1;
        }
        if db::units::set_by_code(conn, UNITS_2025)?.is_none() {
            let set = provinces_2025().map_err(|e| {
                invalid("round.invalid.bundled_units", &[("detail", &e.to_string())])
            })?;
            let new_id = store_unit_set(
                conn,
                UNITS_2025,
                "34 tỉnh, thành phố (từ 2025)",
                "34 provinces and cities (from 2025)",
                Some(2025),
                None,
                &set,
                true,
            )?;
            // Lineage: each 2025 unit → the 2023 units it absorbed.
            let old_set =
                db::units::set_by_code(conn, PROVINCES_2023)?.ok_or(RoundError::NotFound)?;
            let old_ids: HashMap<String, i64> = db::units::units_of_set(conn, old_set.id)?
                .into_iter()
                .map(|u| (u.code, u.id))
                .collect();
            let new_ids: HashMap<String, i64> = db::units::units_of_set(conn, new_id)?
                .into_iter()
                .map(|u| (u.code, u.id))
                .collect();
            for unit in &set.units {
                for absorbed in &unit.absorbed {
                    if let (Some(&to), Some(&from)) =
                        (new_ids.get(&unit.code), old_ids.get(absorbed))
                    {
                        db::units::insert_lineage(conn, to, from)?;
                    }
                }
            }
            added += 1;
        }
        Ok::<_, RoundError>(())
    })?;
    Ok(added)
}

#[expect(
    clippy::too_many_arguments,
    reason = "the set's own columns, passed through once"
)]
fn store_unit_set(
    conn: &mut AnyConnection,
    code: &str,
    name_vi: &str,
    name_en: &str,
    first_year: Option<i32>,
    last_year: Option<i32>,
    set: &UnitSet,
    builtin: bool,
) -> Result<i64> {
    let id = db::units::insert_set(
        conn,
        &NewUnitSet {
            code,
            name_vi,
            name_en,
            first_year,
            last_year,
            builtin,
            created_at: db::now(),
        },
    )?;
    let new: Vec<NewUnit<'_>> = set
        .units
        .iter()
        .map(|u| NewUnit {
            unit_set_id: id,
            code: &u.code,
            name_vi: &u.name_vi,
            name_en: &u.name_en,
            kind: &u.kind,
            region_code: u.region_code.as_deref(),
            region_vi: u.region_vi.as_deref(),
            region_en: u.region_en.as_deref(),
        })
        .collect();
    db::units::insert_units(conn, &new)?;
    Ok(id)
}

/// Imports an administrator's own unit list (CSV) as a new set; all or nothing.
pub fn import_unit_set(
    conn: &mut AnyConnection,
    code: &str,
    name: &str,
    file_name: &str,
    bytes: &[u8],
    actor: Actor<'_>,
) -> Result<i64> {
    let code = code.trim();
    if code.is_empty()
        || code.len() > 64
        || !code
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        return Err(invalid("round.invalid.set_code", &[("code", code)]));
    }
    let name = name.trim();
    if name.is_empty() {
        return Err(invalid("round.invalid.set_name", &[]));
    }
    let set =
        crate::domain::unit_list::parse_unit_csv(bytes, file_name).map_err(RoundError::Rows)?;
    db::write_transaction(conn, |conn| {
        if db::units::set_by_code(conn, code)?.is_some() {
            return Err(invalid("round.invalid.set_exists", &[("code", code)]));
        }
        let id = store_unit_set(conn, code, name, name, None, None, &set, false)?;
        record(
            conn,
            &AuditEntry::new(actor.user_id, actor.label, "units:import", "unit_set", id).after(
                serde_json::json!({ "code": code, "units": set.units.len(), "file": file_name }),
            ),
        )?;
        Ok(id)
    })
}
