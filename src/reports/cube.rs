//! Sections read off the period's cube (`store::reports::cube`: deliveries by local day,
//! agency, courier and current state) and its delivery-time histogram. Pure sums, so one
//! pass over the deliveries serves the states, totals, couriers, daily and share sections.

use std::collections::{BTreeMap, HashMap};

use chrono::NaiveDate;

use super::Outcomes;
use crate::domain::report::{self, histogram_percentile};
use crate::domain::state::DeliveryState;
use crate::store::reports::{CubeCell, MinuteCount};

/// Deliveries per state, largest first (then by state).
pub fn by_state(cells: &[CubeCell]) -> Vec<(String, i64)> {
    let mut counts: BTreeMap<&str, i64> = BTreeMap::new();
    for c in cells {
        *counts.entry(&c.state).or_default() += c.deliveries;
    }
    let mut out: Vec<(String, i64)> = counts
        .into_iter()
        .map(|(state, n)| (state.to_owned(), n))
        .collect();
    out.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    out
}

/// The outcome figures of the cells for which `keep` holds, with the percentiles of the
/// histogram rows for which `keep_minutes` holds.
pub fn outcomes(
    cells: &[CubeCell],
    minutes: &[MinuteCount],
    keep: impl Fn(&CubeCell) -> bool,
    keep_minutes: impl Fn(&MinuteCount) -> bool,
) -> Outcomes {
    let mut o = Outcomes::default();
    for c in cells.iter().filter(|c| keep(c)) {
        let state = DeliveryState::parse(&c.state);
        o.deliveries += c.deliveries;
        o.on_time += c.on_time;
        match state {
            Some(DeliveryState::Delivered) => o.delivered += c.deliveries,
            Some(DeliveryState::Returned) => o.returned += c.deliveries,
            _ => {}
        }
        if state.is_some_and(DeliveryState::is_terminal) {
            o.ended += c.deliveries;
        }
    }
    o.on_time_rate = report::rate(o.on_time, o.delivered);
    // Rows are ordered by courier, then minute; merge the couriers kept.
    let mut histogram: BTreeMap<i64, i64> = BTreeMap::new();
    for m in minutes.iter().filter(|m| keep_minutes(m)) {
        *histogram.entry(m.minute).or_default() += m.count;
    }
    let sorted: Vec<(i64, i64)> = histogram.into_iter().collect();
    let at = |p| histogram_percentile(&sorted, p).map(|minute| report::hours(minute * 60));
    o.median_hours = at(0.5);
    o.p90_hours = at(0.9);
    o
}

/// The couriers present, most deliveries first.
pub fn couriers(cells: &[CubeCell]) -> Vec<String> {
    let mut counts: HashMap<&str, i64> = HashMap::new();
    for c in cells {
        *counts.entry(&c.courier).or_default() += c.deliveries;
    }
    let mut out: Vec<(&str, i64)> = counts.into_iter().collect();
    out.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    out.into_iter().map(|(c, _)| c.to_owned()).collect()
}

/// Deliveries per day and state (`"YYYY-MM-DD"` → state → count).
pub fn per_day_state(cells: &[CubeCell]) -> BTreeMap<&str, BTreeMap<&str, i64>> {
    let mut out: BTreeMap<&str, BTreeMap<&str, i64>> = BTreeMap::new();
    for c in cells {
        *out.entry(&c.day).or_default().entry(&c.state).or_default() += c.deliveries;
    }
    out
}

/// Deliveries per agency and day: the numerator of the share returned by post.
pub fn per_agency_day(cells: &[CubeCell]) -> HashMap<String, BTreeMap<NaiveDate, i64>> {
    let mut out: HashMap<String, BTreeMap<NaiveDate, i64>> = HashMap::new();
    for c in cells {
        if let Ok(day) = NaiveDate::parse_from_str(&c.day, "%Y-%m-%d") {
            *out.entry(c.agency_id.clone())
                .or_default()
                .entry(day)
                .or_default() += c.deliveries;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cell(day: &str, courier: &str, state: &str, n: i64, on_time: i64) -> CubeCell {
        CubeCell {
            day: day.into(),
            agency_id: "a".into(),
            courier: courier.into(),
            state: state.into(),
            deliveries: n,
            on_time,
        }
    }

    #[test]
    fn outcomes_add_up_the_kept_cells() {
        let cells = [
            cell("2026-11-01", "vnpost", "delivered", 3, 2),
            cell("2026-11-01", "vnpost", "returned", 1, 0),
            cell("2026-11-02", "viettelpost", "in_transit", 2, 0),
        ];
        let minutes = [
            MinuteCount {
                courier: "vnpost".into(),
                minute: 60,
                count: 1,
            },
            MinuteCount {
                courier: "vnpost".into(),
                minute: 120,
                count: 2,
            },
        ];
        let all = outcomes(&cells, &minutes, |_| true, |_| true);
        assert_eq!(
            (
                all.deliveries,
                all.delivered,
                all.on_time,
                all.returned,
                all.ended
            ),
            (6, 3, 2, 1, 4)
        );
        assert_eq!((all.median_hours, all.p90_hours), (Some(2.0), Some(2.0)));
        let vtp = outcomes(
            &cells,
            &minutes,
            |c| c.courier == "viettelpost",
            |m| m.courier == "viettelpost",
        );
        assert_eq!(
            (vtp.deliveries, vtp.median_hours, vtp.on_time_rate),
            (2, None, None)
        );
        assert_eq!(couriers(&cells), ["vnpost", "viettelpost"]);
        assert_eq!(by_state(&cells)[0], ("delivered".to_owned(), 3));
    }
}
