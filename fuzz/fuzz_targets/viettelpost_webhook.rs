//! A Viettel Post webhook body (couriers.md §1.4): any bytes parse to events or to a
//! `Malformed` error, never a panic.
#![no_main]

use civicpost::couriers::viettelpost::transformers;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|body: &[u8]| {
    if let Ok(events) = transformers::parse_webhook(body) {
        assert_eq!(events.len(), 1, "one status per Viettel Post call");
    }
    if let Ok(text) = std::str::from_utf8(body) {
        let _ = transformers::parse_status_date(text);
        let _ = transformers::parse_hours(Some(text));
    }
});
