//! VNPost webhook signatures: SHA256withRSA (PKCS#1 v1.5), base64-encoded.
//!
//! Current API (couriers.md §2A): the signed text is `"MYVNP" + sendDate + itemCode + status`,
//! where itemCode and status come from the **first** record of `data`. Legacy API (§2B): the
//! signed text is `Data + SendDate`.

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

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Standard base64 with padding. Written here because the signature is the only base64 in
/// this module and the RSA crate does not re-export an encoder.
pub fn base64_encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Decodes standard base64 (padding optional, whitespace ignored; `-`/`_` accepted too, since
/// some senders use the URL-safe alphabet). `None` on any other character.
pub fn base64_decode(text: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(text.len() * 3 / 4);
    let mut acc: u32 = 0;
    let mut bits = 0;
    for c in text.bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' | b'-' => 62,
            b'/' | b'_' => 63,
            b'=' | b' ' | b'\n' | b'\r' | b'\t' => continue,
            _ => return None,
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    Some(out)
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
