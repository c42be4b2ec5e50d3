//! Everything the round page shows, gathered in one read: the round and its configuration,
//! targets, respondent and mail counts, open links, earlier rounds, and the viewer's actions.

use std::collections::BTreeSet;

use crate::app::auth::tokens::SecretKey;
use crate::app::auth::viewer::StaffViewer;
use crate::db::instruments::InstrumentSummary;
use crate::db::methodologies::MethodologySummary;
use crate::db::rounds::{RoundGroupRow, RoundRow};
use crate::db::units::{UnitRow, UnitSetRow};
use crate::db::{self, AnyConnection};
use crate::domain::lifecycle::{self, RoundAction};
use crate::domain::mail_outbox::OutboxStatus;
use crate::error::AppError;

/// The round page's content for one viewer.
#[derive(Debug, Clone)]
pub struct RoundOverview {
    /// The round.
    pub round: RoundRow,
    /// The unit set it covers.
    pub unit_set: UnitSetRow,
    /// Its units.
    pub units: Vec<UnitRow>,
    /// Its configured groups.
    pub groups: Vec<RoundGroupRow>,
    /// Instruments that can be bound to a group.
    pub instruments: Vec<InstrumentSummary>,
    /// Methodologies that can be bound to a group.
    pub methodologies: Vec<MethodologySummary>,
    /// Each respondent group with the questionnaire and methodology its form offers first.
    pub group_choices: Vec<GroupChoice>,
    /// Target per group code when the same for every unit (None if mixed or unset).
    pub targets: Vec<(String, Option<i32>)>,
    /// Respondents listed (in a coordinator's own units only, see `respondents_in_my_units`).
    pub respondents: i64,
    /// Whether `respondents` counts only the viewer's own units.
    pub respondents_in_my_units: bool,
    /// The round's queued mail, counted by status.
    pub outbox: Vec<(OutboxStatus, i64)>,
    /// Its open links with their progress.
    pub open_links: Vec<OpenLinkLine>,
    /// Earlier rounds year-over-year may compare with: (id, "year — name").
    pub earlier_rounds: Vec<(i64, String)>,
    /// The lifecycle actions the viewer may take now, from the permission table.
    pub actions: Vec<RoundAction>,
}

/// What the form binding a group to a questionnaire and methodology offers first: what the
/// round already uses for the group, else the latest questionnaire written for the group and
/// the latest methodology that scores it (never another group's questionnaire).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupChoice {
    /// The group code.
    pub group: String,
    /// The questionnaire offered first.
    pub instrument_id: Option<i64>,
    /// The methodology offered first.
    pub methodology_id: Option<i64>,
}

/// The first choices of every group's form (see [`GroupChoice`]).
fn group_choices(
    conn: &mut AnyConnection,
    group_codes: &[String],
    configured: &[RoundGroupRow],
    instruments: &[InstrumentSummary],
    methodologies: &[MethodologySummary],
) -> Result<Vec<GroupChoice>, AppError> {
    // Which groups each methodology scores; there are a handful of methodologies.
    let mut scored: Vec<(i64, Vec<String>)> = Vec::with_capacity(methodologies.len());
    for m in methodologies {
        if let Some(stored) = crate::app::catalog::load_methodology(conn, m.id)? {
            let groups = group_codes
                .iter()
                .filter(|g| stored.methodology.scores_group(g))
                .cloned()
                .collect();
            scored.push((m.id, groups));
        }
    }
    Ok(group_codes
        .iter()
        .map(|group| {
            let current = configured.iter().find(|c| &c.group_code == group);
            GroupChoice {
                group: group.clone(),
                instrument_id: current.map(|c| c.instrument_id).or_else(|| {
                    instruments
                        .iter()
                        .filter(|i| &i.group_code == group)
                        .max_by_key(|i| i.id)
                        .map(|i| i.id)
                }),
                methodology_id: current.map(|c| c.methodology_id).or_else(|| {
                    scored
                        .iter()
                        .filter(|(_, groups)| groups.contains(group))
                        .map(|(id, _)| *id)
                        .max()
                }),
            }
        })
        .collect())
}

/// A public link on the round page.
#[derive(Debug, Clone)]
pub struct OpenLinkLine {
    /// Unit name (Vietnamese).
    pub unit_name: String,
    /// Group code.
    pub group_code: String,
    /// Completed responses allowed.
    pub quota: i32,
    /// Responses completed through it.
    pub completed: i64,
    /// Responses started and not expired.
    pub in_progress: i64,
    /// Codes handed out (visitors who pressed start, whether or not they answered).
    pub handed_out: i32,
    /// Its public URL.
    pub url: String,
}

/// Reads the round page of `round_id` for `viewer`; `NotFound` when there is no such round.
pub fn overview(
    conn: &mut AnyConnection,
    secret: &SecretKey,
    base_url: &str,
    round_id: i64,
    viewer: StaffViewer,
) -> Result<RoundOverview, AppError> {
    let round = db::rounds::by_id(conn, round_id)?.ok_or(AppError::NotFound)?;
    let unit_set = db::units::set_by_id(conn, round.unit_set_id)?.ok_or(AppError::NotFound)?;
    let units = db::rounds::units(conn, round_id)?;
    let groups = db::rounds::groups(conn, round_id)?;
    let all_groups = db::rounds::all_groups(conn)?;
    let targets = uniform_targets(&all_groups, &db::rounds::targets(conn, round_id)?);
    let own = viewer.own_units(conn)?;
    let respondents = super::respondent_count(conn, round_id, own.as_ref())?;
    let outbox = db::outbox::counts_by_status(conn, &super::message_prefix(round_id))?;
    let now = db::now();
    let mut open_links = Vec::new();
    for link in db::open_links::of_round(conn, round_id)? {
        let unit_name = units
            .iter()
            .find(|u| u.id == link.unit_id)
            .map(|u| u.name_vi.clone())
            .unwrap_or_default();
        let group_code = all_groups
            .iter()
            .find(|(id, _)| *id == link.group_id)
            .map(|(_, code)| code.clone())
            .unwrap_or_default();
        let (completed, in_progress) = db::access_codes::open_link_progress(conn, link.id, now)?;
        open_links.push(OpenLinkLine {
            unit_name,
            group_code,
            quota: link.quota,
            completed,
            in_progress,
            handed_out: link.issued,
            url: format!("{base_url}/o/{}", super::open_link_token(secret, link.id)),
        });
    }
    let earlier_rounds = db::rounds::list(conn)?
        .into_iter()
        .filter(|r| r.year < round.year)
        .map(|r| (r.id, format!("{} — {}", r.year, r.name_vi)))
        .collect();
    let actions = lifecycle::allowed_actions(viewer.role, round.status);
    let instruments = db::instruments::list(conn)?;
    let methodologies = db::methodologies::list(conn)?;
    let group_codes: Vec<String> = all_groups.iter().map(|(_, code)| code.clone()).collect();
    let group_choices = group_choices(conn, &group_codes, &groups, &instruments, &methodologies)?;
    Ok(RoundOverview {
        round,
        unit_set,
        units,
        groups,
        instruments,
        methodologies,
        group_choices,
        targets,
        respondents,
        respondents_in_my_units: own.is_some(),
        outbox,
        open_links,
        earlier_rounds,
        actions,
    })
}

/// The target of each group (by code) when every unit of the round has the same one; `None`
/// when targets differ between units or none is set. `targets` holds (unit, group, target).
fn uniform_targets(
    all_groups: &[(i64, String)],
    targets: &[(i64, i64, i32)],
) -> Vec<(String, Option<i32>)> {
    all_groups
        .iter()
        .map(|(group_id, code)| {
            let values: BTreeSet<i32> = targets
                .iter()
                .filter(|(_, g, _)| g == group_id)
                .map(|(_, _, t)| *t)
                .collect();
            let single = match values.len() {
                1 => values.into_iter().next(),
                _ => None,
            };
            (code.clone(), single)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::uniform_targets;

    #[test]
    fn a_target_shows_only_when_every_unit_shares_it() {
        let groups = [
            (1, "citizen".to_owned()),
            (2, "firm".to_owned()),
            (3, "x".to_owned()),
        ];
        let targets = [(10, 1, 30), (11, 1, 30), (10, 2, 30), (11, 2, 40)];
        assert_eq!(
            uniform_targets(&groups, &targets),
            vec![
                ("citizen".to_owned(), Some(30)),
                ("firm".to_owned(), None),
                ("x".to_owned(), None)
            ]
        );
    }
}
