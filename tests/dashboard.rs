//! The dashboard's doors over plain HTTP: who gets in, what a session can do, and what a
//! forged form gets. The page itself is checked in a real browser (dashboard_browser.rs).

mod common;
#[path = "reports/fixture.rs"]
mod fixture;

use common::TestApp;
use reqwest::header::{CONTENT_TYPE, COOKIE, LOCATION, ORIGIN, SET_COOKIE};

/// The login form's body, as a browser encodes it.
fn key_form(key: &str) -> String {
    url::form_urlencoded::Serializer::new(String::new())
        .append_pair("key", key)
        .finish()
}

async fn login(app: &TestApp, key: &str) -> reqwest::Response {
    app.client
        .post(app.url("/admin/login"))
        .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(key_form(key))
        .send()
        .await
        .expect("login")
}

/// The session cookie (`name=value`) a successful login sets.
async fn session(app: &TestApp) -> String {
    let res = login(app, &app.operator_key()).await;
    assert_eq!(res.status(), 303);
    let cookie = res.headers()[SET_COOKIE]
        .to_str()
        .expect("cookie")
        .to_owned();
    for attribute in ["HttpOnly", "SameSite=Strict", "Path=/admin"] {
        assert!(cookie.contains(attribute), "{attribute} in {cookie}");
    }
    cookie.split(';').next().expect("pair").to_owned()
}

async fn get_with(app: &TestApp, path: &str, cookie: &str) -> reqwest::Response {
    app.client
        .get(app.url(path))
        .header(COOKIE, cookie)
        .send()
        .await
        .expect("get")
}

#[tokio::test]
async fn only_an_operator_gets_in() {
    let app = TestApp::spawn_without_sandbox().await;
    let res = app.get("/admin").await;
    assert_eq!(res.status(), 303);
    assert_eq!(res.headers()[LOCATION], "/admin/login");

    let res = login(&app, "cpo_not-a-key").await;
    assert_eq!(res.status(), 401);
    assert!(res.headers().get(SET_COOKIE).is_none());
    assert!(res.text().await.expect("page").contains("Khoá không đúng"));

    let agency = app.agency_key("H1");
    let res = login(&app, &agency).await;
    assert_eq!(res.status(), 401, "an agency key opens no dashboard");

    let cookie = session(&app).await;
    let res = get_with(&app, "/admin", &cookie).await;
    assert_eq!(res.status(), 200);
    for (name, value) in [("x-frame-options", "DENY"), ("cache-control", "no-store")] {
        assert_eq!(res.headers()[name], value, "{name}");
    }
    assert!(
        res.headers()["content-security-policy"]
            .to_str()
            .expect("csp")
            .contains("default-src 'none'")
    );
    let page = res.text().await.expect("page");
    assert!(page.contains("Bàn điều hành"), "{page}");
    assert!(
        !page.contains(" src=") && !page.contains("<link") && !page.contains("url("),
        "no external asset"
    );

    // Logging out ends the session on the server, not just in the browser.
    let res = app
        .client
        .post(app.url("/admin/logout"))
        .header(COOKIE, &cookie)
        .send()
        .await
        .expect("logout");
    assert_eq!(res.status(), 303);
    assert_eq!(get_with(&app, "/admin", &cookie).await.status(), 303);
}

#[tokio::test]
async fn a_form_from_another_site_is_refused() {
    let app = TestApp::spawn_without_sandbox().await;
    fixture::seed(&app).await;
    let cookie = session(&app).await;
    let res = app
        .client
        .post(app.url("/admin/failures/dispatch_failed/x/retry"))
        .header(COOKIE, &cookie)
        .header(ORIGIN, "https://evil.example")
        .send()
        .await
        .expect("post");
    assert_eq!(res.status(), 403);
    let res = app
        .client
        .post(app.url("/admin/login"))
        .header(ORIGIN, "https://evil.example")
        .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(key_form(&app.operator_key()))
        .send()
        .await
        .expect("post");
    assert_eq!(res.status(), 403);
}

#[tokio::test]
async fn csv_links_work_with_the_session_and_bad_filters_are_named() {
    let app = TestApp::spawn_without_sandbox().await;
    fixture::seed(&app).await;
    let cookie = session(&app).await;
    let res = get_with(
        &app,
        "/admin/csv/states?from=2026-11-01&to=2026-11-03",
        &cookie,
    )
    .await;
    assert_eq!(res.status(), 200);
    assert!(
        res.headers()[CONTENT_TYPE]
            .to_str()
            .expect("type")
            .starts_with("text/csv")
    );
    let body = res.text().await.expect("csv");
    assert!(body.contains("delivered"), "{body}");
    assert_eq!(
        app.get("/admin/csv/states").await.status(),
        303,
        "no session, no CSV"
    );

    let res = get_with(&app, "/admin?agency=NOPE", &cookie).await;
    assert_eq!(res.status(), 400);
    let page = res.text().await.expect("page");
    assert!(page.contains("agency: no agency has this code"), "{page}");
    let res = get_with(&app, "/admin?from=2026-13-01", &cookie).await;
    assert_eq!(res.status(), 400);
    assert!(res.text().await.expect("page").contains("from:"));
}
