//! Report arithmetic with no I/O: the period a report covers (whole days in Vietnam time),
//! nearest-rank percentiles, rates, and the share of results returned by post measured
//! against the agency's own count of results.

use std::collections::BTreeMap;

use chrono::{Days, NaiveDate, NaiveDateTime, NaiveTime, TimeDelta};

/// Vietnam has kept UTC+7 without daylight saving since 1975.
pub const VIETNAM_OFFSET: TimeDelta = TimeDelta::hours(7);

/// Whole days, both ends included, in Asia/Ho_Chi_Minh.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Period {
    pub first_day: NaiveDate,
    pub last_day: NaiveDate,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PeriodError {
    #[error("must be a date written YYYY-MM-DD")]
    NotADate,
    #[error("ends before it starts")]
    Reversed,
    #[error("covers {days} days; at most {max} are allowed in one report")]
    TooLong { days: i64, max: u32 },
}

impl Period {
    /// `from`/`to` as the request gave them; a missing `to` is today, a missing `from` is
    /// `default_days` before `to`.
    pub fn parse(
        from: Option<&str>,
        to: Option<&str>,
        today: NaiveDate,
        default_days: u32,
        max_days: u32,
    ) -> Result<Self, (&'static str, PeriodError)> {
        let date = |field, text: &str| {
            NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d")
                .map_err(|_| (field, PeriodError::NotADate))
        };
        let last_day = to.map(|t| date("to", t)).transpose()?.unwrap_or(today);
        let first_day = match from {
            Some(f) => date("from", f)?,
            None => last_day - Days::new(u64::from(default_days.saturating_sub(1))),
        };
        let period = Period {
            first_day,
            last_day,
        };
        let days = period.days();
        if days < 1 {
            return Err(("to", PeriodError::Reversed));
        }
        if days > i64::from(max_days) {
            return Err((
                "from",
                PeriodError::TooLong {
                    days,
                    max: max_days,
                },
            ));
        }
        Ok(period)
    }

    pub fn days(&self) -> i64 {
        (self.last_day - self.first_day).num_days() + 1
    }

    /// The UTC instants the period spans: from local midnight of the first day up to, not
    /// including, local midnight after the last.
    pub fn utc_bounds(&self) -> (NaiveDateTime, NaiveDateTime) {
        let start = self.first_day.and_time(NaiveTime::MIN) - VIETNAM_OFFSET;
        let end = (self.last_day + Days::new(1)).and_time(NaiveTime::MIN) - VIETNAM_OFFSET;
        (start, end)
    }

    pub fn each_day(&self) -> impl Iterator<Item = NaiveDate> + '_ {
        self.first_day
            .iter_days()
            .take_while(|d| *d <= self.last_day)
    }
}

/// The local date of a UTC instant.
pub fn local_day(utc: NaiveDateTime) -> NaiveDate {
    (utc + VIETNAM_OFFSET).date()
}

/// The 0-based position of the `p`-th percentile (0 < p ≤ 1) among `n` sorted values, by
/// the nearest-rank method: the smallest value with at least p·n values at or below it. The
/// median of 4 values is the 2nd; it is always a value that occurred.
pub fn nearest_rank(n: i64, p: f64) -> Option<i64> {
    if n <= 0 || !(p > 0.0 && p <= 1.0) {
        return None;
    }
    // n·p in exact integers where the common percentiles are concerned (0.5, 0.9).
    let rank = ((n as f64) * p - 1e-9).ceil() as i64;
    Some(rank.clamp(1, n) - 1)
}

/// The nearest-rank percentile `p` of a distribution given as `(value, count)` pairs in
/// ascending order of value; none when it is empty.
pub fn histogram_percentile(sorted: &[(i64, i64)], p: f64) -> Option<i64> {
    let n: i64 = sorted.iter().map(|(_, count)| count).sum();
    let rank = nearest_rank(n, p)?;
    let mut seen = 0;
    for (value, count) in sorted {
        seen += count;
        if seen > rank {
            return Some(*value);
        }
    }
    None
}

/// `part / whole` as a fraction, none when there is nothing to divide by.
pub fn rate(part: i64, whole: i64) -> Option<f64> {
    (whole > 0).then(|| part as f64 / whole as f64)
}

/// Hours with one decimal, for people.
pub fn hours(seconds: i64) -> f64 {
    (seconds as f64 / 360.0).round() / 10.0
}

/// An agency's share of results returned by post over a period.
#[derive(Debug, Clone, PartialEq, serde::Serialize, utoipa::ToSchema)]
pub struct PostShare {
    /// Deliveries enqueued in the period.
    pub by_post: i64,
    /// Results the agency says it returned in total, summed over the days it reported.
    pub results_total: i64,
    /// Days of the period the agency reported a total for.
    pub days_reported: i64,
    /// Deliveries enqueued on those reported days: the numerator of the share.
    pub by_post_on_reported_days: i64,
    /// `by_post_on_reported_days / results_total`, in percent; none without totals.
    pub share_percent: Option<f64>,
    pub target_percent: Option<f64>,
    /// None when either the share or the target is unknown.
    pub meets_target: Option<bool>,
}

/// The share from deliveries per local day and the agency's reported totals per day. Days
/// the agency did not report are left out of the numerator as well, so a late report makes
/// the share incomplete rather than wrong.
pub fn post_share(
    by_post_per_day: &BTreeMap<NaiveDate, i64>,
    totals_per_day: &BTreeMap<NaiveDate, i64>,
    target_percent: Option<f64>,
) -> PostShare {
    let by_post = by_post_per_day.values().sum();
    let results_total: i64 = totals_per_day.values().sum();
    let by_post_on_reported_days = totals_per_day
        .keys()
        .filter_map(|day| by_post_per_day.get(day))
        .sum();
    let share_percent =
        rate(by_post_on_reported_days, results_total).map(|r| (r * 1000.0).round() / 10.0);
    let meets_target = share_percent.zip(target_percent).map(|(s, t)| s >= t);
    PostShare {
        by_post,
        results_total,
        days_reported: totals_per_day.len() as i64,
        by_post_on_reported_days,
        share_percent,
        target_percent,
        meets_target,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("date")
    }

    #[test]
    fn periods_are_whole_local_days() {
        let p = Period::parse(
            Some("2026-11-01"),
            Some("2026-11-30"),
            day("2026-12-05"),
            30,
            400,
        )
        .expect("period");
        assert_eq!(p.days(), 30);
        let (start, end) = p.utc_bounds();
        assert_eq!(start.to_string(), "2026-10-31 17:00:00");
        assert_eq!(end.to_string(), "2026-11-30 17:00:00");
        let d = Period::parse(None, None, day("2026-12-05"), 7, 400).expect("default");
        assert_eq!(
            (d.first_day, d.last_day),
            (day("2026-11-29"), day("2026-12-05"))
        );
        assert_eq!(d.each_day().count(), 7);
    }

    #[test]
    fn bad_periods_name_the_field() {
        let today = day("2026-12-05");
        assert_eq!(
            Period::parse(Some("1/11/2026"), None, today, 30, 400),
            Err(("from", PeriodError::NotADate))
        );
        assert_eq!(
            Period::parse(Some("2026-12-02"), Some("2026-12-01"), today, 30, 400),
            Err(("to", PeriodError::Reversed))
        );
        assert!(matches!(
            Period::parse(Some("2020-01-01"), None, today, 30, 400),
            Err(("from", PeriodError::TooLong { .. }))
        ));
    }

    #[test]
    fn nearest_rank_percentiles() {
        assert_eq!(nearest_rank(0, 0.5), None);
        assert_eq!(nearest_rank(1, 0.5), Some(0));
        assert_eq!(nearest_rank(4, 0.5), Some(1));
        assert_eq!(nearest_rank(5, 0.5), Some(2));
        assert_eq!(nearest_rank(10, 0.9), Some(8));
        assert_eq!(nearest_rank(11, 0.9), Some(9));
        assert_eq!(nearest_rank(3, 1.0), Some(2));
    }

    #[test]
    fn percentiles_of_a_histogram_match_the_sorted_list() {
        let h = [(10, 1), (20, 1), (30, 2)];
        assert_eq!(
            histogram_percentile(&h, 0.5),
            Some(20),
            "10 20 30 30: 2nd of 4"
        );
        assert_eq!(histogram_percentile(&h, 0.9), Some(30));
        assert_eq!(histogram_percentile(&[(7, 5)], 0.5), Some(7));
        assert_eq!(histogram_percentile(&[], 0.5), None);
    }

    #[test]
    fn local_day_turns_at_five_pm_utc() {
        let t = day("2026-11-30").and_hms_opt(16, 59, 59).expect("time");
        assert_eq!(local_day(t), day("2026-11-30"));
        assert_eq!(local_day(t + TimeDelta::seconds(1)), day("2026-12-01"));
        assert_eq!(hours(5400), 1.5);
    }

    #[test]
    fn share_counts_only_reported_days() {
        let by_post = BTreeMap::from([(day("2026-11-01"), 6), (day("2026-11-02"), 4)]);
        let totals = BTreeMap::from([(day("2026-11-01"), 10)]);
        let s = post_share(&by_post, &totals, Some(50.0));
        assert_eq!(
            (s.by_post, s.by_post_on_reported_days, s.results_total),
            (10, 6, 10)
        );
        assert_eq!(s.share_percent, Some(60.0));
        assert_eq!(s.meets_target, Some(true));
        let none = post_share(&by_post, &BTreeMap::new(), Some(50.0));
        assert_eq!((none.share_percent, none.meets_target), (None, None));
    }
}
