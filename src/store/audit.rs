//! The audit log: who did what to which record, and when. Operator actions on the failure
//! queue, and every retention run, write here in the transaction that does the work, so a
//! record exists exactly when the change does. `detail` is JSON and never personal data.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::Serialize;

use super::schema::audit_log;
use super::{DbConnection, StoreError};
use crate::domain::ids::{new_id, now_utc};

/// One thing that happened, before it is written.
pub struct AuditEntry<'a> {
    /// `operator:<key prefix>`, `cli` or `system:<job>`.
    pub actor: &'a str,
    pub action: &'a str,
    pub subject_kind: Option<&'a str>,
    pub subject_id: Option<&'a str>,
    pub detail: serde_json::Value,
}

#[derive(Debug, Clone, Queryable, Selectable, Serialize)]
#[diesel(table_name = audit_log)]
pub struct AuditRow {
    pub id: String,
    pub at: NaiveDateTime,
    pub actor: String,
    pub action: String,
    pub subject_kind: Option<String>,
    pub subject_id: Option<String>,
    pub detail: String,
}

/// Appends one entry; call it inside the transaction that makes the change.
pub fn record(conn: &mut DbConnection, entry: &AuditEntry<'_>) -> Result<String, StoreError> {
    let id = new_id();
    diesel::insert_into(audit_log::table)
        .values((
            audit_log::id.eq(&id),
            audit_log::at.eq(now_utc()),
            audit_log::actor.eq(entry.actor),
            audit_log::action.eq(entry.action),
            audit_log::subject_kind.eq(entry.subject_kind),
            audit_log::subject_id.eq(entry.subject_id),
            audit_log::detail.eq(entry.detail.to_string()),
        ))
        .execute(conn)?;
    Ok(id)
}

/// The newest entries first, optionally of one action.
pub fn recent(
    conn: &mut DbConnection,
    action: Option<&str>,
    limit: i64,
) -> Result<Vec<AuditRow>, StoreError> {
    let mut query = audit_log::table
        .order((audit_log::at.desc(), audit_log::id.desc()))
        .limit(limit)
        .select(AuditRow::as_select())
        .into_boxed();
    if let Some(action) = action {
        query = query.filter(audit_log::action.eq(action.to_owned()));
    }
    Ok(query.load(conn)?)
}
