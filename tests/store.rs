//! Store-level tests; the suite runs once on SQLite and once on PostgreSQL
//! (`CIVICPOST_TEST_DATABASE`), each test on its own fresh database.

mod common;

use std::time::Duration;

use civicpost::store::agencies::{self, AgencyError, KeyOwner, NewAgency};
use civicpost::store::{self, DatabaseUrl, Db, StoreError};
use civicpost::units::{FixtureSource, UnitsData};
use common::TestDb;

fn open(db: &TestDb) -> Db {
    let url = DatabaseUrl::parse(&db.url).expect("url");
    Db::connect(&url, 2, Duration::from_secs(5)).expect("connect")
}

fn units() -> UnitsData {
    UnitsData::load(&FixtureSource::Embedded).expect("embedded fixtures")
}

/// Versions of the migration folders (`2026-11-22-000001_initial` → `20261122000001`); both
/// backends carry the same ones.
fn migration_versions() -> Vec<String> {
    let versions = |backend: &str| {
        let mut found: Vec<String> = std::fs::read_dir(format!("migrations/{backend}"))
            .expect("migrations folder")
            .filter_map(|entry| entry.ok()?.file_name().into_string().ok())
            .filter_map(|name| Some(name.split_once('_')?.0.replace('-', "")))
            .collect();
        found.sort();
        found
    };
    let postgres = versions("postgres");
    assert_eq!(
        postgres,
        versions("sqlite"),
        "same versions on both backends"
    );
    assert!(!postgres.is_empty());
    postgres
}

#[test]
fn migrations_apply_from_empty_and_rerun_as_no_op() {
    let db = TestDb::new();
    let pool = open(&db);
    let first = pool
        .run_blocking(store::migrations::run_pending)
        .expect("migrate");
    assert_eq!(first, migration_versions(), "every migration, in order");
    let again = pool
        .run_blocking(store::migrations::run_pending)
        .expect("re-run");
    assert!(
        again.is_empty(),
        "nothing pending the second time: {again:?}"
    );
}

#[test]
fn units_load_once_with_official_counts() {
    let db = TestDb::new();
    let pool = open(&db);
    let data = units();
    let outcome = pool
        .run_blocking(|conn| {
            store::migrations::run_pending(conn)?;
            store::units::load(conn, &data)
        })
        .expect("load");
    assert_eq!(
        outcome,
        store::units::LoadOutcome::Loaded {
            provinces: 34,
            wards: 3321,
            legacy_links: 10583
        }
    );
    assert_eq!(
        pool.run_blocking(store::units::counts).expect("counts"),
        (34, 3321, 10583)
    );
    let second = pool
        .run_blocking(|conn| store::units::load(conn, &data))
        .expect("reload");
    assert_eq!(second, store::units::LoadOutcome::Unchanged);
}

#[test]
fn a_failing_unit_load_leaves_the_previous_data_whole() {
    let db = TestDb::new();
    let pool = open(&db);
    let good = units();
    pool.run_blocking(|conn| {
        store::migrations::run_pending(conn)?;
        store::units::load(conn, &good)
    })
    .expect("first load");
    // A new release whose last ward points at a province that does not exist: the foreign
    // key fails late in the transaction, after provinces and most wards were written.
    let mut bad = good.clone();
    bad.fingerprint = "changed".into();
    bad.provinces[0].name = "Renamed before the failure".into();
    if let Some(last) = bad.wards.last_mut() {
        last.province_code = "99".into();
    }
    let err = pool.run_blocking(|conn| store::units::load(conn, &bad));
    assert!(matches!(err, Err(StoreError::Query(_))), "{err:?}");
    assert_eq!(
        pool.run_blocking(store::units::counts).expect("counts"),
        (34, 3321, 10583)
    );
    let name: String = pool
        .run_blocking(|conn| {
            use civicpost::store::schema::provinces::dsl::*;
            use diesel::prelude::*;
            Ok::<_, StoreError>(provinces.filter(code.eq("01")).select(name).first(conn)?)
        })
        .expect("read");
    assert_eq!(name, "Thành phố Hà Nội", "rolled back");
}

fn migrated(db: &TestDb) -> Db {
    let pool = open(db);
    let data = units();
    pool.run_blocking(|conn| {
        store::migrations::run_pending(conn)?;
        store::units::load(conn, &data)
    })
    .expect("prepare");
    pool
}

#[test]
fn agencies_keys_authenticate_rotate_and_disable() {
    let db = TestDb::new();
    let pool = migrated(&db);
    let new = NewAgency {
        code: "000.00.01.H42".into(),
        name: "Trung tâm Phục vụ hành chính công tỉnh Quảng Trị".into(),
        sender_ward_code: Some("00004".into()),
        ..Default::default()
    };
    let (agency, key) = pool
        .run_blocking(|c| agencies::create(c, &new))
        .expect("create");
    assert!(agency.active);
    let owner = pool
        .run_blocking(|c| agencies::authenticate(c, &key))
        .expect("auth");
    assert!(
        matches!(owner, Some(KeyOwner::Agency { ref agency_id, agency_active: true, .. }) if *agency_id == agency.id)
    );

    let duplicate = pool.run_blocking(|c| agencies::create(c, &new));
    assert!(matches!(duplicate, Err(AgencyError::DuplicateCode(_))));

    let rotated = pool
        .run_blocking(|c| agencies::rotate_key(c, &agency.code))
        .expect("rotate");
    assert_ne!(rotated, key);
    assert_eq!(
        pool.run_blocking(|c| agencies::authenticate(c, &key))
            .expect("old"),
        None,
        "old key revoked"
    );
    assert!(
        pool.run_blocking(|c| agencies::authenticate(c, &rotated))
            .expect("new")
            .is_some()
    );

    pool.run_blocking(|c| agencies::set_active(c, &agency.code, false))
        .expect("disable");
    let owner = pool
        .run_blocking(|c| agencies::authenticate(c, &rotated))
        .expect("auth");
    assert!(matches!(
        owner,
        Some(KeyOwner::Agency {
            agency_active: false,
            ..
        })
    ));

    // A key of the right shape that was never issued, and a tampered one.
    let mut tampered = rotated.clone();
    tampered.pop();
    tampered.push(if rotated.ends_with('a') { 'b' } else { 'a' });
    assert_eq!(
        pool.run_blocking(|c| agencies::authenticate(c, &tampered))
            .expect("t"),
        None
    );
    assert_eq!(
        pool.run_blocking(|c| agencies::authenticate(c, "cpa_nonsense"))
            .expect("n"),
        None
    );
}

#[test]
fn operator_keys_are_not_agency_keys() {
    let db = TestDb::new();
    let pool = migrated(&db);
    let key = pool
        .run_blocking(|c| agencies::create_operator_key(c, Some("on call")))
        .expect("key");
    assert!(key.starts_with("cpo_"));
    let owner = pool
        .run_blocking(|c| agencies::authenticate(c, &key))
        .expect("auth");
    assert!(matches!(owner, Some(KeyOwner::Operator { .. })));
}

#[test]
fn agency_input_is_checked() {
    let db = TestDb::new();
    let pool = migrated(&db);
    let bad_code = NewAgency {
        code: "has space".into(),
        name: "X".into(),
        ..Default::default()
    };
    assert!(matches!(
        pool.run_blocking(|c| agencies::create(c, &bad_code)),
        Err(AgencyError::InvalidCode(_))
    ));
    let no_name = NewAgency {
        code: "OK".into(),
        name: "  ".into(),
        ..Default::default()
    };
    assert!(matches!(
        pool.run_blocking(|c| agencies::create(c, &no_name)),
        Err(AgencyError::EmptyName)
    ));
    assert!(
        pool.run_blocking(agencies::list).expect("list").is_empty(),
        "nothing written"
    );
}

#[test]
fn a_database_url_that_names_nothing_says_so() {
    let url = DatabaseUrl::parse("postgres://postgres@127.0.0.1:1/nothing").expect("parse");
    let err = Db::connect(&url, 1, Duration::from_secs(2))
        .err()
        .expect("must fail");
    let text = err.to_string();
    assert!(
        text.contains("PostgreSQL") && text.contains("127.0.0.1:1"),
        "{text}"
    );
    let dir = tempfile::tempdir().expect("dir");
    let blocked = dir.path().join("file");
    std::fs::write(&blocked, b"not a folder").expect("write");
    let url = DatabaseUrl::parse(&blocked.join("db.sqlite").display().to_string()).expect("parse");
    let err = Db::connect(&url, 1, Duration::from_secs(2))
        .err()
        .expect("must fail");
    assert!(err.to_string().contains("SQLite"), "{err}");
}
