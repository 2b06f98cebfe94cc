//! A VNPost webhook body, current or legacy shape (couriers.md §2.4): parsing and the
//! signature check take any bytes without panicking, and the hand-written base64 decoder
//! reads back whatever its encoder wrote.
#![no_main]

use std::sync::OnceLock;

use civicpost::couriers::vnpost::{signature, webhook};
use libfuzzer_sys::fuzz_target;
use rsa::RsaPublicKey;

/// A test key made at start: the check must refuse, not crash, whatever the signature.
fn key() -> &'static RsaPublicKey {
    static KEY: OnceLock<RsaPublicKey> = OnceLock::new();
    KEY.get_or_init(|| {
        let private = rsa::RsaPrivateKey::new(&mut rsa::rand_core::OsRng, 1024).expect("key");
        private.to_public_key()
    })
}

fuzz_target!(|body: &[u8]| {
    let _ = webhook::parse(body);
    assert!(
        webhook::verify(key(), body).is_err(),
        "nothing the fuzzer writes carries this key's signature"
    );
    if let Ok(text) = std::str::from_utf8(body) {
        let _ = signature::base64_decode(text);
        let _ = civicpost::couriers::vnpost::transformers::parse_time(text);
    }
    let encoded = signature::base64_encode(body);
    assert_eq!(signature::base64_decode(&encoded).as_deref(), Some(body));
});
