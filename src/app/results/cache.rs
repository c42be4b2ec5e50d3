//! Computed round results kept while nothing they depend on changed.

use super::{RoundResults, full_results, narrow};
use crate::app::auth::viewer::Viewer;
use crate::db::{self, AnyConnection};
use crate::error::AppError;
use std::collections::BTreeMap;

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
    let (round, published) = super::open_round(conn, round_id, viewer)?;
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
