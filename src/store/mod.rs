//! The database: one runtime connection type over PostgreSQL and SQLite, a pool, and the
//! queries each part of the service needs (one file per area).

pub mod agencies;
mod conn;
pub mod courier_events;
pub mod courier_units;
pub mod deliveries;
pub mod dispatch;
pub mod followups;
pub mod inbox;
pub mod jobs;
pub mod migrations;
pub mod routing;
pub mod schema;
pub mod units;

pub use conn::{Backend, DatabaseUrl, Db, DbConnection, StoreError, redact_url};
