//! The fault-injection suite (issue 8): the service's processes killed with SIGKILL in the
//! middle of intake, dispatch, webhook ingestion and notification sending; PostgreSQL
//! restarted and Redis stopped under load; both couriers down and back; a storm of
//! duplicated, reordered webhooks; two and three replicas on one database and one cache.
//! Each test checks that nothing acknowledged is lost and nothing is ordered or sent twice.
//!
//! Dispatch and notification crashes at the worst moment (after the courier or the gateway
//! answered, before our commit) are in `crash.rs` and `notifications_crash.rs`, with fail
//! points; the tests here cut processes at random moments of real load.

#[path = "faults/checks.rs"]
mod checks;
mod common;
#[path = "faults/support.rs"]
mod support;
#[path = "webhooks/support.rs"]
mod webhooks;

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use checks::*;
use civicpost::couriers::viettelpost::sim::Faults;
use civicpost::domain::courier::Courier;
use common::couriers::dispatch_settings;
use common::{TestApp, TestDb};
use serde_json::{Value, json};
use support::*;

/// The tests here start processes and servers and time their faults against real load: one
/// at a time, so that two of them never share the machine's two cores.
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// In TP Hồ Chí Minh: Viettel Post by the demo rules.
const HCM_WARD: &str = "25747";

fn delivery_body(n: usize) -> Value {
    json!({
        "dossier_code": format!("H29-261205-{n:04}"),
        "procedure_name": "Cấp giấy phép xây dựng",
        "recipient": {
            "name": "Nguyễn Văn An",
            "phone": "0912 345 678",
            "address": { "line": "Số 12 ngõ 3", "ward_code": HCM_WARD }
        },
        "parcel": { "weight_grams": 150 }
    })
}

/// Sends `count` deliveries from `tasks` concurrent clients, each retried until answered,
/// spread over `urls`; returns idempotency key → delivery id, and every status seen.
async fn send_deliveries(
    urls: Vec<String>,
    key: String,
    count: usize,
    tasks: usize,
) -> (BTreeMap<String, String>, Vec<String>) {
    let client = reqwest::Client::new();
    let mut handles = Vec::new();
    for t in 0..tasks {
        let (client, urls, key) = (client.clone(), urls.clone(), key.clone());
        handles.push(tokio::spawn(async move {
            let mut out = Vec::new();
            for n in (t..count).step_by(tasks) {
                let idem = format!("fault-{n}");
                let (status, answer, seen) = post_until_answered(
                    &client,
                    &urls,
                    &key,
                    &idem,
                    &delivery_body(n),
                    Duration::from_secs(90),
                )
                .await;
                assert!(matches!(status, 200 | 201), "{idem}: {status} {answer}");
                out.push((idem, answer["id"].as_str().expect("id").to_owned(), seen));
            }
            out
        }));
    }
    let mut ids = BTreeMap::new();
    let mut seen_all = Vec::new();
    for h in handles {
        for (idem, id, seen) in h.await.expect("client task") {
            ids.insert(idem, id);
            seen_all.extend(seen);
        }
    }
    (ids, seen_all)
}

/// kill -9 of the service while 8 clients enqueue: the clients retry with their
/// idempotency keys against the restarted service; each request makes one delivery.
#[tokio::test]
async fn intake_survives_kill_9_of_the_service() {
    let _serial = ONE_AT_A_TIME.lock().await;
    let app = TestApp::spawn().await;
    let key = app.sending_agency_key("000.00.01.H29");
    let env = [("CIVICPOST__JOBS__ENABLED", "false".to_owned())];
    let mut service = Child::serve(&app.db.url, app.db.dir.path(), "serve", &env).await;
    let urls = vec![format!("{}/v1/deliveries", service.base())];
    let load = tokio::spawn(send_deliveries(urls, key, 120, 8));
    wait_until("some deliveries", Duration::from_secs(60), || {
        delivery_count(&app) >= 30
    })
    .await;
    service.kill_hard();
    tokio::time::sleep(Duration::from_millis(300)).await;
    service.start().await;
    let (ids, seen) = load.await.expect("load");
    assert!(
        seen.iter().any(|s| s == "no connection"),
        "the kill cut some requests: {seen:?}"
    );
    assert_one_delivery_per_request(&app, &ids, 120);
}

/// 25 parcels × 4 statuses × 3 copies, shuffled, from 32 concurrent senders, while two
/// worker processes ingest (and, with `kill`, one is killed with SIGKILL a third of the way
/// through and started again). Every parcel ends delivered, each event is recorded once,
/// each SMS is written once.
async fn webhook_storm(kill: bool) {
    use rand::seq::SliceRandom;
    let app = TestApp::spawn_with(dispatch_settings()).await;
    let mut parcels = Vec::new();
    for n in 0..25 {
        let tracking = format!("1812{n:07}");
        let id = webhooks::delivery(&app, Courier::Viettelpost, Some(&tracking)).await;
        parcels.push((id, tracking));
    }
    let mut bodies = Vec::new();
    for (_, tracking) in &parcels {
        for (i, status) in STORM_STATUSES.iter().enumerate() {
            let body = webhooks::bytes(&webhooks::vtp_body(
                tracking,
                *status,
                &vtp_time(20 - i as i64),
            ));
            bodies.extend([body.clone(), body.clone(), body]);
        }
    }
    bodies.shuffle(&mut rand::rng());
    let env = [("CIVICPOST__APP__PUBLIC_BASE_URL", app.base.clone())];
    let dir = app.db.dir.path();
    let mut first = Child::worker(&app.db.url, dir, "worker-a", &env).await;
    let _second = Child::worker(&app.db.url, dir, "worker-b", &env).await;

    let url = app.url("/v1/webhooks/viettelpost");
    let senders = send_webhooks(bodies.into_iter().map(|b| (url.clone(), b)).collect(), 32);
    if kill {
        wait_until("a third ingested", Duration::from_secs(60), || {
            inbox_counts(&app).1 >= 33
        })
        .await;
        first.kill_hard();
        first.start().await;
    }
    for s in senders {
        s.await.expect("sender");
    }
    let all_delivered = || {
        parcels
            .iter()
            .all(|(id, _)| app.delivery(id).state == "delivered")
            && inbox_counts(&app).0 == 0
            && app.open_jobs() == 0
    };
    wait_for(
        &app,
        "every parcel delivered and every job done",
        Duration::from_secs(120),
        all_delivered,
    )
    .await;

    assert_each_once(&app, parcels.iter().map(|(id, _)| id), dir);
}

#[tokio::test]
async fn a_storm_of_duplicated_reordered_webhooks_applies_each_event_once() {
    let _serial = ONE_AT_A_TIME.lock().await;
    webhook_storm(false).await;
}

#[tokio::test]
async fn webhook_ingestion_survives_kill_9_of_a_worker() {
    let _serial = ONE_AT_A_TIME.lock().await;
    webhook_storm(true).await;
}

/// Both couriers answer 503 to everything for 15 s, with retries and circuits scaled down
/// (backoff 100-500 ms, circuits open 3 s) so that the 15 s hold the retry rounds of a
/// several-minute outage in production (backoff 5 s doubling to an hour, circuits open
/// 60 s): deliveries wait, nothing fails for good, and once the couriers are back each
/// delivery gets exactly one order.
#[tokio::test]
async fn a_courier_outage_delays_dispatch_and_orders_nothing_twice() {
    let _serial = ONE_AT_A_TIME.lock().await;
    let app = TestApp::spawn_with(dispatch_settings()).await;
    app.map_courier_units().await;
    let key = app.sending_agency_key("000.00.01.H29");
    let sims = app.state.simulators.as_ref().expect("simulators");
    sims.viettelpost.set_faults(Faults {
        fail_next: 1_000_000,
        ..Faults::default()
    });
    app.sim_control("vnpost", "faults", json!({"failNext": 1_000_000}))
        .await;
    let mut ids = Vec::new();
    for n in 0..20 {
        ids.push(
            app.enqueue_delivery(&key, &format!("H29-261205-{:04}", 500 + n), HCM_WARD)
                .await,
        );
    }
    let env = [
        ("CIVICPOST__APP__PUBLIC_BASE_URL", app.base.clone()),
        // Quick retries, and circuits that stay open 3 s: while both are open, a retry waits
        // for the first to close instead of using up its 12 attempts in a few seconds.
        ("CIVICPOST__JOBS__BACKOFF_BASE_MS", "100".to_owned()),
        ("CIVICPOST__JOBS__BACKOFF_CAP_MS", "500".to_owned()),
        ("CIVICPOST__COURIERS__BREAKER__OPEN_SECS", "3".to_owned()),
    ];
    let _worker = Child::worker(&app.db.url, app.db.dir.path(), "worker", &env).await;
    wait_until("a try of every dispatch", Duration::from_secs(60), || {
        let tries = dispatch_attempts(&app);
        tries.len() == 20 && tries.iter().all(|n| *n >= 1)
    })
    .await;
    // Without the wait for the circuits, 12 attempts 100-500 ms apart were used up in about
    // 4 s and every delivery failed for the operator.
    tokio::time::sleep(Duration::from_secs(15)).await;
    for id in &ids {
        assert_eq!(app.delivery(id).state, "received", "waiting, not failed");
    }
    let tries = dispatch_attempts(&app);
    assert!(tries.iter().all(|n| *n < 12), "attempts left: {tries:?}");
    sims.viettelpost.set_faults(Faults::default());
    app.sim_control("vnpost", "faults", json!({"failNext": 0}))
        .await;
    wait_for(
        &app,
        "every delivery dispatched",
        Duration::from_secs(90),
        || {
            ids.iter()
                .all(|id| app.delivery(id).state == "awaiting_pickup")
                && app.open_jobs() == 0
        },
    )
    .await;
    let orders = sims.viettelpost.order_count() + sims.vnpost.order_count();
    assert_eq!(orders, 20, "one order per delivery across both couriers");
    let numbers: BTreeSet<String> = ids
        .iter()
        .map(|id| {
            app.delivery(id)
                .courier_tracking_number
                .expect("tracking number")
        })
        .collect();
    assert_eq!(numbers.len(), 20);
}

/// PostgreSQL restarted (fast shutdown: every session cut) while 8 clients enqueue and a
/// worker process dispatches: clients see 503 for the moment it is down and retry; every
/// request ends with one delivery and every delivery with one courier order.
#[tokio::test]
async fn a_postgres_restart_under_load_loses_nothing_and_orders_nothing_twice() {
    let _serial = ONE_AT_A_TIME.lock().await;
    if !common::backend_is_postgres() {
        eprintln!("PostgreSQL only: the SQLite pass has no server to restart");
        return;
    }
    let pg = PrivatePostgres::start();
    let mut extra = dispatch_settings();
    extra["database"] = json!({"pool_size": 8, "connect_timeout_secs": 2});
    let app = TestApp::spawn_on(TestDb::on_postgres(&pg.admin_url()), extra).await;
    app.map_courier_units().await;
    let key = app.sending_agency_key("000.00.01.H29");
    let env = [("CIVICPOST__APP__PUBLIC_BASE_URL", app.base.clone())];
    let _worker = Child::worker(&app.db.url, app.db.dir.path(), "worker", &env).await;
    let load = tokio::spawn(send_deliveries(
        vec![app.url("/v1/deliveries")],
        key,
        120,
        8,
    ));
    wait_until("some deliveries", Duration::from_secs(60), || {
        delivery_count(&app) >= 30
    })
    .await;
    let pg = tokio::task::spawn_blocking(move || {
        pg.restart();
        pg
    })
    .await
    .expect("restart");
    let (ids, seen) = load.await.expect("load");
    let seen = tally(&seen);
    eprintln!("statuses seen by the clients: {seen:?}");
    for status in seen.keys() {
        assert!(
            matches!(*status, "200" | "201" | "503" | "no connection" | "timeout"),
            "while PostgreSQL restarts, a client sees 503 or waits, never {status}: {seen:?}"
        );
    }
    assert_one_delivery_per_request(&app, &ids, 120);
    assert_dispatched_once(&app, &ids).await;
    drop(app);
    drop(pg);
}

/// Redis killed and started again (empty) under tracking reads and intake: no request
/// fails, and the service is back on Redis afterwards (/readyz 200).
#[tokio::test]
async fn redis_stopped_and_started_under_load_fails_no_request() {
    let _serial = ONE_AT_A_TIME.lock().await;
    let mut redis = PrivateRedis::start();
    let app = TestApp::spawn_with(json!({
        "redis": { "url": redis.url(), "retry_interval_ms": 200 },
        "tracking": { "rate_limit_per_minute": 0, "cache_ttl_secs": 1 },
    }))
    .await;
    let key = app.agency_key("H29");
    let mut codes = Vec::new();
    for n in 0..10 {
        let (status, created) = app.post_as("/v1/deliveries", &key, delivery_body(n)).await;
        assert_eq!(status, 201, "{created}");
        codes.push(created["tracking_code"].as_str().expect("code").to_owned());
    }
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut readers = Vec::new();
    for t in 0..4 {
        let (client, base, codes, stop) = (
            app.client.clone(),
            app.base.clone(),
            codes.clone(),
            stop.clone(),
        );
        readers.push(tokio::spawn(async move {
            let mut statuses = Vec::new();
            let mut i = t;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let url = format!("{base}/v1/track/{}", codes[i % codes.len()]);
                let res = client.get(url).send().await.expect("tracking read");
                statuses.push(res.status().as_u16());
                i += 1;
            }
            statuses
        }));
    }
    let writer = {
        let (client, url, key, stop) = (
            app.client.clone(),
            app.url("/v1/deliveries"),
            key.clone(),
            stop.clone(),
        );
        tokio::spawn(async move {
            let mut statuses = Vec::new();
            let mut n = 100;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let res = client
                    .post(&url)
                    .bearer_auth(&key)
                    .json(&delivery_body(n))
                    .send()
                    .await;
                statuses.push(res.expect("intake").status().as_u16());
                n += 1;
            }
            statuses
        })
    };
    tokio::time::sleep(Duration::from_secs(2)).await;
    redis.kill();
    tokio::time::sleep(Duration::from_secs(1)).await;
    let (status, body) = app.get_json("/readyz").await;
    assert_eq!(status, 503, "the outage is real and reported: {body}");
    tokio::time::sleep(Duration::from_secs(2)).await;
    redis.start_again();
    tokio::time::sleep(Duration::from_secs(2)).await;
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let mut reads = Vec::new();
    for r in readers {
        reads.extend(r.await.expect("reader"));
    }
    let writes = writer.await.expect("writer");
    assert!(reads.len() > 100, "{} reads", reads.len());
    assert!(
        reads.iter().all(|s| *s == 200),
        "every read answered: {:?}",
        tally(&reads.iter().map(u16::to_string).collect::<Vec<_>>())
    );
    assert!(
        writes.iter().all(|s| *s == 201),
        "every write answered: {writes:?}"
    );
    let start = std::time::Instant::now();
    loop {
        let (status, body) = app.get_json("/readyz").await;
        if status == 200 {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "not back on Redis: {body}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test]
async fn two_replicas_share_the_work_and_do_nothing_twice() {
    let _serial = ONE_AT_A_TIME.lock().await;
    replicas_share_the_work(2).await;
}

#[tokio::test]
async fn three_replicas_share_the_work_and_do_nothing_twice() {
    let _serial = ONE_AT_A_TIME.lock().await;
    replicas_share_the_work(3).await;
}

/// `count` `civicpost serve` replicas, each with its own worker, on one database and one
/// Redis. Each delivery is posted to two replicas at once under one idempotency key, each
/// courier webhook to two replicas: one delivery per key, one order per delivery, each
/// event recorded once, each SMS sent once.
async fn replicas_share_the_work(count: usize) {
    let app = TestApp::spawn_with(dispatch_settings()).await;
    app.map_courier_units().await;
    let key = app.sending_agency_key("000.00.01.H29");
    let mut env = couriers_at(&app.base);
    env.push(("CIVICPOST__REDIS__URL", common::redis_url()));
    env.push((
        "CIVICPOST__REDIS__NAMESPACE",
        format!("faults-{}:", uuid::Uuid::now_v7().simple()),
    ));
    let dir = app.db.dir.path();
    let mut replicas = Vec::new();
    for r in 0..count {
        replicas.push(Child::serve(&app.db.url, dir, &format!("replica-{r}"), &env).await);
    }
    let bases: Vec<String> = replicas.iter().map(Child::base).collect();

    let client = reqwest::Client::new();
    let mut posts = Vec::new();
    for n in 0..60 {
        for copy in 0..2 {
            let urls = vec![format!("{}/v1/deliveries", bases[(n + copy) % count])];
            let (client, key) = (client.clone(), key.clone());
            posts.push(tokio::spawn(async move {
                let idem = format!("replica-{n}");
                let body = delivery_body(n);
                let (status, answer, _) = post_until_answered(
                    &client,
                    &urls,
                    &key,
                    &idem,
                    &body,
                    Duration::from_secs(60),
                )
                .await;
                (
                    idem,
                    status,
                    answer["id"].as_str().unwrap_or_default().to_owned(),
                )
            }));
        }
    }
    let mut ids: BTreeMap<String, String> = BTreeMap::new();
    let mut created = 0;
    for p in posts {
        let (idem, status, id) = p.await.expect("post");
        assert!(matches!(status, 200 | 201), "{idem}: {status}");
        created += usize::from(status == 201);
        if let Some(first) = ids.insert(idem.clone(), id.clone()) {
            assert_eq!(first, id, "{idem}: both replicas answer with one delivery");
        }
    }
    assert_eq!(created, 60, "one 201 per key, the other copy a 200 replay");
    assert_one_delivery_per_request(&app, &ids, 60);
    assert_dispatched_once(&app, &ids).await;

    let mut hooks = Vec::new();
    for (n, id) in ids.values().enumerate() {
        let tracking = app
            .delivery(id)
            .courier_tracking_number
            .expect("tracking number");
        for (i, status) in STORM_STATUSES.iter().enumerate() {
            let body = webhooks::bytes(&webhooks::vtp_body(
                &tracking,
                *status,
                &vtp_time(20 - i as i64),
            ));
            for copy in 0..2 {
                let url = format!("{}/v1/webhooks/viettelpost", bases[(n + i + copy) % count]);
                hooks.push((url, body.clone()));
            }
        }
    }
    let senders = send_webhooks(hooks, 16);
    for s in senders {
        s.await.expect("sender");
    }
    wait_for(
        &app,
        "every parcel delivered and every job done",
        Duration::from_secs(120),
        || {
            ids.values().all(|id| app.delivery(id).state == "delivered")
                && inbox_counts(&app).0 == 0
                && app.open_jobs() == 0
        },
    )
    .await;
    assert_each_once(&app, ids.values(), dir);
    assert!(sms_sent(&app) >= 60, "the citizens were told");
}
