//! API keys: what they look like, how they are made and checked.
//!
//! A key is `cp<role>_<prefix>_<secret>`. The prefix is public and finds the row; only a
//! SHA-256 of the whole key is stored, and the check compares hashes in constant time.

use rand::Rng;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

const ALPHABET: &[u8] = b"abcdefghijkmnopqrstuvwxyz23456789"; // no l, 0, 1: keys get read aloud too
const PREFIX_LEN: usize = 8;
const SECRET_LEN: usize = 32; // 32 symbols of a 33-letter alphabet: over 160 bits

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyRole {
    Agency,
    Operator,
}

impl KeyRole {
    pub fn as_str(self) -> &'static str {
        match self {
            KeyRole::Agency => "agency",
            KeyRole::Operator => "operator",
        }
    }

    fn tag(self) -> &'static str {
        match self {
            KeyRole::Agency => "cpa",
            KeyRole::Operator => "cpo",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "agency" => Some(KeyRole::Agency),
            "operator" => Some(KeyRole::Operator),
            _ => None,
        }
    }
}

/// A freshly made key. `plaintext` is shown to the user once and never stored.
pub struct NewKey {
    pub plaintext: String,
    pub prefix: String,
    pub hash: String,
}

pub fn generate(role: KeyRole) -> NewKey {
    let mut rng = rand::rng();
    let mut pick = |n: usize| -> String {
        (0..n)
            .map(|_| char::from(ALPHABET[rng.random_range(0..ALPHABET.len())]))
            .collect()
    };
    let prefix = pick(PREFIX_LEN);
    let secret = pick(SECRET_LEN);
    let plaintext = format!("{}_{prefix}_{secret}", role.tag());
    let hash = hash_key(&plaintext);
    NewKey {
        plaintext,
        prefix,
        hash,
    }
}

/// The public prefix of a presented key, if it has the right shape.
pub fn prefix_of(presented: &str) -> Option<&str> {
    let mut parts = presented.splitn(3, '_');
    let (tag, prefix, secret) = (parts.next()?, parts.next()?, parts.next()?);
    let well_formed = matches!(tag, "cpa" | "cpo")
        && prefix.len() == PREFIX_LEN
        && secret.len() == SECRET_LEN
        && prefix
            .bytes()
            .chain(secret.bytes())
            .all(|b| ALPHABET.contains(&b));
    well_formed.then_some(prefix)
}

pub fn hash_key(plaintext: &str) -> String {
    hex::encode(Sha256::digest(plaintext.as_bytes()))
}

/// Constant-time comparison of a presented key against a stored hash.
pub fn matches(presented: &str, stored_hash: &str) -> bool {
    let presented_hash = hash_key(presented);
    presented_hash
        .as_bytes()
        .ct_eq(stored_hash.as_bytes())
        .into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_keys_verify_and_others_do_not() {
        let key = generate(KeyRole::Agency);
        assert!(key.plaintext.starts_with("cpa_"));
        assert_eq!(prefix_of(&key.plaintext), Some(key.prefix.as_str()));
        assert!(matches(&key.plaintext, &key.hash));
        let other = generate(KeyRole::Agency);
        assert!(!matches(&other.plaintext, &key.hash));
        assert_ne!(key.prefix, other.prefix);
    }

    #[test]
    fn malformed_keys_have_no_prefix() {
        for bad in [
            "",
            "cpa_",
            "cpa_abc_def",
            "xyz_abcdefgh_abcdefghabcdefghabcdefghabcdefgh",
            "cpa_ABCDEFGH_abcdefghabcdefghabcdefghabcdefgh",
        ] {
            assert_eq!(prefix_of(bad), None, "{bad}");
        }
    }
}
