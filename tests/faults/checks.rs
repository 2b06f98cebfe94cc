//! What the fault tests check once the dust settles: one delivery per request, one order per
//! delivery, each courier event and each SMS once; and the waits and senders they share.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use civicpost::store::schema::{
    deliveries, delivery_events, notifications, outbox_jobs, webhook_inbox,
};
use diesel::prelude::*;

use crate::common::TestApp;
use crate::support::{child_logs, sms_written};

pub fn count_by_kind(app: &TestApp, kind: &'static str) -> BTreeMap<String, i64> {
    app.state
        .db
        .run_blocking(move |c| {
            outbox_jobs::table
                .filter(outbox_jobs::kind.eq(kind))
                .group_by(outbox_jobs::delivery_id)
                .select((outbox_jobs::delivery_id, diesel::dsl::count_star()))
                .load::<(Option<String>, i64)>(c)
                .map_err(civicpost::store::StoreError::from)
        })
        .expect("jobs")
        .into_iter()
        .filter_map(|(id, n)| id.map(|id| (id, n)))
        .collect()
}

/// The attempts of each dispatch job so far.
pub fn dispatch_attempts(app: &TestApp) -> Vec<i32> {
    app.state
        .db
        .run_blocking(|c| {
            outbox_jobs::table
                .filter(outbox_jobs::kind.eq("dispatch"))
                .select(outbox_jobs::attempts)
                .load(c)
                .map_err(civicpost::store::StoreError::from)
        })
        .expect("attempts")
}

/// Waits like `wait_until`; on timeout the panic shows each job's kind, status, attempts
/// and last error, and the deliveries' states.
pub async fn wait_for(app: &TestApp, what: &str, limit: Duration, mut done: impl FnMut() -> bool) {
    let start = std::time::Instant::now();
    while !done() {
        if start.elapsed() > limit {
            let jobs = app.state.db.run_blocking(|c| {
                outbox_jobs::table
                    .select((
                        outbox_jobs::kind,
                        outbox_jobs::status,
                        outbox_jobs::attempts,
                        outbox_jobs::last_error,
                    ))
                    .load::<(String, String, i32, Option<String>)>(c)
                    .map_err(civicpost::store::StoreError::from)
            });
            let states = app.state.db.run_blocking(|c| {
                deliveries::table
                    .select(deliveries::state)
                    .load::<String>(c)
                    .map_err(civicpost::store::StoreError::from)
            });
            panic!(
                "timed out after {limit:?} waiting for {what}\nstates: {states:?}\njobs: {jobs:#?}\n{}",
                child_logs(app.db.dir.path())
            );
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Waits until every delivery is with Viettel Post and no job is open, then checks that the
/// simulator holds exactly one order per delivery.
pub async fn assert_dispatched_once(app: &TestApp, ids: &BTreeMap<String, String>) {
    wait_for(
        app,
        "every delivery dispatched",
        Duration::from_secs(120),
        || {
            ids.values()
                .all(|id| app.delivery(id).state == "awaiting_pickup")
                && app.open_jobs() == 0
        },
    )
    .await;
    let sim = app.viettel_sim();
    assert_eq!(sim.order_count(), ids.len(), "one order per delivery");
}

/// Starts `senders` clients that post each (url, body) in turn, every one acknowledged with
/// 200; await the handles to wait for the last.
pub fn send_webhooks(
    hooks: Vec<(String, Vec<u8>)>,
    senders: usize,
) -> Vec<tokio::task::JoinHandle<()>> {
    let client = reqwest::Client::new();
    hooks
        .chunks(hooks.len().div_ceil(senders))
        .map(<[_]>::to_vec)
        .map(|chunk| {
            let client = client.clone();
            tokio::spawn(async move {
                for (url, body) in chunk {
                    let res = client
                        .post(&url)
                        .header("content-type", "application/json")
                        .body(body)
                        .send()
                        .await
                        .expect("webhook");
                    assert_eq!(res.status(), 200, "every copy is acknowledged");
                }
            })
        })
        .collect()
}

/// After a storm of copies: one processed inbox row per distinct body (4 per parcel), each
/// courier event recorded once, and as many SMS lines in the outbox as notification rows (an
/// SMS sent twice would leave more lines than rows).
pub fn assert_each_once<'a>(
    app: &TestApp,
    ids: impl ExactSizeIterator<Item = &'a String>,
    dir: &std::path::Path,
) {
    let bodies = 4 * ids.len() as i64;
    assert_eq!(
        inbox_counts(app),
        (0, bodies, 0),
        "one inbox row per distinct body"
    );
    for id in ids {
        let mut codes: Vec<String> = courier_events(app, id)
            .into_iter()
            .map(|(c, _)| c)
            .collect();
        codes.sort();
        assert_eq!(codes, ["200", "300", "500", "501"], "{id}: each event once");
    }
    assert_eq!(
        sms_written(dir) as i64,
        sms_sent(app),
        "each SMS written once"
    );
}

pub fn delivery_count(app: &TestApp) -> i64 {
    app.state
        .db
        .run_blocking(|c| {
            deliveries::table
                .count()
                .get_result(c)
                .map_err(civicpost::store::StoreError::from)
        })
        .expect("count")
}

/// Every answered request names one delivery, each exactly once, with one dispatch job.
pub fn assert_one_delivery_per_request(
    app: &TestApp,
    ids: &BTreeMap<String, String>,
    count: usize,
) {
    assert_eq!(ids.len(), count, "every request answered");
    let distinct: BTreeSet<&String> = ids.values().collect();
    assert_eq!(distinct.len(), count, "one delivery per idempotency key");
    assert_eq!(
        delivery_count(app),
        count as i64,
        "no delivery lost or made twice"
    );
    let dispatch = count_by_kind(app, "dispatch");
    for id in ids.values() {
        assert_eq!(dispatch.get(id), Some(&1), "{id}: one dispatch job");
    }
}

pub const STORM_STATUSES: [i64; 4] = [200, 300, 500, 501];

/// Viettel Post's local time (UTC+7), `minutes_ago` before now.
pub fn vtp_time(minutes_ago: i64) -> String {
    let local = chrono::Utc::now().naive_utc() + chrono::Duration::hours(7)
        - chrono::Duration::minutes(minutes_ago);
    local.format("%d/%m/%Y %H:%M:%S").to_string()
}

pub fn inbox_counts(app: &TestApp) -> (i64, i64, i64) {
    let rows: Vec<(String, i64)> = app
        .state
        .db
        .run_blocking(|c| {
            webhook_inbox::table
                .group_by(webhook_inbox::status)
                .select((webhook_inbox::status, diesel::dsl::count_star()))
                .load(c)
                .map_err(civicpost::store::StoreError::from)
        })
        .expect("inbox");
    let count = |status: &str| {
        rows.iter()
            .find(|(s, _)| s == status)
            .map_or(0, |(_, n)| *n)
    };
    (count("pending"), count("processed"), count("failed"))
}

pub fn courier_events(app: &TestApp, id: &str) -> Vec<(String, bool)> {
    let id = id.to_owned();
    app.state
        .db
        .run_blocking(move |c| {
            delivery_events::table
                .filter(delivery_events::delivery_id.eq(id))
                .filter(delivery_events::source.eq("courier"))
                .select((
                    delivery_events::raw_code.assume_not_null(),
                    delivery_events::applied,
                ))
                .load(c)
                .map_err(civicpost::store::StoreError::from)
        })
        .expect("events")
}

pub fn sms_sent(app: &TestApp) -> i64 {
    app.state
        .db
        .run_blocking(|c| {
            notifications::table
                .filter(notifications::channel.eq("sms"))
                .filter(notifications::status.eq("sent"))
                .count()
                .get_result(c)
                .map_err(civicpost::store::StoreError::from)
        })
        .expect("notifications")
}

/// How often each status (or "no connection", "timeout") was seen, for the report.
pub fn tally(seen: &[String]) -> BTreeMap<&str, usize> {
    let mut t = BTreeMap::new();
    for s in seen {
        *t.entry(s.as_str()).or_insert(0) += 1;
    }
    t
}
