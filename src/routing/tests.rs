use chrono::{NaiveDate, NaiveDateTime};

use super::*;

const AGENCY: &str = "agency-a";
const OTHER: &str = "agency-b";
// Phường Sài Gòn and Xã Cần Giờ, both in TP Hồ Chí Minh (79).
const PROVINCE: &str = "79";
const WARD: &str = "26740";
const NEIGHBOUR: &str = "27664";

fn at(minute: u32) -> NaiveDateTime {
    NaiveDate::from_ymd_opt(2026, 1, 1)
        .and_then(|d| d.and_hms_opt(8, minute, 0))
        .unwrap()
}

fn rule(id: &str, agency: Option<&str>, province: Option<&str>, ward: Option<&str>) -> RoutingRule {
    RoutingRule {
        id: id.into(),
        agency_id: agency.map(Into::into),
        province_code: province.map(Into::into),
        ward_code: ward.map(Into::into),
        courier: Courier::Viettelpost,
        service_code: "VCN".into(),
        sla_hours: 48,
        fallback_courier: Some(Courier::Vnpost),
        active: true,
        priority: 0,
        created_at: at(0),
        updated_at: at(0),
    }
}

/// One rule of every scope, each naming our agency, ward and province where it has them.
fn ladder() -> Vec<RoutingRule> {
    vec![
        rule("global", None, None, None),
        rule("agency", Some(AGENCY), None, None),
        rule("province", None, Some(PROVINCE), None),
        rule("agency-province", Some(AGENCY), Some(PROVINCE), None),
        rule("ward", None, None, Some(WARD)),
        rule("agency-ward", Some(AGENCY), Some(PROVINCE), Some(WARD)),
    ]
}

fn winner(rules: &[RoutingRule], agency: &str, ward: &str) -> Option<String> {
    select(rules, agency, PROVINCE, ward).map(|r| r.id.clone())
}

#[test]
fn each_level_beats_every_less_specific_one() {
    let mut rules = ladder();
    let order = [
        ("agency-ward", Specificity::AgencyWard),
        ("ward", Specificity::Ward),
        ("agency-province", Specificity::AgencyProvince),
        ("province", Specificity::Province),
        ("agency", Specificity::AgencyDefault),
        ("global", Specificity::GlobalDefault),
    ];
    // Peel the winner off each time: the next one down must win.
    for (expected, specificity) in order {
        let chosen = select(&rules, AGENCY, PROVINCE, WARD).expect("a rule matches");
        assert_eq!(chosen.id, expected);
        assert_eq!(chosen.specificity(), specificity);
        rules.retain(|r| r.id != expected);
    }
    assert!(select(&rules, AGENCY, PROVINCE, WARD).is_none());
}

#[test]
fn specificity_is_not_overridden_by_priority_or_age() {
    let mut rules = ladder();
    for r in &mut rules {
        if r.id != "agency-ward" {
            r.priority = 1000;
            r.created_at = at(59);
        }
    }
    assert_eq!(winner(&rules, AGENCY, WARD).as_deref(), Some("agency-ward"));
}

#[test]
fn another_agency_skips_rules_of_ours() {
    let rules = ladder();
    assert_eq!(winner(&rules, OTHER, WARD).as_deref(), Some("ward"));
    let no_ward: Vec<_> = rules.iter().filter(|r| r.id != "ward").cloned().collect();
    assert_eq!(winner(&no_ward, OTHER, WARD).as_deref(), Some("province"));
    let only_agency: Vec<_> = rules
        .iter()
        .filter(|r| r.id == "agency" || r.id == "global")
        .cloned()
        .collect();
    assert_eq!(winner(&only_agency, OTHER, WARD).as_deref(), Some("global"));
    assert_eq!(
        winner(&only_agency, AGENCY, WARD).as_deref(),
        Some("agency")
    );
}

#[test]
fn empty_agency_id_matches_only_rules_for_everyone() {
    let rules = ladder();
    assert_eq!(winner(&rules, "", WARD).as_deref(), Some("ward"));
    let agency_only = vec![rule("agency", Some(AGENCY), None, None)];
    assert_eq!(winner(&agency_only, "", WARD), None);
}

#[test]
fn ward_rule_covers_only_its_ward_province_rule_every_ward() {
    let rules = ladder();
    // The neighbour is in the same province but not the same ward.
    assert_eq!(
        winner(&rules, AGENCY, NEIGHBOUR).as_deref(),
        Some("agency-province")
    );
    assert_eq!(
        winner(&rules, OTHER, NEIGHBOUR).as_deref(),
        Some("province")
    );
    // Another province: only the defaults are left.
    assert_eq!(
        select(&rules, AGENCY, "01", "00004").map(|r| r.id.as_str()),
        Some("agency")
    );
    assert_eq!(
        select(&rules, OTHER, "01", "00004").map(|r| r.id.as_str()),
        Some("global")
    );
}

#[test]
fn inactive_rules_never_win() {
    let mut rules = ladder();
    for r in &mut rules {
        if r.id.contains("ward") {
            r.active = false;
        }
    }
    assert_eq!(
        winner(&rules, AGENCY, WARD).as_deref(),
        Some("agency-province")
    );
    for r in &mut rules {
        r.active = false;
    }
    assert_eq!(winner(&rules, AGENCY, WARD), None);
}

#[test]
fn ties_go_to_higher_priority_then_newest_then_id() {
    let mut low = rule("low", None, Some(PROVINCE), None);
    let mut high = rule("high", None, Some(PROVINCE), None);
    low.priority = 1;
    high.priority = 5;
    high.created_at = at(0);
    low.created_at = at(30);
    assert_eq!(
        winner(&[low.clone(), high.clone()], AGENCY, WARD).as_deref(),
        Some("high")
    );
    assert_eq!(
        winner(&[high.clone(), low.clone()], AGENCY, WARD).as_deref(),
        Some("high")
    );

    let mut old = rule("old", None, Some(PROVINCE), None);
    let mut new = rule("new", None, Some(PROVINCE), None);
    old.created_at = at(1);
    new.created_at = at(2);
    assert_eq!(
        winner(&[new.clone(), old.clone()], AGENCY, WARD).as_deref(),
        Some("new")
    );
    assert_eq!(
        winner(&[old.clone(), new.clone()], AGENCY, WARD).as_deref(),
        Some("new")
    );

    // Same timestamp: the larger (later v7) id, whatever the input order.
    let a = rule("0190a000-0000-7000-8000-000000000001", None, None, None);
    let b = rule("0190a000-0000-7000-8000-000000000002", None, None, None);
    assert_eq!(
        select(&[a.clone(), b.clone()], AGENCY, PROVINCE, WARD),
        Some(&b)
    );
    assert_eq!(select(&[b.clone(), a], AGENCY, PROVINCE, WARD), Some(&b));
}

#[test]
fn decision_copies_the_rule_or_falls_back_to_vnpost() {
    let rules = ladder();
    let d = decide(&rules, AGENCY, PROVINCE, WARD);
    assert_eq!(d.courier, Courier::Viettelpost);
    assert_eq!(d.service_code, "VCN");
    assert_eq!(d.sla_hours, 48);
    assert_eq!(d.fallback_courier, Some(Courier::Vnpost));
    assert_eq!(d.rule_id.as_deref(), Some("agency-ward"));
    assert_eq!(d.specificity, Specificity::AgencyWard);

    let d = decide(&[], AGENCY, PROVINCE, WARD);
    assert_eq!(d, RoutingDecision::built_in_default());
    assert_eq!(d.courier, Courier::Vnpost);
    assert_eq!(d.service_code, "CTN009");
    assert_eq!(d.sla_hours, 72);
    assert_eq!(d.rule_id, None);
}

#[test]
fn specificity_serialises_in_snake_case() {
    let names: Vec<String> = [
        Specificity::AgencyWard,
        Specificity::AgencyProvince,
        Specificity::AgencyDefault,
        Specificity::GlobalDefault,
        Specificity::BuiltInDefault,
    ]
    .iter()
    .map(|s| serde_json::to_string(s).unwrap())
    .collect();
    assert_eq!(
        names,
        [
            "\"agency_ward\"",
            "\"agency_province\"",
            "\"agency_default\"",
            "\"global_default\"",
            "\"built_in_default\""
        ]
    );
}
