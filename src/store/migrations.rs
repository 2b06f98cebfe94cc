//! Per-backend migrations, embedded in the binary: each backend's DDL is a syntax error on
//! the other, so `migrations/postgres` and `migrations/sqlite` carry the same versions.

use diesel::connection::SimpleConnection;
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

use super::{DbConnection, StoreError};

const POSTGRES: EmbeddedMigrations = embed_migrations!("migrations/postgres");
const SQLITE: EmbeddedMigrations = embed_migrations!("migrations/sqlite");

/// Any fixed number; replicas starting together queue on it instead of racing.
const MIGRATION_LOCK_ID: i64 = 0x6369_7669_6370_6f73;

/// Applies pending migrations and returns the versions applied (empty when up to date).
pub fn run_pending(conn: &mut DbConnection) -> Result<Vec<String>, StoreError> {
    let failed = |e: Box<dyn std::error::Error + Send + Sync>| StoreError::Migration(e.to_string());
    match conn {
        DbConnection::Postgresql(pg) => {
            pg.batch_execute(&format!("SELECT pg_advisory_lock({MIGRATION_LOCK_ID})"))?;
            let applied = pg.run_pending_migrations(POSTGRES).map(versions);
            pg.batch_execute(&format!("SELECT pg_advisory_unlock({MIGRATION_LOCK_ID})"))?;
            applied.map_err(failed)
        }
        DbConnection::Sqlite(lite) => lite
            .run_pending_migrations(SQLITE)
            .map(versions)
            .map_err(failed),
    }
}

fn versions(applied: Vec<diesel::migration::MigrationVersion<'_>>) -> Vec<String> {
    applied.iter().map(|v| v.to_string()).collect()
}
