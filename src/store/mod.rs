//! The database: one runtime connection type over PostgreSQL and SQLite, a pool, and the
//! queries each part of the service needs (one file per area).

/// Rows per multi-row INSERT: well under PostgreSQL's 65,535 bind parameters.
pub(crate) const INSERT_CHUNK: usize = 500;

/// Runs `$insert` (an insert statement built from `$rows`) with the backend's own
/// connection: PostgreSQL takes a whole chunk per statement; diesel's MultiConnection cannot
/// build a multi-row insert, and its SQLite backend has no multi-row upsert, so there each
/// row is its own statement (cheap inside one transaction). Defined before the modules below,
/// which see it by textual scope.
macro_rules! insert_rows {
    ($conn:expr, $rows:expr, |$values:ident| $insert:expr) => {
        for chunk in $rows.chunks($crate::store::INSERT_CHUNK) {
            match $conn {
                $crate::store::DbConnection::Postgresql(c) => {
                    let $values = chunk;
                    $insert.execute(c)?;
                }
                $crate::store::DbConnection::Sqlite(c) => {
                    for $values in chunk {
                        $insert.execute(c)?;
                    }
                }
            }
        }
    };
}

pub mod agencies;
pub mod audit;
pub mod callbacks;
mod conn;
pub mod courier_events;
pub mod courier_units;
pub mod deliveries;
pub mod dispatch;
pub mod failures;
pub mod followups;
pub mod gauges;
pub mod inbox;
pub mod inbox_writer;
pub mod jobs;
pub mod migrations;
pub mod notifications;
pub mod pull;
pub mod reports;
pub mod retention;
pub mod routing;
pub mod schema;
pub mod sessions;
pub mod tracking;
pub mod units;

pub use conn::{Backend, DatabaseUrl, Db, DbConnection, StoreError, redact_url};
