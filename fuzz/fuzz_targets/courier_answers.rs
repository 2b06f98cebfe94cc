//! What a courier answers (prices, order lookups, cancellations): any JSON is read into
//! results or errors, never a panic.
#![no_main]

use civicpost::couriers::viettelpost::transformers::{
    CreateOrderData, Envelope, LoginData, PriceItem, ProvinceItem, WardItem,
};
use civicpost::couriers::vnpost::transformers as vnpost;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|body: &[u8]| {
    // Viettel Post: every answer is an envelope around the operation's data.
    let _ = serde_json::from_slice::<Envelope<LoginData>>(body);
    let _ = serde_json::from_slice::<Envelope<Vec<PriceItem>>>(body);
    let _ = serde_json::from_slice::<Envelope<CreateOrderData>>(body);
    let _ = serde_json::from_slice::<Envelope<Vec<ProvinceItem>>>(body);
    let _ = serde_json::from_slice::<Envelope<Vec<WardItem>>>(body);
    let Ok(value) = serde_json::from_slice::<serde_json::Value>(body) else {
        return;
    };
    let _ = vnpost::parse_charges(&value);
    let _ = vnpost::orders_from_lookup(&value);
    let _ = vnpost::cancel_outcome(&value);
    let _ = vnpost::unwrap_record(&value);
});
