//! civicpost: carries the results of administrative procedures from Vietnam's one-stop shops
//! to citizens' homes. See README.md and ../shared/DESIGN.md.
//!
//! Data flows one way: `http` → `domain` → `store` / `jobs` → adapters.

pub mod app;
pub mod cache;
pub mod callbacks;
pub mod cli;
pub mod config;
pub mod couriers;
pub mod domain;
pub mod http;
pub mod intake;
pub mod jobs;
pub mod notify;
pub mod reports;
pub mod routing;
pub mod store;
pub mod telemetry;
pub mod tracking;
pub mod units;
