//! Address locators as agencies send them (JSON of `AddressLocator`): each resolves to one
//! ward or to field errors, never a panic, and every error names a field under the path.
#![no_main]

use std::sync::OnceLock;

use civicpost::units::resolve::{AddressLocator, resolve};
use civicpost::units::{FixtureSource, Units, UnitsData};
use libfuzzer_sys::fuzz_target;

fn units() -> &'static Units {
    static UNITS: OnceLock<Units> = OnceLock::new();
    UNITS.get_or_init(|| Units::new(UnitsData::load(&FixtureSource::Embedded).expect("fixtures")))
}

fuzz_target!(|body: &[u8]| {
    let locator = match serde_json::from_slice::<AddressLocator>(body) {
        Ok(locator) => locator,
        // Not JSON: take the bytes as a ward name in Hà Nội, the free-text path.
        Err(_) => AddressLocator {
            ward_name: Some(String::from_utf8_lossy(body).into_owned()),
            province_code: Some("01".to_owned()),
            ..AddressLocator::default()
        },
    };
    match resolve(units(), &locator, "address") {
        Ok(found) => assert!(units().ward(&found.ward.code).is_some()),
        Err(errors) => {
            assert!(!errors.is_empty());
            for e in errors {
                assert!(e.field.starts_with("address"), "{}", e.field);
            }
        }
    }
});
