//! VNPost webhook signatures: SHA256withRSA (PKCS#1 v1.5), base64-encoded.
//!
//! Current API (couriers.md §2A): the signed text is `"MYVNP" + sendDate + itemCode + status`,
//! where itemCode and status come from the **first** record of `data`. Legacy API (§2B): the
//! signed text is `Data + SendDate`.

use base64::Engine;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use rsa::pkcs1::DecodeRsaPublicKey;
use rsa::pkcs1v15::{Signature, SigningKey, VerifyingKey};
use rsa::pkcs8::DecodePublicKey;
use rsa::sha2::Sha256;
use rsa::signature::{SignatureEncoding, Signer, Verifier};
use rsa::{RsaPrivateKey, RsaPublicKey};

/// The text the current API signs.
pub fn current_signed_text(send_date: &str, item_code: &str, status: &str) -> String {
    format!("MYVNP{send_date}{item_code}{status}")
}

/// Reads a public key in SPKI (`PUBLIC KEY`) or PKCS#1 (`RSA PUBLIC KEY`) PEM: VNPost
/// publishes the former, some clients store the latter.
pub fn public_key_from_pem(pem: &str) -> Result<RsaPublicKey, String> {
    let pem = pem.trim();
    RsaPublicKey::from_public_key_pem(pem)
        .or_else(|_| RsaPublicKey::from_pkcs1_pem(pem))
        .map_err(|e| format!("webhook public key unreadable: {e}"))
}

/// Checks a base64 signature over `text`. Any decoding problem counts as a bad signature.
pub fn verify(key: &RsaPublicKey, text: &str, signature_b64: &str) -> bool {
    let Some(raw) = base64_decode(signature_b64) else {
        return false;
    };
    let Ok(signature) = Signature::try_from(raw.as_slice()) else {
        return false;
    };
    VerifyingKey::<Sha256>::new(key.clone())
        .verify(text.as_bytes(), &signature)
        .is_ok()
}

/// Signs `text` (the simulator's side).
pub fn sign(key: &RsaPrivateKey, text: &str) -> String {
    let signature = SigningKey::<Sha256>::new(key.clone()).sign(text.as_bytes());
    base64_encode(&signature.to_vec())
}

/// Standard alphabet, padding optional on input: senders differ.
const LENIENT: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// Standard base64 with padding.
pub fn base64_encode(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// Decodes base64, ignoring whitespace and accepting the URL-safe `-`/`_` too, since some
/// senders use that alphabet. `None` on anything else.
pub fn base64_decode(text: &str) -> Option<Vec<u8>> {
    let cleaned: String = text
        .chars()
        .filter(|c| !c.is_whitespace())
        .map(|c| match c {
            '-' => '+',
            '_' => '/',
            other => other,
        })
        .collect();
    LENIENT.decode(cleaned).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_round_trips() {
        for len in 0..10 {
            let data: Vec<u8> = (0..len).map(|i| (i * 37 + 5) as u8).collect();
            let encoded = base64_encode(&data);
            assert_eq!(base64_decode(&encoded).unwrap(), data);
        }
        assert_eq!(base64_encode(b"Man"), "TWFu");
        assert_eq!(base64_encode(b"Ma"), "TWE=");
        assert_eq!(base64_decode("TQ==").unwrap(), b"M");
        assert!(base64_decode("T*Q").is_none());
    }

    #[test]
    fn sign_then_verify_and_reject_tampering() {
        let key = RsaPrivateKey::new(&mut rsa::rand_core::OsRng, 1024).unwrap();
        let public = key.to_public_key();
        let text = current_signed_text("2026-11-22T10:00:00", "EL123456785VN", "14");
        let sig = sign(&key, &text);
        assert!(verify(&public, &text, &sig));
        assert!(!verify(&public, &format!("{text}x"), &sig));
        assert!(!verify(&public, &text, "not base64 !"));
    }
}
