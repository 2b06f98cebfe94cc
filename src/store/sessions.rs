//! Dashboard sessions. The browser holds a random token; we keep its SHA-256, the operator
//! key it was opened with and when it ends. Revoking the key ends its sessions.

use chrono::TimeDelta;
use diesel::prelude::*;
use rand::RngCore;
use sha2::{Digest, Sha256};

use super::schema::{api_keys, operator_sessions};
use super::{DbConnection, StoreError};
use crate::domain::ids::now_utc;

fn hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Opens a session for an operator key; returns the token for the cookie. Expired sessions
/// are swept on the way.
pub fn open(conn: &mut DbConnection, api_key_id: &str, hours: u32) -> Result<String, StoreError> {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    let token = hex::encode(bytes);
    let now = now_utc();
    diesel::delete(operator_sessions::table.filter(operator_sessions::expires_at.lt(now)))
        .execute(conn)?;
    diesel::insert_into(operator_sessions::table)
        .values((
            operator_sessions::token_hash.eq(hash(&token)),
            operator_sessions::api_key_id.eq(api_key_id),
            operator_sessions::created_at.eq(now),
            operator_sessions::expires_at.eq(now + TimeDelta::hours(i64::from(hours))),
        ))
        .execute(conn)?;
    Ok(token)
}

/// The operator key behind a live session whose key is not revoked.
pub fn find(conn: &mut DbConnection, token: &str) -> Result<Option<String>, StoreError> {
    Ok(operator_sessions::table
        .inner_join(api_keys::table)
        .filter(operator_sessions::token_hash.eq(hash(token)))
        .filter(operator_sessions::expires_at.gt(now_utc()))
        .filter(api_keys::revoked_at.is_null())
        .filter(api_keys::role.eq("operator"))
        .select(operator_sessions::api_key_id)
        .first(conn)
        .optional()?)
}

pub fn close(conn: &mut DbConnection, token: &str) -> Result<(), StoreError> {
    diesel::delete(operator_sessions::table.find(hash(token))).execute(conn)?;
    Ok(())
}
