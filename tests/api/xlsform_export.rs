//! Questionnaires exported as XLSForm (for ODK Collect and KoboCollect): from the command line
//! and from the questionnaire's admin page, read back by khaosat with the same content hash, and
//! converted by pyxform (from PyPI) without errors.
//!
//! The pyxform test skips with its reason when `python3 -c "import pyxform"` fails, unless
//! `KHAOSAT_REQUIRE_PYXFORM=1` (or `KHAOSAT_TEST_REQUIRE_ALL=1`, as `.ci/run` sets) makes the
//! missing tool a failure.

use std::path::Path;
use std::process::Command;

use khaosat::app::bundled::INSTRUMENTS;
use khaosat::domain::account::Role;
use khaosat::domain::instrument::Instrument;
use khaosat::domain::xlsform::{XlsFormOptions, export_xlsform, import_xlsform};

use crate::helpers::{TestDb, skip, spawn_app};

const EVERY_KIND: &str = include_str!("fixtures/every-kind.toml");
const FEATURES: &str = include_str!("fixtures/features.toml");

fn bundled(name_prefix: &str) -> Instrument {
    let file = INSTRUMENTS
        .iter()
        .find(|f| f.name.starts_with(name_prefix))
        .unwrap();
    Instrument::from_toml(file.bytes, file.name).unwrap()
}

fn reimport(bytes: &[u8]) -> Instrument {
    import_xlsform(bytes, "export.xlsx", &XlsFormOptions::default()).unwrap_or_else(|errors| {
        let lines: Vec<String> = errors.iter().map(ToString::to_string).collect();
        panic!("{}", lines.join("\n"))
    })
}

fn khaosat(db: &TestDb, dir: &Path, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_khaosat"))
        .args(args)
        .current_dir(dir)
        .env("DATABASE_URL", db.url())
        .env("KHAOSAT_LANG", "en")
        .env("RUST_LOG", "warn")
        .output()
        .unwrap()
}

#[test]
fn the_cli_writes_an_xlsform_that_imports_with_the_same_content_hash() {
    let db = TestDb::new();
    let dir = tempfile::tempdir().unwrap();
    let out = khaosat(&db, dir.path(), &["instrument", "export-xlsform", "sipas"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "wrote sipas-v1.xlsx: questionnaire sipas version 1 as XLSForm"
    );
    let bytes = std::fs::read(dir.path().join("sipas-v1.xlsx")).unwrap();
    assert_eq!(
        reimport(&bytes).content_hash(),
        bundled("sipas").content_hash()
    );

    let target = dir.path().join("leader.xlsx");
    let out = khaosat(
        &db,
        dir.path(),
        &[
            "instrument",
            "export-xlsform",
            "par-leader",
            "--version",
            "1",
            "-o",
            target.to_str().unwrap(),
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let bytes = std::fs::read(&target).unwrap();
    assert_eq!(
        reimport(&bytes).content_hash(),
        bundled("par-leader").content_hash()
    );
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".part"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn the_cli_refuses_a_questionnaire_or_version_that_is_not_stored() {
    let db = TestDb::new();
    let dir = tempfile::tempdir().unwrap();
    let out = khaosat(
        &db,
        dir.path(),
        &["instrument", "export-xlsform", "sipas", "--version", "7"],
    );
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("no stored questionnaire 'sipas' v7"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}

#[tokio::test]
async fn the_questionnaire_page_links_an_xlsform_download_that_imports_with_the_same_hash() {
    let app = spawn_app().await;
    app.login_as("coordinator@sonoivu.gov.vn", Role::Coordinator)
        .await;
    let id = {
        let mut conn = app.pool.get().unwrap();
        khaosat::app::catalog::find_instrument(&mut conn, "par-civil-servant", None)
            .unwrap()
            .unwrap()
            .id
    };
    let page = app.get_html(&format!("/admin/instruments/{id}")).await;
    assert!(
        page.contains(&format!("href=\"/admin/instruments/{id}/xlsform\"")),
        "{page}"
    );
    let response = app.get(&format!("/admin/instruments/{id}/xlsform")).await;
    assert_eq!(response.status(), 200);
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .unwrap()
            .to_str()
            .unwrap()
            .to_owned()
    };
    assert_eq!(
        header("content-type"),
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    );
    assert_eq!(
        header("content-disposition"),
        "attachment; filename=\"par-civil-servant-v1.xlsx\""
    );
    let bytes = response.bytes().await.unwrap();
    assert_eq!(
        reimport(&bytes).content_hash(),
        bundled("par-civil-servant").content_hash()
    );
}

#[tokio::test]
async fn someone_not_signed_in_cannot_download_a_questionnaire_as_xlsform() {
    let app = spawn_app().await;
    let anonymous = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let response = anonymous
        .get(app.url("/admin/instruments/1/xlsform"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 303);
    let location = response
        .headers()
        .get("location")
        .unwrap()
        .to_str()
        .unwrap();
    assert!(location.starts_with("/admin/login"), "{location}");
    let missing = app.get("/admin/instruments/999999/xlsform").await;
    assert_ne!(missing.status(), 200);
}

/// Whether pyxform can be imported; otherwise skips (or fails when it is required).
fn pyxform_available() -> bool {
    let found = Command::new("python3")
        .args(["-c", "import pyxform"])
        .output()
        .is_ok_and(|o| o.status.success());
    if found {
        return true;
    }
    let reason = "pyxform is not installed (pip install pyxform)";
    if std::env::var("KHAOSAT_REQUIRE_PYXFORM").is_ok_and(|v| v == "1") {
        panic!("required test prerequisite missing: {reason}");
    }
    skip(reason);
    false
}

/// Converts `file` with pyxform (without the external ODK Validate) and returns its warnings.
fn pyxform_warnings(file: &Path) -> Vec<String> {
    let script = "import json, sys\n\
                  from pyxform.xls2xform import convert\n\
                  result = convert(xlsform=sys.argv[1], validate=False)\n\
                  assert '<h:html' in result.xform\n\
                  print(json.dumps(result.warnings))\n";
    let out = Command::new("python3")
        .args(["-c", script])
        .arg(file)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "pyxform refused {}:\n{}",
        file.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn pyxform_converts_every_bundled_questionnaire_and_every_kind_of_question_without_warnings() {
    if !pyxform_available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let mut forms: Vec<(String, Instrument)> = INSTRUMENTS
        .iter()
        .map(|f| {
            let name = f.name.replace(".toml", ".xlsx");
            (name, Instrument::from_toml(f.bytes, f.name).unwrap())
        })
        .collect();
    let every_kind = Instrument::from_toml(EVERY_KIND.as_bytes(), "every-kind.toml").unwrap();
    forms.push(("every-kind.xlsx".to_owned(), every_kind));
    let features = Instrument::from_toml(FEATURES.as_bytes(), "features.toml").unwrap();
    forms.push(("features.xlsx".to_owned(), features));
    for (name, instrument) in forms {
        let path = dir.path().join(&name);
        let bytes = export_xlsform(&instrument).unwrap();
        std::fs::write(&path, &bytes).unwrap();
        assert_eq!(pyxform_warnings(&path), Vec::<String>::new(), "{name}");
        assert_eq!(
            reimport(&bytes).content_hash(),
            instrument.content_hash(),
            "{name}"
        );
    }
}
