//! The operator's reports: aggregates over deliveries enqueued in a period, optionally of
//! one agency or one province. Plain SQL that both backends read the same way (`$n`
//! placeholders are positional on PostgreSQL and named-in-order on SQLite); the only
//! backend-specific part is the expression for a local day.
//!
//! Timing figures use `delivered_seconds`, written when a delivery reached `delivered`, so
//! every query is an index range scan plus a sort at most; none reads the event history
//! except the failure reasons (a partial index on applied events by state).

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Nullable, Text, Timestamp};

use super::schema::agency_result_totals;
use super::{DbConnection, StoreError};
use crate::domain::ids::now_utc;

/// Which deliveries a report covers: enqueued in `[from, to)` (UTC), of one agency and/or
/// one recipient province when given.
#[derive(Debug, Clone)]
pub struct ReportFilter {
    pub from: NaiveDateTime,
    pub to: NaiveDateTime,
    pub agency_id: Option<String>,
    pub province_code: Option<String>,
}

/// `$1`–`$4` of every query below.
const WHERE_DELIVERIES: &str = "d.created_at >= $1 AND d.created_at < $2 \
     AND ($3 IS NULL OR d.agency_id = $3) AND ($4 IS NULL OR d.province_code = $4)";

/// Binds `$1`–`$4` (the filter) to a raw query; further binds follow as `$5`….
macro_rules! bind_filter {
    ($query:expr, $f:expr) => {
        $query
            .bind::<Timestamp, _>($f.from)
            .bind::<Timestamp, _>($f.to)
            .bind::<Nullable<Text>, _>($f.agency_id.clone())
            .bind::<Nullable<Text>, _>($f.province_code.clone())
    };
}

/// Runs a report query with settings for aggregating a year of deliveries on PostgreSQL:
/// enough `work_mem` for the hash aggregate to stay in memory (with the default 4 MB the
/// planner sorts tens of megabytes on disk instead, twice as slow), and no JIT (its compile
/// time is a tenth of a sub-second query and it saves less). `SET LOCAL` ends with the
/// transaction, so pooled connections go back unchanged.
fn tuned<T>(
    conn: &mut DbConnection,
    query: impl FnOnce(&mut DbConnection) -> Result<T, StoreError>,
) -> Result<T, StoreError> {
    match conn {
        DbConnection::Postgresql(_) => conn.transaction(|c| {
            diesel::sql_query("SET LOCAL work_mem = '64MB'").execute(c)?;
            diesel::sql_query("SET LOCAL jit = off").execute(c)?;
            query(c)
        }),
        DbConnection::Sqlite(_) => query(conn),
    }
}

/// A delivery on time: delivered within its SLA.
const ON_TIME: &str =
    "d.delivered_seconds IS NOT NULL AND d.delivered_seconds <= d.sla_hours * 3600";

/// Counts for one group of deliveries.
#[derive(Debug, Clone, PartialEq, QueryableByName)]
pub struct GroupCounts {
    #[diesel(sql_type = Text)]
    pub key: String,
    #[diesel(sql_type = BigInt)]
    pub deliveries: i64,
    #[diesel(sql_type = BigInt)]
    pub delivered: i64,
    #[diesel(sql_type = BigInt)]
    pub on_time: i64,
    #[diesel(sql_type = BigInt)]
    pub returned: i64,
    /// Ended in any terminal state.
    #[diesel(sql_type = BigInt)]
    pub ended: i64,
}

/// Deliveries per ward, largest first (the one breakdown the cube leaves out: a ward per
/// cell would make it as large as the table).
pub fn ward_counts(
    conn: &mut DbConnection,
    filter: &ReportFilter,
) -> Result<Vec<GroupCounts>, StoreError> {
    let sql = format!(
        "SELECT d.ward_code AS key, COUNT(*) AS deliveries, \
           COALESCE(SUM(CASE WHEN d.state = 'delivered' THEN 1 ELSE 0 END), 0) AS delivered, \
           COALESCE(SUM(CASE WHEN {ON_TIME} THEN 1 ELSE 0 END), 0) AS on_time, \
           COALESCE(SUM(CASE WHEN d.state = 'returned' THEN 1 ELSE 0 END), 0) AS returned, \
           COALESCE(SUM(CASE WHEN d.ended_at IS NOT NULL THEN 1 ELSE 0 END), 0) AS ended \
         FROM deliveries d WHERE {WHERE_DELIVERIES} \
         GROUP BY d.ward_code ORDER BY deliveries DESC, key"
    );
    tuned(conn, |c| {
        Ok(bind_filter!(diesel::sql_query(sql), filter).load(c)?)
    })
}

#[derive(Debug, Clone, PartialEq, QueryableByName)]
pub struct ReasonCount {
    #[diesel(sql_type = Text)]
    pub state: String,
    #[diesel(sql_type = Text)]
    pub courier: String,
    #[diesel(sql_type = Nullable<Text>)]
    pub reason: Option<String>,
    #[diesel(sql_type = BigInt)]
    pub count: i64,
}

/// Applied `delivery_failed` (each failed attempt) and `returning` (each return) events of
/// the deliveries in the filter, per state, courier and reason, in one pass.
pub fn event_reasons(
    conn: &mut DbConnection,
    filter: &ReportFilter,
) -> Result<Vec<ReasonCount>, StoreError> {
    let sql = format!(
        "SELECT e.state AS state, d.courier AS courier, e.reason AS reason, COUNT(*) AS count \
         FROM delivery_events e JOIN deliveries d ON d.id = e.delivery_id \
         WHERE {WHERE_DELIVERIES} AND e.applied \
           AND e.state IN ('delivery_failed', 'returning') \
         GROUP BY e.state, d.courier, e.reason ORDER BY count DESC, courier, reason"
    );
    tuned(conn, |c| {
        Ok(bind_filter!(diesel::sql_query(sql), filter).load(c)?)
    })
}

/// One cell of the period's cube: deliveries enqueued on a local day, of one agency and
/// courier, in one state now, and how many of them were delivered within their SLA.
#[derive(Debug, Clone, PartialEq, QueryableByName)]
pub struct CubeCell {
    #[diesel(sql_type = Text)]
    pub day: String,
    #[diesel(sql_type = Text)]
    pub agency_id: String,
    #[diesel(sql_type = Text)]
    pub courier: String,
    #[diesel(sql_type = Text)]
    pub state: String,
    #[diesel(sql_type = BigInt)]
    pub deliveries: i64,
    #[diesel(sql_type = BigInt)]
    pub on_time: i64,
}

/// The deliveries of the filter by (local enqueue day, agency, courier, state), in one
/// pass: the states, totals, couriers, daily volume and share-by-post sections are all sums
/// over it.
pub fn cube(conn: &mut DbConnection, filter: &ReportFilter) -> Result<Vec<CubeCell>, StoreError> {
    // `local_day` is a generated column (see the operator-desk migration): a date on
    // PostgreSQL, formatted once per cell; already text on SQLite.
    let format = match conn {
        DbConnection::Postgresql(_) => "to_char(c.day, 'YYYY-MM-DD')",
        DbConnection::Sqlite(_) => "c.day",
    };
    let sql = format!(
        "SELECT {format} AS day, c.agency_id, c.courier, c.state, c.deliveries, c.on_time \
         FROM (SELECT d.local_day AS day, d.agency_id AS agency_id, d.courier AS courier, \
                 d.state AS state, COUNT(*) AS deliveries, \
                 COALESCE(SUM(CASE WHEN {ON_TIME} THEN 1 ELSE 0 END), 0) AS on_time \
               FROM deliveries d WHERE {WHERE_DELIVERIES} GROUP BY 1, 2, 3, 4) c"
    );
    tuned(conn, |c| {
        Ok(bind_filter!(diesel::sql_query(sql), filter).load(c)?)
    })
}

/// How many deliveries took each whole minute from enqueue to delivery, per courier.
#[derive(Debug, Clone, PartialEq, QueryableByName)]
pub struct MinuteCount {
    #[diesel(sql_type = Text)]
    pub courier: String,
    #[diesel(sql_type = BigInt)]
    pub minute: i64,
    #[diesel(sql_type = BigInt)]
    pub count: i64,
}

/// The delivery-time distribution of the filter at one-minute resolution (a few thousand
/// rows at most), from which the percentiles are read: exact to the minute, far below the
/// tenth of an hour the reports show, and one pass instead of a sort per percentile.
pub fn delivery_minutes(
    conn: &mut DbConnection,
    filter: &ReportFilter,
) -> Result<Vec<MinuteCount>, StoreError> {
    let sql = format!(
        "SELECT d.courier AS courier, d.delivered_seconds / 60 AS minute, COUNT(*) AS count \
         FROM deliveries d WHERE {WHERE_DELIVERIES} AND d.delivered_seconds IS NOT NULL \
         GROUP BY 1, 2 ORDER BY 1, 2"
    );
    tuned(conn, |c| {
        Ok(bind_filter!(diesel::sql_query(sql), filter).load(c)?)
    })
}

/// Results an agency returned in total on one local day, as it reports them.
#[derive(Debug, Clone, PartialEq, Queryable)]
pub struct ResultTotal {
    pub agency_id: String,
    pub day: String,
    pub results_total: i32,
}

/// The reported totals of the days `first..=last`, of one agency or all.
pub fn result_totals(
    conn: &mut DbConnection,
    first: NaiveDate,
    last: NaiveDate,
    agency_id: Option<&str>,
) -> Result<Vec<ResultTotal>, StoreError> {
    let mut query = agency_result_totals::table
        .filter(agency_result_totals::day.ge(first.to_string()))
        .filter(agency_result_totals::day.le(last.to_string()))
        .select((
            agency_result_totals::agency_id,
            agency_result_totals::day,
            agency_result_totals::results_total,
        ))
        .order((agency_result_totals::agency_id, agency_result_totals::day))
        .into_boxed();
    if let Some(id) = agency_id {
        query = query.filter(agency_result_totals::agency_id.eq(id.to_owned()));
    }
    Ok(query.load(conn)?)
}

/// Records an agency's totals, replacing what it reported before for the same days, all
/// in one transaction.
pub fn save_result_totals(
    conn: &mut DbConnection,
    agency_id: &str,
    totals: &[(NaiveDate, i32)],
) -> Result<(), StoreError> {
    let now = now_utc();
    conn.transaction(|conn| {
        for (day, total) in totals {
            let day = day.to_string();
            diesel::delete(agency_result_totals::table.find((agency_id, &day))).execute(conn)?;
            diesel::insert_into(agency_result_totals::table)
                .values((
                    agency_result_totals::agency_id.eq(agency_id),
                    agency_result_totals::day.eq(&day),
                    agency_result_totals::results_total.eq(total),
                    agency_result_totals::reported_at.eq(now),
                ))
                .execute(conn)?;
        }
        Ok(())
    })
}
