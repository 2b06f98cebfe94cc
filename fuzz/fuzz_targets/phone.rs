//! Phone numbers as citizens and agencies write them: a number that parses reads back to
//! itself from both of its printed forms.
#![no_main]

use civicpost::domain::phone::MobileNumber;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|raw: &str| {
    if let Ok(number) = MobileNumber::parse(raw) {
        assert_eq!(number.e164().len(), 12, "{raw:?}");
        assert_eq!(MobileNumber::parse(number.e164()).as_ref(), Ok(&number));
        assert_eq!(
            MobileNumber::parse(&number.national()).as_ref(),
            Ok(&number)
        );
    }
});
