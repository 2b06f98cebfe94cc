//! Identifiers and clock helpers shared by every table.

use chrono::{NaiveDateTime, SubsecRound, Utc};

/// A new UUID v7 (time-ordered, so primary-key indexes stay append-mostly), as text.
pub fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

/// Now in UTC, truncated to microseconds: what both backends store, so a value read back
/// equals the value written.
pub fn now_utc() -> NaiveDateTime {
    Utc::now().naive_utc().trunc_subsecs(6)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_time_ordered_v7() {
        let a = new_id();
        let b = new_id();
        assert!(a < b, "{a} then {b}");
        let parsed = uuid::Uuid::parse_str(&a).map(|u| u.get_version_num());
        assert_eq!(parsed.ok(), Some(7));
    }
}
