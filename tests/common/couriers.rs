//! Courier set-up for dispatch tests: unit mappings from the mounted simulators, an agency
//! with a return address, deliveries, and a worker to run the outbox.

use std::time::Duration;

use civicpost::jobs::{Worker, WorkerOptions, handlers};
use civicpost::store::agencies::{self, NewAgency};
use civicpost::store::deliveries::DeliveryRow;
use civicpost::store::schema::deliveries;
use diesel::prelude::*;
use serde_json::{Value, json};

use super::TestApp;

/// Settings for dispatch tests: quick retries, a quick breaker, short courier timeouts, and
/// simulators that move parcels only when told.
pub fn dispatch_settings() -> Value {
    json!({
        "jobs": { "backoff_base_ms": 1, "backoff_cap_ms": 1 },
        "couriers": {
            "breaker": { "failure_threshold": 2, "open_secs": 1 },
            "viettelpost": { "timeout_ms": 700 },
            "vnpost": { "timeout_ms": 700 },
            "simulator": { "autopilot": false },
        },
    })
}

impl TestApp {
    /// The built-in Viettel Post simulator (the test apps run in sandbox mode).
    pub fn viettel_sim(&self) -> &civicpost::couriers::viettelpost::sim::SimState {
        &self
            .state
            .simulators
            .as_ref()
            .expect("simulators")
            .viettelpost
    }

    /// Maps the official wards to both simulators' address ids (`couriers sync-units`).
    pub async fn map_courier_units(&self) {
        for (courier, outcome) in civicpost::couriers::sync_units::sync_if_empty(&self.state).await
        {
            outcome.unwrap_or_else(|e| panic!("{} units: {e}", courier.as_str()));
        }
    }

    /// An agency in Phường Ba Đình (Hà Nội) with a complete return address; its key.
    pub fn sending_agency_key(&self, code: &str) -> String {
        self.state
            .db
            .run_blocking(|conn| {
                let new = NewAgency {
                    code: code.into(),
                    name: "Trung tâm Phục vụ hành chính công Hà Nội".into(),
                    sender_ward_code: Some("00004".into()),
                    sender_line: Some("1 Hoàng Hoa Thám".into()),
                    sender_phone: Some("024 3825 1234".into()),
                    level: Some("province".into()),
                };
                agencies::create(conn, &new).map(|(_, key)| key)
            })
            .expect("agency")
    }

    /// Enqueues a delivery to `ward_code`; its id.
    pub async fn enqueue_delivery(&self, key: &str, dossier: &str, ward_code: &str) -> String {
        let body = json!({
            "dossier_code": dossier,
            "procedure_name": "Cấp giấy phép xây dựng",
            "recipient": {
                "name": "Nguyễn Văn An",
                "phone": "0912 345 678",
                "address": { "line": "Số 12 ngõ 3", "ward_code": ward_code }
            },
            "parcel": { "weight_grams": 150 }
        });
        let (status, answer) = self
            .send_json(
                reqwest::Method::POST,
                "/v1/deliveries",
                Some(key),
                Some(body),
            )
            .await;
        assert_eq!(status, 201, "{answer}");
        answer["id"].as_str().expect("id").to_owned()
    }

    pub fn delivery(&self, id: &str) -> DeliveryRow {
        let id = id.to_owned();
        self.state
            .db
            .run_blocking(move |c| {
                deliveries::table
                    .find(&id)
                    .select(DeliveryRow::as_select())
                    .first(c)
                    .map_err(civicpost::store::StoreError::from)
            })
            .expect("delivery")
    }

    /// The states of a delivery's applied events, oldest first.
    pub fn delivery_states(&self, id: &str) -> Vec<String> {
        let id = id.to_owned();
        self.state
            .db
            .run_blocking(move |c| civicpost::store::deliveries::events(c, &id))
            .expect("events")
            .into_iter()
            .filter(|e| e.applied)
            .map(|e| e.state)
            .collect()
    }

    /// A worker over this app's state, with the service's handlers.
    pub fn worker(&self) -> Worker {
        Worker::new(
            self.state.db.clone(),
            self.state.clone(),
            handlers::registry(),
            WorkerOptions {
                poll_interval: Duration::from_millis(20),
                ..WorkerOptions::from_settings(&self.state.settings.jobs)
            },
        )
    }

    /// Runs jobs until none of the service's kinds is open (pending or running), or
    /// `patience` is over.
    pub async fn drain_jobs(&self, patience: Duration) {
        let worker = self.worker();
        let deadline = std::time::Instant::now() + patience;
        while self.open_jobs() > 0 && std::time::Instant::now() < deadline {
            if worker.run_once().await.expect("worker pass") == 0 {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
    }

    /// Jobs of the kinds this service runs that are still pending or running.
    pub fn open_jobs(&self) -> i64 {
        use civicpost::store::schema::outbox_jobs as j;
        let kinds: Vec<&str> = handlers::registry()
            .kinds()
            .into_iter()
            .map(|k| k.as_str())
            .collect();
        self.state
            .db
            .run_blocking(move |c| {
                j::table
                    .filter(j::status.eq_any(["pending", "running"]))
                    .filter(j::kind.eq_any(kinds))
                    .count()
                    .get_result(c)
                    .map_err(civicpost::store::StoreError::from)
            })
            .expect("open jobs")
    }

    /// Posts to a simulator's control endpoint.
    pub async fn sim_control(&self, courier: &str, path: &str, body: Value) {
        let res = self
            .client
            .post(self.url(&format!("/sim/{courier}/_control/{path}")))
            .json(&body)
            .send()
            .await
            .expect("control call");
        assert!(
            res.status().is_success(),
            "control {path}: {}",
            res.status()
        );
    }
}
