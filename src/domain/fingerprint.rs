//! Fingerprints of requests, for idempotent replays: equal requests give equal fingerprints,
//! and two fingerprints' field maps name exactly what differs, without storing the values
//! (which are personal data) a second time.

use std::collections::BTreeMap;

use sha2::{Digest, Sha256};

/// Every leaf of `value` as `path → short hash of its JSON`, e.g. `recipient.phone → 9f3a…`.
/// Nulls are left out, so an omitted optional field equals an explicit null.
pub fn field_hashes(value: &serde_json::Value) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    walk(value, String::new(), &mut out);
    out
}

fn walk(value: &serde_json::Value, path: String, out: &mut BTreeMap<String, String>) {
    match value {
        serde_json::Value::Null => {}
        serde_json::Value::Object(map) => {
            for (k, v) in map {
                let child = if path.is_empty() {
                    k.clone()
                } else {
                    format!("{path}.{k}")
                };
                walk(v, child, out);
            }
        }
        leaf => {
            let digest = Sha256::digest(leaf.to_string().as_bytes());
            out.insert(path, hex::encode(&digest[..8]));
        }
    }
}

/// One hash over the whole map (its order is fixed by the `BTreeMap`).
pub fn fingerprint(fields: &BTreeMap<String, String>) -> String {
    let mut hasher = Sha256::new();
    for (k, v) in fields {
        hasher.update(k.as_bytes());
        hasher.update(b"=");
        hasher.update(v.as_bytes());
        hasher.update(b"\n");
    }
    hex::encode(hasher.finalize())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn equal_requests_equal_fingerprints_and_differences_are_named() {
        let a = field_hashes(
            &json!({"dossier_code": "X-1", "recipient": {"name": "An", "email": null}}),
        );
        let b = field_hashes(&json!({"recipient": {"name": "An"}, "dossier_code": "X-1"}));
        assert_eq!(fingerprint(&a), fingerprint(&b));
        let c = field_hashes(&json!({"dossier_code": "X-1", "recipient": {"name": "Bình"}}));
        assert_ne!(fingerprint(&a), fingerprint(&c));
        let differing: Vec<_> = a.keys().filter(|k| a.get(*k) != c.get(*k)).collect();
        assert_eq!(differing, ["recipient.name"]);
    }
}
