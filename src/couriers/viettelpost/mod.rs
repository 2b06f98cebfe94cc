//! Viettel Post adapter (`/v2` partner API, couriers.md §1).

pub mod transformers;
