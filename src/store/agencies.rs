//! Agencies and their API keys (operator keys live in the same table with no agency).

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::{agencies, api_keys};
use super::{DbConnection, StoreError};
use crate::domain::ids::{new_id, now_utc};
use crate::domain::keys::{self, KeyRole};

#[derive(Clone, Queryable, Selectable, serde::Serialize)]
#[diesel(table_name = agencies)]
pub struct Agency {
    pub id: String,
    pub code: String,
    pub name: String,
    pub sender_ward_code: Option<String>,
    pub sender_line: Option<String>,
    pub sender_phone: Option<String>,
    pub default_postage_paid_by: String,
    pub callback_url: Option<String>,
    #[serde(skip)]
    pub callback_secret: Option<String>,
    pub level: Option<String>,
    pub active: bool,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    /// Set when the endpoint answered 410 Gone; cleared when a callback URL is set again.
    pub callback_disabled_at: Option<NaiveDateTime>,
}

/// Everything but the callback secret, which never prints.
impl std::fmt::Debug for Agency {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Agency")
            .field("id", &self.id)
            .field("code", &self.code)
            .field("name", &self.name)
            .field("callback_url", &self.callback_url)
            .field(
                "callback_secret",
                &self.callback_secret.as_ref().map(|_| "[redacted]"),
            )
            .field("callback_disabled_at", &self.callback_disabled_at)
            .field("active", &self.active)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, Clone, Default)]
pub struct NewAgency {
    pub code: String,
    pub name: String,
    pub sender_ward_code: Option<String>,
    pub sender_line: Option<String>,
    pub sender_phone: Option<String>,
    pub level: Option<String>,
}

/// Who a presented key belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyOwner {
    Operator {
        key_id: String,
    },
    Agency {
        key_id: String,
        agency_id: String,
        agency_active: bool,
        /// Carried along so intake need not read the agency again.
        default_postage_paid_by: String,
    },
}

#[derive(Debug, thiserror::Error)]
pub enum AgencyError {
    #[error("an agency with code '{0}' already exists")]
    DuplicateCode(String),
    #[error("no agency with code '{0}'")]
    NotFound(String),
    #[error("agency code '{0}' must be 1-32 letters, digits, '.', '-' or '_'")]
    InvalidCode(String),
    #[error("agency name must not be empty")]
    EmptyName,
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<diesel::result::Error> for AgencyError {
    fn from(e: diesel::result::Error) -> Self {
        AgencyError::Store(StoreError::Query(e))
    }
}

/// Agency codes: 1-32 letters, digits, `.`, `-` or `_` (the agency part of dossier codes).
pub fn valid_code(code: &str) -> bool {
    (1..=32).contains(&code.len())
        && code
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
}

/// Creates the agency and its first key in one transaction; returns the key's plaintext,
/// which is never stored.
pub fn create(conn: &mut DbConnection, new: &NewAgency) -> Result<(Agency, String), AgencyError> {
    if !valid_code(&new.code) {
        return Err(AgencyError::InvalidCode(new.code.clone()));
    }
    if new.name.trim().is_empty() {
        return Err(AgencyError::EmptyName);
    }
    conn.transaction(|conn| {
        if find_by_code(conn, &new.code)?.is_some() {
            return Err(AgencyError::DuplicateCode(new.code.clone()));
        }
        let now = now_utc();
        let id = new_id();
        diesel::insert_into(agencies::table)
            .values((
                agencies::id.eq(&id),
                agencies::code.eq(&new.code),
                agencies::name.eq(new.name.trim()),
                agencies::sender_ward_code.eq(&new.sender_ward_code),
                agencies::sender_line.eq(&new.sender_line),
                agencies::sender_phone.eq(&new.sender_phone),
                agencies::level.eq(&new.level),
                agencies::default_postage_paid_by.eq("recipient"),
                agencies::active.eq(true),
                agencies::created_at.eq(now),
                agencies::updated_at.eq(now),
            ))
            .execute(conn)?;
        let key = insert_key(conn, KeyRole::Agency, Some(&id), Some("initial"))?;
        let agency = agencies::table
            .find(&id)
            .select(Agency::as_select())
            .first(conn)?;
        Ok((agency, key))
    })
}

pub fn find_by_code(conn: &mut DbConnection, code: &str) -> Result<Option<Agency>, StoreError> {
    Ok(agencies::table
        .filter(agencies::code.eq(code))
        .select(Agency::as_select())
        .first(conn)
        .optional()?)
}

pub fn find_by_id(conn: &mut DbConnection, id: &str) -> Result<Option<Agency>, StoreError> {
    Ok(agencies::table
        .find(id)
        .select(Agency::as_select())
        .first(conn)
        .optional()?)
}

/// A change to an agency's settings: an outer `None` leaves the field alone, `Some(None)`
/// clears it. Callers validate first (see `http::admin::agencies`). Its `Debug` never shows
/// the callback secret.
#[derive(Clone, Default, AsChangeset)]
#[diesel(table_name = agencies)]
pub struct AgencyChanges {
    pub name: Option<String>,
    pub sender_ward_code: Option<Option<String>>,
    pub sender_line: Option<Option<String>>,
    pub sender_phone: Option<Option<String>>,
    pub default_postage_paid_by: Option<String>,
    pub callback_url: Option<Option<String>>,
    pub callback_secret: Option<Option<String>>,
    pub level: Option<Option<String>>,
    pub active: Option<bool>,
    pub callback_disabled_at: Option<Option<NaiveDateTime>>,
}

impl std::fmt::Debug for AgencyChanges {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let secret = self
            .callback_secret
            .as_ref()
            .map(|s| s.as_ref().map(|_| "[redacted]"));
        f.debug_struct("AgencyChanges")
            .field("name", &self.name)
            .field("callback_url", &self.callback_url)
            .field("callback_secret", &secret)
            .field("callback_disabled_at", &self.callback_disabled_at)
            .field("active", &self.active)
            .finish_non_exhaustive()
    }
}

/// Applies `changes` to the agency with this code and returns it as stored.
pub fn update(
    conn: &mut DbConnection,
    code: &str,
    changes: &AgencyChanges,
) -> Result<Agency, AgencyError> {
    // updated_at is always set, so the statement is never an empty SET.
    let changed = diesel::update(agencies::table.filter(agencies::code.eq(code)))
        .set((changes, agencies::updated_at.eq(now_utc())))
        .execute(conn)?;
    if changed == 0 {
        return Err(AgencyError::NotFound(code.into()));
    }
    find_by_code(conn, code)?.ok_or_else(|| AgencyError::NotFound(code.into()))
}

pub fn list(conn: &mut DbConnection) -> Result<Vec<Agency>, StoreError> {
    Ok(agencies::table
        .order(agencies::code.asc())
        .select(Agency::as_select())
        .load(conn)?)
}

/// Revokes every live key of the agency and issues a new one, atomically.
pub fn rotate_key(conn: &mut DbConnection, code: &str) -> Result<String, AgencyError> {
    conn.transaction(|conn| {
        let agency = find_by_code(conn, code)?.ok_or_else(|| AgencyError::NotFound(code.into()))?;
        diesel::update(
            api_keys::table
                .filter(api_keys::agency_id.eq(&agency.id))
                .filter(api_keys::revoked_at.is_null()),
        )
        .set(api_keys::revoked_at.eq(now_utc()))
        .execute(conn)?;
        Ok(insert_key(
            conn,
            KeyRole::Agency,
            Some(&agency.id),
            Some("rotated"),
        )?)
    })
}

pub fn set_active(
    conn: &mut DbConnection,
    code: &str,
    active: bool,
) -> Result<Agency, AgencyError> {
    let changed = diesel::update(agencies::table.filter(agencies::code.eq(code)))
        .set((
            agencies::active.eq(active),
            agencies::updated_at.eq(now_utc()),
        ))
        .execute(conn)?;
    if changed == 0 {
        return Err(AgencyError::NotFound(code.into()));
    }
    find_by_code(conn, code)?.ok_or_else(|| AgencyError::NotFound(code.into()))
}

pub fn create_operator_key(
    conn: &mut DbConnection,
    label: Option<&str>,
) -> Result<String, StoreError> {
    insert_key(conn, KeyRole::Operator, None, label)
}

fn insert_key(
    conn: &mut DbConnection,
    role: KeyRole,
    agency_id: Option<&str>,
    label: Option<&str>,
) -> Result<String, StoreError> {
    let key = keys::generate(role);
    diesel::insert_into(api_keys::table)
        .values((
            api_keys::id.eq(new_id()),
            api_keys::role.eq(role.as_str()),
            api_keys::agency_id.eq(agency_id),
            api_keys::key_prefix.eq(&key.prefix),
            api_keys::key_hash.eq(&key.hash),
            api_keys::label.eq(label),
            api_keys::created_at.eq(now_utc()),
        ))
        .execute(conn)?;
    Ok(key.plaintext)
}

/// id, role, agency, hash, revoked at, agency active, agency default payer.
type KeyRow = (
    String,
    String,
    Option<String>,
    String,
    Option<NaiveDateTime>,
    Option<bool>,
    Option<String>,
);

/// Finds who a presented key belongs to; `None` for unknown, malformed or revoked keys.
pub fn authenticate(
    conn: &mut DbConnection,
    presented: &str,
) -> Result<Option<KeyOwner>, StoreError> {
    let Some(prefix) = keys::prefix_of(presented) else {
        return Ok(None);
    };
    // One round trip: the key and its agency's state (intake is on the hot path).
    let row: Option<KeyRow> = api_keys::table
        .left_join(agencies::table)
        .filter(api_keys::key_prefix.eq(prefix))
        .select((
            api_keys::id,
            api_keys::role,
            api_keys::agency_id,
            api_keys::key_hash,
            api_keys::revoked_at,
            agencies::active.nullable(),
            agencies::default_postage_paid_by.nullable(),
        ))
        .first(conn)
        .optional()?;
    let Some((key_id, role, agency_id, hash, revoked_at, active, paid_by)) = row else {
        return Ok(None);
    };
    if revoked_at.is_some() || !keys::matches(presented, &hash) {
        return Ok(None);
    }
    match (KeyRole::parse(&role), agency_id, active, paid_by) {
        (Some(KeyRole::Operator), ..) => Ok(Some(KeyOwner::Operator { key_id })),
        (
            Some(KeyRole::Agency),
            Some(agency_id),
            Some(agency_active),
            Some(default_postage_paid_by),
        ) => Ok(Some(KeyOwner::Agency {
            key_id,
            agency_id,
            agency_active,
            default_postage_paid_by,
        })),
        _ => Ok(None),
    }
}
