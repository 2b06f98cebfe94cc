//! The report sections as CSV, for spreadsheets: one header row, one row per line of the
//! section, decimals with a dot, UTF-8 with a byte-order mark so Excel reads Vietnamese.

use super::{AgencyShare, CourierReport, DayReport, ReasonReport, StateCount, WardReport};
use crate::domain::state::DeliveryState;

/// Excel opens UTF-8 CSV as UTF-8 only when the file starts with a BOM.
const BOM: &str = "\u{feff}";

fn opt<T: ToString>(v: Option<T>) -> String {
    v.map(|v| v.to_string()).unwrap_or_default()
}

fn write(header: &[&str], rows: impl Iterator<Item = Vec<String>>) -> Result<String, csv::Error> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(header)?;
    for row in rows {
        w.write_record(&row)?;
    }
    let bytes = w.into_inner().map_err(|e| e.into_error())?;
    Ok(format!("{BOM}{}", String::from_utf8_lossy(&bytes)))
}

pub fn states(rows: &[StateCount]) -> Result<String, csv::Error> {
    write(
        &["state", "label", "count"],
        rows.iter()
            .map(|r| vec![r.state.clone(), r.label.clone(), r.count.to_string()]),
    )
}

pub fn share_by_post(rows: &[AgencyShare]) -> Result<String, csv::Error> {
    write(
        &[
            "agency",
            "name",
            "level",
            "by_post",
            "results_total",
            "days_reported",
            "by_post_on_reported_days",
            "share_percent",
            "target_percent",
            "meets_target",
        ],
        rows.iter().map(|r| {
            let s = &r.share;
            vec![
                r.agency.clone(),
                r.name.clone(),
                opt(r.level.clone()),
                s.by_post.to_string(),
                s.results_total.to_string(),
                s.days_reported.to_string(),
                s.by_post_on_reported_days.to_string(),
                opt(s.share_percent),
                opt(s.target_percent),
                opt(s.meets_target),
            ]
        }),
    )
}

pub fn couriers(rows: &[CourierReport]) -> Result<String, csv::Error> {
    write(
        &[
            "courier",
            "deliveries",
            "delivered",
            "on_time",
            "on_time_rate",
            "returned",
            "ended",
            "failed_attempts",
            "median_hours",
            "p90_hours",
        ],
        rows.iter().map(|r| {
            let o = &r.outcomes;
            vec![
                r.courier.clone(),
                o.deliveries.to_string(),
                o.delivered.to_string(),
                o.on_time.to_string(),
                opt(o.on_time_rate),
                o.returned.to_string(),
                o.ended.to_string(),
                r.failed_attempts.to_string(),
                opt(o.median_hours),
                opt(o.p90_hours),
            ]
        }),
    )
}

pub fn wards(rows: &[WardReport]) -> Result<String, csv::Error> {
    write(
        &[
            "ward_code",
            "ward_name",
            "province_code",
            "deliveries",
            "delivered",
            "on_time",
            "on_time_rate",
            "returned",
        ],
        rows.iter().map(|r| {
            vec![
                r.ward_code.clone(),
                r.ward_name.clone(),
                r.province_code.clone(),
                r.deliveries.to_string(),
                r.delivered.to_string(),
                r.on_time.to_string(),
                opt(r.on_time_rate),
                r.returned.to_string(),
            ]
        }),
    )
}

/// Failed attempts and returns in one table, told apart by `kind`.
pub fn reasons(failed: &[ReasonReport], returns: &[ReasonReport]) -> Result<String, csv::Error> {
    let tagged = failed
        .iter()
        .map(|r| ("failed_attempt", r))
        .chain(returns.iter().map(|r| ("return", r)));
    write(
        &["kind", "courier", "reason", "label", "count"],
        tagged.map(|(kind, r)| {
            vec![
                kind.to_owned(),
                r.courier.clone(),
                opt(r.reason.clone()),
                r.label.clone(),
                r.count.to_string(),
            ]
        }),
    )
}

/// One column per state, in the order of the state machine.
pub fn daily(rows: &[DayReport]) -> Result<String, csv::Error> {
    let states: Vec<&str> = DeliveryState::ALL.iter().map(|s| s.as_str()).collect();
    let mut header = vec!["day", "total"];
    header.extend(&states);
    write(
        &header,
        rows.iter().map(|d| {
            let mut row = vec![d.day.clone(), d.total.to_string()];
            row.extend(
                states
                    .iter()
                    .map(|s| d.by_state.get(*s).copied().unwrap_or(0).to_string()),
            );
            row
        }),
    )
}
