//! Every administrative change leaves an audit entry with who, what, and the old and new
//! values: questionnaires, methodologies, rounds and their configuration, accounts,
//! exclusions and publication. (That nothing can change the log is tested in `migrations`.)

use diesel::prelude::*;
use khaosat::app::rounds::{self, Actor};
use khaosat::db::schema::audit_log;
use khaosat::domain::account::Role;
use khaosat::domain::lifecycle::RoundAction;

use crate::helpers::spawn_app;

const ADMIN: Actor<'static> = Actor {
    user_id: None,
    label: "auditor-test",
    role: khaosat::domain::account::Role::Admin,
};

type Entry = (String, Option<String>, Option<String>);

fn entries(app: &crate::helpers::TestApp, action: &str) -> Vec<Entry> {
    let mut conn = app.pool.get().unwrap();
    audit_log::table
        .filter(audit_log::action.eq(action))
        .order(audit_log::id)
        .select((audit_log::actor, audit_log::old_value, audit_log::new_value))
        .load(&mut conn)
        .unwrap()
}

#[tokio::test]
async fn every_administrative_change_is_audited_with_old_and_new_values() {
    let app = spawn_app().await;
    app.login_as("admin@sonoivu.gov.vn", Role::Admin).await;
    let edited = include_str!("../../assets/instruments/par-leader-2022.toml")
        .replacen("version = 1", "version = 2", 1)
        .replacen("Rất tốt", "Rất tốt lắm", 1);
    let uploaded = app
        .upload(
            "/admin/instruments",
            "/admin/instruments/import",
            "v2.toml",
            edited.into_bytes(),
        )
        .await;
    assert_eq!(uploaded.status(), 303);
    let round = crate::results::demo_round(&app, 120);
    {
        let mut conn = app.pool.get().unwrap();
        let groups = khaosat::db::rounds::groups(&mut conn, round).unwrap();
        let leader = groups.iter().find(|g| g.group_code == "leader").unwrap();
        // A second round, configured twice: the second change records what it replaced.
        let second = rounds::create_round(
            &mut conn,
            &rounds::NewRoundInput {
                year: 2025,
                name_vi: "Vòng kiểm tra".into(),
                name_en: "Audit round".into(),
                unit_set_code: rounds::UNITS_2025.into(),
                opens_at: None,
                closes_at: None,
            },
            ADMIN,
        )
        .unwrap();
        for _ in 0..2 {
            rounds::set_group(
                &mut conn,
                second,
                "leader",
                leader.instrument_id,
                leader.methodology_id,
                ADMIN,
            )
            .unwrap();
        }
        rounds::set_group_target(&mut conn, second, "leader", 30, ADMIN).unwrap();
        rounds::set_group_target(&mut conn, second, "leader", 40, ADMIN).unwrap();
        rounds::apply_action(&mut conn, round, RoundAction::Close, ADMIN).unwrap();
        let response =
            khaosat::db::responses::page_for_scoring(&mut conn, round, 0, 1, false).unwrap()[0].id;
        khaosat::app::review::exclude(
            &mut conn,
            round,
            response,
            "tested twice",
            None,
            "auditor-test",
        )
        .unwrap();
        khaosat::app::scores::publish(&mut conn, round, None, "auditor-test").unwrap();
    }
    let instrument = entries(&app, "instrument:import");
    assert!(
        instrument
            .iter()
            .any(|(actor, _, new)| actor == "admin@sonoivu.gov.vn" && new.is_some())
    );
    assert!(!entries(&app, "user:create").is_empty());
    assert_eq!(entries(&app, "round:create").len(), 2);
    let set_group = entries(&app, "round:set_group");
    let last = set_group.last().unwrap();
    assert!(
        last.1.as_deref().unwrap().contains("instrument_id"),
        "the old configuration is kept"
    );
    assert!(last.2.is_some());
    let targets = entries(&app, "round:set_targets");
    assert!(
        targets.last().unwrap().1.as_deref().unwrap().contains("30"),
        "the old target is kept"
    );
    assert!(targets.last().unwrap().2.as_deref().unwrap().contains("40"));
    let close = entries(&app, "round:close");
    assert_eq!(
        close.last().unwrap().1.as_deref(),
        Some("{\"status\":\"open\"}")
    );
    let exclude = entries(&app, "response:exclude");
    assert!(
        exclude[0]
            .1
            .as_deref()
            .unwrap()
            .contains("\"excluded\":false")
    );
    assert!(exclude[0].2.as_deref().unwrap().contains("tested twice"));
    let publish = entries(&app, "round:publish");
    assert!(publish[0].2.as_deref().unwrap().contains("payload_hash"));
}
