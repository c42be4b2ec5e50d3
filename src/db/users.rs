//! Queries on administrator, coordinator and analyst accounts.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::AnyConnection;
use super::schema::users;
use crate::domain::account::Role;

/// An account as stored.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = users)]
pub struct User {
    /// Row id.
    pub id: i64,
    /// Login e-mail, lower-cased.
    pub email: String,
    /// Display name.
    pub name: String,
    /// What the account may do (an unknown stored code fails the query).
    #[diesel(deserialize_as = String)]
    pub role: Role,
    /// Argon2id PHC string, or [`crate::domain::account::NO_PASSWORD`].
    pub password_hash: String,
    /// Inactive accounts cannot log in.
    pub active: bool,
    /// When the account was created.
    pub created_at: NaiveDateTime,
    /// Last change to the account.
    pub updated_at: NaiveDateTime,
    /// Last successful login.
    pub last_login_at: Option<NaiveDateTime>,
}

impl User {
    /// Whether the account's owner has chosen a password (an account an administrator made has
    /// none until its link is used).
    pub fn has_password(&self) -> bool {
        crate::domain::account::has_password(&self.password_hash)
    }
}

/// A new account to insert.
#[derive(Debug, Insertable)]
#[diesel(table_name = users)]
pub struct NewUser<'a> {
    /// Login e-mail, lower-cased.
    pub email: &'a str,
    /// Display name.
    pub name: &'a str,
    /// Role code.
    pub role: &'a str,
    /// Argon2id PHC string.
    pub password_hash: &'a str,
    /// Creation time.
    pub created_at: NaiveDateTime,
    /// Same as `created_at` at first.
    pub updated_at: NaiveDateTime,
}

/// How many accounts exist.
pub fn count(conn: &mut AnyConnection) -> QueryResult<i64> {
    users::table.count().get_result(conn)
}

/// The account with this (lower-cased) e-mail.
pub fn by_email(conn: &mut AnyConnection, email: &str) -> QueryResult<Option<User>> {
    users::table
        .filter(users::email.eq(email))
        .select(User::as_select())
        .get_result(conn)
        .optional()
}

/// The account with this id.
pub fn by_id(conn: &mut AnyConnection, id: i64) -> QueryResult<Option<User>> {
    users::table
        .find(id)
        .select(User::as_select())
        .get_result(conn)
        .optional()
}

/// Inserts an account and returns it.
pub fn insert(conn: &mut AnyConnection, new: &NewUser<'_>) -> QueryResult<User> {
    diesel::insert_into(users::table)
        .values(new)
        .execute(conn)?;
    by_email(conn, new.email)?.ok_or(diesel::result::Error::NotFound)
}

/// Replaces the password hash; returns the number of accounts changed (0 or 1).
pub fn set_password(conn: &mut AnyConnection, email: &str, hash: &str) -> QueryResult<usize> {
    diesel::update(users::table.filter(users::email.eq(email)))
        .set((
            users::password_hash.eq(hash),
            users::updated_at.eq(super::now()),
        ))
        .execute(conn)
}

/// Records a successful login.
pub fn touch_login(conn: &mut AnyConnection, id: i64) -> QueryResult<usize> {
    diesel::update(users::table.find(id))
        .set(users::last_login_at.eq(Some(super::now())))
        .execute(conn)
}

/// The units a coordinator is assigned to.
pub fn unit_ids(conn: &mut AnyConnection, user_id: i64) -> QueryResult<Vec<i64>> {
    use super::schema::user_units;
    user_units::table
        .filter(user_units::user_id.eq(user_id))
        .select(user_units::unit_id)
        .load(conn)
}

/// Assigns a coordinator to a unit.
pub fn add_unit(conn: &mut AnyConnection, user_id: i64, unit_id: i64) -> QueryResult<usize> {
    use super::schema::user_units;
    diesel::insert_into(user_units::table)
        .values((
            user_units::user_id.eq(user_id),
            user_units::unit_id.eq(unit_id),
        ))
        .execute(conn)
}

/// Every account, ordered by e-mail.
pub fn all(conn: &mut AnyConnection) -> QueryResult<Vec<User>> {
    users::table
        .order(users::email)
        .select(User::as_select())
        .load(conn)
}

/// How many active administrators there are (the last one may not be removed).
pub fn count_active_admins(conn: &mut AnyConnection) -> QueryResult<i64> {
    users::table
        .filter(users::role.eq(Role::Admin.code()))
        .filter(users::active.eq(true))
        .count()
        .get_result(conn)
}

/// Changes an account's role; returns the number of accounts changed (0 or 1).
pub fn set_role(conn: &mut AnyConnection, id: i64, role: Role) -> QueryResult<usize> {
    diesel::update(users::table.find(id))
        .set((
            users::role.eq(role.code()),
            users::updated_at.eq(super::now()),
        ))
        .execute(conn)
}

/// Activates or deactivates an account; returns the number of accounts changed (0 or 1).
pub fn set_active(conn: &mut AnyConnection, id: i64, active: bool) -> QueryResult<usize> {
    diesel::update(users::table.find(id))
        .set((users::active.eq(active), users::updated_at.eq(super::now())))
        .execute(conn)
}

/// Every (account, unit) assignment, for the accounts list.
pub fn all_unit_assignments(conn: &mut AnyConnection) -> QueryResult<Vec<(i64, i64)>> {
    use super::schema::user_units;
    user_units::table
        .select((user_units::user_id, user_units::unit_id))
        .load(conn)
}

/// Removes every unit assignment of an account; returns how many.
pub fn clear_units(conn: &mut AnyConnection, user_id: i64) -> QueryResult<usize> {
    use super::schema::user_units;
    diesel::delete(user_units::table.filter(user_units::user_id.eq(user_id))).execute(conn)
}
