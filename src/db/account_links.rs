//! One-time links with which a new account's owner chooses their password. Only the SHA-256
//! digest of a link's token is stored.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::AnyConnection;
use super::schema::account_links;

/// A link as stored.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = account_links)]
pub struct AccountLinkRow {
    /// SHA-256 hex digest of the token.
    pub token_hash: String,
    /// The account whose password the link sets.
    pub user_id: i64,
    /// When it was made.
    pub created_at: NaiveDateTime,
    /// When it stops working.
    pub expires_at: NaiveDateTime,
    /// When it was used, or replaced by a newer link.
    pub used_at: Option<NaiveDateTime>,
}

/// Stores a new link.
pub fn insert(
    conn: &mut AnyConnection,
    token_hash: &str,
    user_id: i64,
    now: NaiveDateTime,
    expires_at: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::insert_into(account_links::table)
        .values((
            account_links::token_hash.eq(token_hash),
            account_links::user_id.eq(user_id),
            account_links::created_at.eq(now),
            account_links::expires_at.eq(expires_at),
        ))
        .execute(conn)
}

/// The link whose token hashes to `token_hash`, whatever its state.
pub fn by_hash(conn: &mut AnyConnection, token_hash: &str) -> QueryResult<Option<AccountLinkRow>> {
    account_links::table
        .find(token_hash)
        .select(AccountLinkRow::as_select())
        .get_result(conn)
        .optional()
}

/// Marks every unused link of an account used; returns how many.
pub fn spend_all_of_user(
    conn: &mut AnyConnection,
    user_id: i64,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(
        account_links::table
            .filter(account_links::user_id.eq(user_id))
            .filter(account_links::used_at.is_null()),
    )
    .set(account_links::used_at.eq(Some(now)))
    .execute(conn)
}

super::one_time::one_time_link_queries!(account_links);
