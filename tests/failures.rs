//! The failure queue and its actions through the operator API, each recorded in the audit
//! log; on SQLite and on PostgreSQL (`CIVICPOST_TEST_DATABASE`).

mod common;
#[path = "reports/fixture.rs"]
mod fixture;

use civicpost::domain::ids::{new_id, now_utc};
use civicpost::domain::jobs::{JobKind, NewJob};
use civicpost::store::schema::{agencies, delivery_events, notifications, outbox_jobs};
use civicpost::store::{agencies as agency_store, jobs};
use common::TestApp;
use diesel::prelude::*;
use serde_json::{Value, json};

struct Seeded {
    failed_dispatch: String,
    other_failed_dispatch: String,
    unknown_event: String,
    parked_job: String,
    agency_id: String,
    notification: String,
}

/// One of each kind of failure.
async fn seed(app: &TestApp) -> Seeded {
    app.agency_key("Q1");
    app.query(|conn| {
        let agency = agency_store::find_by_code(conn, "Q1")?.expect("agency");
        let failed = fixture::insert_delivery(conn, 1, &agency.id, "dispatch_failed")?;
        let other = fixture::insert_delivery(conn, 2, &agency.id, "dispatch_failed")?;
        let moving = fixture::insert_delivery(conn, 3, &agency.id, "in_transit")?;
        // The failed dispatch's own parked job: shown once, as the delivery.
        let job = jobs::enqueue(conn, &NewJob::dispatch(&failed))?;
        let callback = jobs::enqueue(
            conn,
            &NewJob {
                kind: JobKind::Callback,
                delivery_id: Some(moving.clone()),
                payload: json!({"delivery_id": moving}),
                run_at: None,
            },
        )?;
        diesel::update(outbox_jobs::table.filter(outbox_jobs::id.eq_any([&job, &callback])))
            .set((
                outbox_jobs::status.eq("parked"),
                outbox_jobs::last_error.eq("HTTP 500 from the agency"),
            ))
            .execute(conn)?;
        let event = new_id();
        diesel::insert_into(delivery_events::table)
            .values((
                delivery_events::id.eq(&event),
                delivery_events::delivery_id.eq(&moving),
                delivery_events::state.eq("in_transit"),
                delivery_events::applied.eq(false),
                delivery_events::source.eq("courier"),
                delivery_events::courier.eq("vnpost"),
                delivery_events::raw_code.eq("999"),
                delivery_events::raw_text.eq("Trạng thái mới"),
                delivery_events::occurred_at.eq(now_utc()),
                delivery_events::recorded_at.eq(now_utc()),
                delivery_events::outcome.eq("unknown_code"),
            ))
            .execute(conn)?;
        diesel::update(agencies::table.find(&agency.id))
            .set((
                agencies::callback_url.eq("https://agency.example/hook"),
                agencies::callback_disabled_at.eq(now_utc()),
            ))
            .execute(conn)?;
        let notification = new_id();
        diesel::insert_into(notifications::table)
            .values((
                notifications::id.eq(&notification),
                notifications::delivery_id.eq(&moving),
                notifications::state.eq("in_transit"),
                notifications::channel.eq("sms"),
                notifications::status.eq("failed"),
                notifications::attempts.eq(12),
                notifications::last_error.eq("gateway: invalid number"),
                notifications::created_at.eq(now_utc()),
            ))
            .execute(conn)?;
        Ok(Seeded {
            failed_dispatch: failed,
            other_failed_dispatch: other,
            unknown_event: event,
            parked_job: callback,
            agency_id: agency.id,
            notification,
        })
    })
    .await
}

async fn queue(app: &TestApp, key: &str) -> Vec<Value> {
    let (status, body) = app.get_as("/v1/admin/failures", key).await;
    assert_eq!(status, 200, "{body}");
    body["failures"].as_array().cloned().unwrap_or_default()
}

fn kinds(q: &[Value]) -> Vec<String> {
    let mut k: Vec<String> = q
        .iter()
        .map(|f| f["kind"].as_str().unwrap_or("").to_owned())
        .collect();
    k.sort();
    k
}

#[tokio::test]
async fn every_kind_of_failure_is_listed_once_with_its_actions() {
    let app = TestApp::spawn_without_sandbox().await;
    let s = seed(&app).await;
    let op = app.operator_key();
    let q = queue(&app, &op).await;
    assert_eq!(
        kinds(&q),
        [
            "callback_disabled",
            "dispatch_failed",
            "dispatch_failed",
            "notification_failed",
            "parked_job",
            "unknown_courier_code"
        ]
    );
    let parked = q
        .iter()
        .find(|f| f["kind"] == "parked_job")
        .expect("parked");
    assert_eq!(parked["id"], s.parked_job.as_str());
    assert_eq!(parked["reason"], "HTTP 500 from the agency");
    assert_eq!(parked["actions"], json!(["retry", "mark_handled"]));
    let unknown = q
        .iter()
        .find(|f| f["kind"] == "unknown_courier_code")
        .expect("unknown");
    assert_eq!(unknown["reason"], "999 Trạng thái mới");
    let dispatch = q
        .iter()
        .find(|f| f["id"] == s.failed_dispatch.as_str())
        .expect("dispatch");
    assert_eq!(
        dispatch["actions"],
        json!(["retry", "reroute", "mark_handled"])
    );

    let agency = app.agency_key("Q2");
    let (status, _) = app.get_as("/v1/admin/failures", &agency).await;
    assert_eq!(status, 403);
}

#[tokio::test]
async fn actions_fix_the_cause_and_are_audited() {
    let app = TestApp::spawn_without_sandbox().await;
    let s = seed(&app).await;
    let op = app.operator_key();
    let act =
        |kind: &str, id: &str, action: &str| format!("/v1/admin/failures/{kind}/{id}/{action}");

    let (status, r) = app
        .post_as(
            &act("dispatch_failed", &s.failed_dispatch, "retry"),
            &op,
            json!({}),
        )
        .await;
    assert_eq!(status, 200, "{r}");
    let (status, r) = app
        .post_as(
            &act("dispatch_failed", &s.other_failed_dispatch, "reroute"),
            &op,
            json!({}),
        )
        .await;
    assert_eq!(status, 200, "{r}");
    assert!(
        r["result"]
            .as_str()
            .is_some_and(|t| t.contains("viettelpost")),
        "{r}"
    );
    let (status, _) = app
        .post_as(&act("parked_job", &s.parked_job, "retry"), &op, json!({}))
        .await;
    assert_eq!(status, 200);
    let (status, r) = app
        .post_as(
            &act("callback_disabled", &s.agency_id, "replay"),
            &op,
            json!({}),
        )
        .await;
    assert_eq!(status, 200, "{r}");
    let (status, _) = app
        .post_as(
            &act("notification_failed", &s.notification, "retry"),
            &op,
            json!({}),
        )
        .await;
    assert_eq!(status, 200);
    let (status, _) = app
        .post_as(
            &act("unknown_courier_code", &s.unknown_event, "mark_handled"),
            &op,
            json!({}),
        )
        .await;
    assert_eq!(status, 200);
    assert!(queue(&app, &op).await.is_empty());

    // The records moved: back to received, rerouted, requeued, re-enabled, pending again.
    let (failed, other, notification) = (
        s.failed_dispatch.clone(),
        s.other_failed_dispatch.clone(),
        s.notification.clone(),
    );
    let (states, courier, job_status, disabled, note, sends) = app
        .query(move |conn| {
            use civicpost::store::schema::deliveries;
            let states: Vec<String> = deliveries::table
                .filter(deliveries::id.eq_any([&failed, &other]))
                .select(deliveries::state)
                .load(conn)?;
            let courier: String = deliveries::table
                .find(&other)
                .select(deliveries::courier)
                .first(conn)?;
            let job_status: String = outbox_jobs::table
                .filter(outbox_jobs::delivery_id.eq(&failed))
                .filter(outbox_jobs::kind.eq("dispatch"))
                .select(outbox_jobs::status)
                .first(conn)?;
            let disabled: Option<chrono::NaiveDateTime> = agencies::table
                .filter(agencies::code.eq("Q1"))
                .select(agencies::callback_disabled_at)
                .first(conn)?;
            let note: String = notifications::table
                .find(&notification)
                .select(notifications::status)
                .first(conn)?;
            let sends: i64 = outbox_jobs::table
                .filter(outbox_jobs::kind.eq("send_notification"))
                .count()
                .get_result(conn)?;
            Ok((states, courier, job_status, disabled, note, sends))
        })
        .await;
    assert_eq!(states, ["received", "received"]);
    assert_eq!(courier, "viettelpost");
    assert_eq!(job_status, "pending");
    assert!(disabled.is_none());
    assert_eq!((note.as_str(), sends), ("pending", 1));

    let (_, audit) = app.get_as("/v1/admin/audit", &op).await;
    let entries = audit.as_array().expect("audit");
    assert_eq!(entries.len(), 6, "{audit}");
    let handled = entries
        .iter()
        .find(|e| e["action"] == "failure.mark_handled")
        .expect("entry");
    assert_eq!(handled["subject_id"], s.unknown_event.as_str());
    assert!(
        handled["actor"]
            .as_str()
            .is_some_and(|a| a.starts_with("operator:"))
    );
    let (_, only) = app
        .get_as("/v1/admin/audit?action=failure.reroute", &op)
        .await;
    assert_eq!(only.as_array().map(Vec::len), Some(1));
}

#[tokio::test]
async fn wrong_actions_are_refused_and_change_nothing() {
    let app = TestApp::spawn_without_sandbox().await;
    let s = seed(&app).await;
    let op = app.operator_key();
    // Replay is not an action for a failed dispatch.
    let (status, p) = app
        .post_as(
            &format!(
                "/v1/admin/failures/dispatch_failed/{}/replay",
                s.failed_dispatch
            ),
            &op,
            json!({}),
        )
        .await;
    assert_eq!(status, 409, "{p}");
    assert!(
        p["detail"]
            .as_str()
            .is_some_and(|d| d.contains("retry, reroute, mark_handled"))
    );
    let (status, _) = app
        .post_as("/v1/admin/failures/nonsense/x/retry", &op, json!({}))
        .await;
    assert_eq!(status, 404);
    let (status, _) = app
        .post_as(
            "/v1/admin/failures/parked_job/no-such-job/retry",
            &op,
            json!({}),
        )
        .await;
    assert_eq!(status, 404);
    // Retrying twice: the second finds it no longer failed.
    let path = format!(
        "/v1/admin/failures/dispatch_failed/{}/retry",
        s.failed_dispatch
    );
    assert_eq!(app.post_as(&path, &op, json!({})).await.0, 200);
    let (status, p) = app.post_as(&path, &op, json!({})).await;
    assert_eq!(status, 409, "{p}");
    let (_, audit) = app.get_as("/v1/admin/audit", &op).await;
    assert_eq!(
        audit.as_array().map(Vec::len),
        Some(1),
        "only the one action that worked: {audit}"
    );
}
