//! Quiet hours: no SMS at night, Vietnam time (UTC+7 all year, no daylight saving). A
//! message due inside the window waits for its end.

use chrono::{DateTime, Duration, NaiveTime, Utc};

use crate::tracking::view::VIETNAM;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QuietHours {
    start: NaiveTime,
    end: NaiveTime,
}

impl QuietHours {
    /// `start` and `end` as `HH:MM`, Vietnam time. A window may cross midnight (21:00 to
    /// 07:00); equal ends mean no quiet hours at all.
    pub fn parse(start: &str, end: &str) -> Result<Self, String> {
        let read = |what: &str, value: &str| {
            NaiveTime::parse_from_str(value.trim(), "%H:%M")
                .map_err(|_| format!("{what} {value:?} is not a time like 21:00"))
        };
        Ok(Self {
            start: read("start", start)?,
            end: read("end", end)?,
        })
    }

    /// No quiet hours.
    pub fn none() -> Self {
        Self {
            start: NaiveTime::MIN,
            end: NaiveTime::MIN,
        }
    }

    fn contains(&self, t: NaiveTime) -> bool {
        if self.start == self.end {
            false
        } else if self.start < self.end {
            self.start <= t && t < self.end
        } else {
            t >= self.start || t < self.end
        }
    }

    /// `now` when outside the window, else the window's end (the next morning's, or today's
    /// when it is already past midnight).
    pub fn next_allowed(&self, now: DateTime<Utc>) -> DateTime<Utc> {
        let local = now.with_timezone(&VIETNAM);
        let time = local.time();
        if !self.contains(time) {
            return now;
        }
        let mut day = local.date_naive();
        if time >= self.end {
            day += Duration::days(1);
        }
        day.and_time(self.end)
            .and_local_timezone(VIETNAM)
            .single()
            .map_or(now, |end| end.with_timezone(&Utc))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `local`: Vietnam time `YYYY-MM-DD HH:MM:SS`.
    fn at(local: &str) -> DateTime<Utc> {
        chrono::NaiveDateTime::parse_from_str(local, "%Y-%m-%d %H:%M:%S")
            .expect("time")
            .and_local_timezone(VIETNAM)
            .single()
            .expect("offset")
            .with_timezone(&Utc)
    }

    fn night() -> QuietHours {
        QuietHours::parse("21:00", "07:00").expect("hours")
    }

    #[test]
    fn outside_the_window_is_now() {
        for t in [
            "2026-11-22 07:00:00",
            "2026-11-22 12:00:00",
            "2026-11-22 20:59:59",
        ] {
            assert_eq!(night().next_allowed(at(t)), at(t), "{t}");
        }
    }

    #[test]
    fn the_evening_waits_for_the_next_morning() {
        let morning = at("2026-11-23 07:00:00");
        assert_eq!(night().next_allowed(at("2026-11-22 21:00:00")), morning);
        assert_eq!(night().next_allowed(at("2026-11-22 23:59:59")), morning);
    }

    #[test]
    fn after_midnight_waits_for_the_same_morning() {
        let morning = at("2026-11-23 07:00:00");
        assert_eq!(night().next_allowed(at("2026-11-23 00:00:00")), morning);
        assert_eq!(night().next_allowed(at("2026-11-23 06:59:59")), morning);
    }

    #[test]
    fn the_local_date_counts_not_the_utc_one() {
        // 22:30 on the 22nd in Vietnam is 15:30 UTC the same day; 01:00 on the 23rd in
        // Vietnam is still the 22nd in UTC.
        let morning = at("2026-11-23 07:00:00");
        assert_eq!(night().next_allowed(at("2026-11-23 01:00:00")), morning);
        assert_eq!(
            at("2026-11-23 01:00:00").date_naive().to_string(),
            "2026-11-22"
        );
    }

    #[test]
    fn a_window_inside_one_day() {
        let lunch = QuietHours::parse("12:00", "13:30").expect("hours");
        assert_eq!(
            lunch.next_allowed(at("2026-11-22 11:59:00")),
            at("2026-11-22 11:59:00")
        );
        assert_eq!(
            lunch.next_allowed(at("2026-11-22 12:00:00")),
            at("2026-11-22 13:30:00")
        );
        assert_eq!(
            lunch.next_allowed(at("2026-11-22 13:30:00")),
            at("2026-11-22 13:30:00")
        );
    }

    #[test]
    fn equal_ends_mean_no_quiet_hours() {
        let never = QuietHours::parse("07:00", "07:00").expect("hours");
        assert_eq!(
            never.next_allowed(at("2026-11-22 03:00:00")),
            at("2026-11-22 03:00:00")
        );
        assert_eq!(
            QuietHours::none().next_allowed(at("2026-11-22 23:00:00")),
            at("2026-11-22 23:00:00")
        );
    }

    #[test]
    fn bad_times_name_the_end() {
        assert!(
            QuietHours::parse("9pm", "07:00")
                .unwrap_err()
                .contains("start")
        );
        assert!(
            QuietHours::parse("21:00", "25:00")
                .unwrap_err()
                .contains("end")
        );
    }
}
