//! Tracking codes as typed: a code that parses reads back to itself from its display form,
//! and any single-character change of it is refused.
#![no_main]

use civicpost::domain::tracking::TrackingCode;
use libfuzzer_sys::fuzz_target;

const ALPHABET: &str = "23456789ABCDEFGHJKMNPQRTUVWXY";

fuzz_target!(|raw: &str| {
    let Ok(code) = TrackingCode::parse(raw) else {
        return;
    };
    assert_eq!(TrackingCode::parse(&code.display()).as_ref(), Ok(&code));
    assert_eq!(TrackingCode::parse(code.as_str()).as_ref(), Ok(&code));
    let chars: Vec<char> = code.as_str().chars().collect();
    for (i, original) in chars.iter().enumerate() {
        for other in ALPHABET.chars().filter(|c| c != original) {
            let mut typo = chars.clone();
            typo[i] = other;
            let typo: String = typo.into_iter().collect();
            assert!(
                TrackingCode::parse(&typo).is_err(),
                "{typo} passes as {code:?}"
            );
        }
    }
});
