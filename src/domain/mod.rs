//! Pure types and rules: no I/O, no database, no HTTP.

pub mod ids;
pub mod keys;
pub mod names;
pub mod validation;
