//! Pure types and rules: no I/O, no database, no HTTP.

pub mod courier;
pub mod delivery;
pub mod fingerprint;
pub mod ids;
pub mod jobs;
pub mod keys;
pub mod masking;
pub mod names;
pub mod notification;
pub mod phone;
pub mod redact;
pub mod report;
pub mod state;
pub mod tracking;
pub mod transitions;
pub mod validation;
