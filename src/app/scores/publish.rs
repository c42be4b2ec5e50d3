//! Published results: the snapshot of a round's scores, its inputs hash, and reading it back.

use super::compute::compute;
use super::tallies::{Tallies, recompute_tallies};
use super::uncertainty::uncertainty;
use crate::app::catalog;
use crate::db::audit::{AuditEntry, record};
use crate::db::{self, AnyConnection};
use crate::error::AppError;
use sha2::{Digest, Sha256};

/// A published snapshot as stored.
#[derive(Debug, Clone)]
pub struct Snapshot {
    /// Version within the round (1, 2, …).
    pub version: i32,
    /// SHA-256 over the inputs: methodology and instrument content hashes and the tallies.
    pub inputs_hash: String,
    /// The scores as JSON, exactly as published.
    pub payload: String,
    /// SHA-256 of `payload`.
    pub payload_hash: String,
}

fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// The hash over everything the scores depend on.
pub fn inputs_hash(
    conn: &mut AnyConnection,
    round_id: i64,
    tallies: &Tallies,
) -> Result<String, AppError> {
    let mut hasher = Sha256::new();
    for g in db::rounds::groups(conn, round_id)? {
        let i = catalog::load_instrument(conn, g.instrument_id)?.ok_or(AppError::NotFound)?;
        let m = catalog::load_methodology(conn, g.methodology_id)?.ok_or(AppError::NotFound)?;
        hasher.update(format!(
            "{}:{}:{}\n",
            g.group_code, i.summary.content_hash, m.summary.content_hash
        ));
    }
    let tallies_json =
        serde_json::to_string(&tallies.iter().collect::<Vec<_>>()).map_err(AppError::internal)?;
    hasher.update(tallies_json.as_bytes());
    Ok(hex::encode(hasher.finalize()))
}

/// Publishes the round's scores recomputed from the raw answers as a new immutable snapshot
/// version, and returns it.
pub fn publish(
    conn: &mut AnyConnection,
    round_id: i64,
    actor_user_id: Option<i64>,
    actor: &str,
) -> Result<Snapshot, AppError> {
    db::write_transaction(conn, |conn| {
        let tallies = recompute_tallies(conn, round_id)?;
        let mut scores = compute(conn, round_id, &tallies)?;
        scores.uncertainty = Some(uncertainty(conn, round_id, &scores)?);
        let payload = serde_json::to_string(&scores).map_err(AppError::internal)?;
        let payload_hash = sha256_hex(payload.as_bytes());
        let inputs = inputs_hash(conn, round_id, &tallies)?;
        let version = db::snapshots::next_version(conn, round_id)?;
        db::snapshots::insert(
            conn,
            round_id,
            version,
            &inputs,
            &payload,
            &payload_hash,
            actor_user_id,
            db::now(),
        )?;
        record(
            conn,
            &AuditEntry::new(actor_user_id, actor, "round:publish", "round", round_id).after(serde_json::json!({ "snapshot": version, "inputs_hash": inputs, "payload_hash": payload_hash })),
        )?;
        Ok(Snapshot {
            version,
            inputs_hash: inputs,
            payload,
            payload_hash,
        })
    })
}

/// Reads a published snapshot back and checks its hash.
pub fn read_snapshot(
    conn: &mut AnyConnection,
    round_id: i64,
    version: i32,
) -> Result<Option<(Snapshot, bool)>, AppError> {
    let Some(row) = db::snapshots::get(conn, round_id, version)? else {
        return Ok(None);
    };
    let verified = sha256_hex(row.payload.as_bytes()) == row.payload_hash;
    Ok(Some((
        Snapshot {
            version: row.version,
            inputs_hash: row.inputs_hash,
            payload: row.payload,
            payload_hash: row.payload_hash,
        },
        verified,
    )))
}
