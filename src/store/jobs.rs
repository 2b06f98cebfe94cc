//! The transactional outbox: jobs are written in the caller's transaction.
use super::schema::outbox_jobs;
use super::{DbConnection, StoreError};
use crate::domain::ids::{new_id, now_utc};
use crate::domain::jobs::NewJob;
use diesel::prelude::*;

pub fn enqueue(conn: &mut DbConnection, job: &NewJob) -> Result<String, StoreError> {
    let id = new_id();
    let now = now_utc();
    diesel::insert_into(outbox_jobs::table)
        .values((
            outbox_jobs::id.eq(&id),
            outbox_jobs::kind.eq(job.kind.as_str()),
            outbox_jobs::delivery_id.eq(&job.delivery_id),
            outbox_jobs::payload.eq(job.payload.to_string()),
            outbox_jobs::status.eq("pending"),
            outbox_jobs::attempts.eq(0),
            outbox_jobs::max_attempts.eq(job.kind.max_attempts()),
            outbox_jobs::run_at.eq(job.run_at.unwrap_or(now)),
            outbox_jobs::created_at.eq(now),
            outbox_jobs::updated_at.eq(now),
        ))
        .execute(conn)?;
    Ok(id)
}
