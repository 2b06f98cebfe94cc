//! API keys for tests, made through the store as the CLI makes them, and authenticated
//! JSON requests.

use civicpost::store::agencies::{self, NewAgency};

use super::TestApp;

/// `field:code` of each entry of a problem's `errors[]`, sorted, for exact comparisons.
pub fn problem_fields(problem: &serde_json::Value) -> Vec<String> {
    let mut fields: Vec<String> = problem["errors"]
        .as_array()
        .map(|errors| {
            errors
                .iter()
                .map(|e| {
                    let s = |k: &str| e[k].as_str().unwrap_or_default().to_owned();
                    format!("{}:{}", s("field"), s("code"))
                })
                .collect()
        })
        .unwrap_or_default();
    fields.sort();
    fields
}

impl TestApp {
    /// A new operator key.
    pub fn operator_key(&self) -> String {
        self.state
            .db
            .run_blocking(|conn| agencies::create_operator_key(conn, Some("test")))
            .expect("operator key")
    }

    /// A key of the agency with this code, creating the agency when it does not exist yet
    /// (an existing agency gets a new key and its previous keys are revoked).
    pub fn agency_key(&self, code: &str) -> String {
        self.state
            .db
            .run_blocking(|conn| match agencies::find_by_code(conn, code)? {
                Some(_) => agencies::rotate_key(conn, code),
                None => {
                    let new = NewAgency {
                        code: code.into(),
                        name: format!("Trung tâm Phục vụ hành chính công ({code})"),
                        ..NewAgency::default()
                    };
                    agencies::create(conn, &new).map(|(_, key)| key)
                }
            })
            .expect("agency key")
    }

    /// Sends `body` (when given) as JSON with `key` as the bearer token; returns the status
    /// and the JSON answer (`Null` when the answer is not JSON).
    pub async fn send_json(
        &self,
        method: reqwest::Method,
        path: &str,
        key: Option<&str>,
        body: Option<serde_json::Value>,
    ) -> (u16, serde_json::Value) {
        let mut request = self.client.request(method, self.url(path));
        if let Some(key) = key {
            request = request.bearer_auth(key);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        let res = request.send().await.expect("request");
        let status = res.status().as_u16();
        (status, res.json().await.unwrap_or(serde_json::Value::Null))
    }

    pub async fn get_as(&self, path: &str, key: &str) -> (u16, serde_json::Value) {
        self.send_json(reqwest::Method::GET, path, Some(key), None)
            .await
    }

    pub async fn post_as(
        &self,
        path: &str,
        key: &str,
        body: serde_json::Value,
    ) -> (u16, serde_json::Value) {
        self.send_json(reqwest::Method::POST, path, Some(key), Some(body))
            .await
    }

    pub async fn patch_as(
        &self,
        path: &str,
        key: &str,
        body: serde_json::Value,
    ) -> (u16, serde_json::Value) {
        self.send_json(reqwest::Method::PATCH, path, Some(key), Some(body))
            .await
    }
}
