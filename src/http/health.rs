//! Liveness, readiness and Prometheus metrics: what the orchestrator and the on-call operator see.

use std::time::Duration;

use actix_web::{HttpResponse, get, web};
use serde::Serialize;
use utoipa::ToSchema;

use super::problem::{ApiError, problem_response};
use crate::app::AppState;

const CHECK_TIMEOUT: Duration = Duration::from_secs(2);

#[derive(Serialize, ToSchema)]
pub struct Health {
    #[schema(example = "ok")]
    pub status: &'static str,
}

/// The process is up.
#[utoipa::path(tag = "operations", responses((status = 200, body = Health)))]
#[get("/healthz")]
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(Health { status: "ok" })
}

#[derive(Serialize, ToSchema)]
pub struct Readiness {
    #[schema(example = "ready")]
    pub status: &'static str,
    /// `ok`, `not configured`, or what is wrong.
    #[schema(example = json!({"database": "ok", "redis": "not configured"}))]
    pub checks: std::collections::BTreeMap<&'static str, String>,
}

/// The database and, when configured, Redis answer. 503 names what is down.
#[utoipa::path(
    tag = "operations",
    responses(
        (status = 200, body = Readiness),
        (status = 503, description = "Something is down", body = super::problem::Problem, content_type = "application/problem+json"),
    )
)]
#[get("/readyz")]
pub async fn readyz(state: web::Data<AppState>) -> HttpResponse {
    let database = match tokio::time::timeout(CHECK_TIMEOUT, state.db.ping()).await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(e)) => Err(format!("database: {e}")),
        Err(_) => Err(format!(
            "database: no answer within {}s",
            CHECK_TIMEOUT.as_secs()
        )),
    };
    let redis = if state.settings.redis.url.is_none() {
        None
    } else {
        Some(
            match tokio::time::timeout(CHECK_TIMEOUT, state.cache.check()).await {
                Ok(result) => result,
                Err(_) => Err(format!(
                    "redis: no answer within {}s",
                    CHECK_TIMEOUT.as_secs()
                )),
            },
        )
    };
    let mut checks = std::collections::BTreeMap::new();
    let mut down = Vec::new();
    checks.insert(
        "database",
        database.clone().err().unwrap_or_else(|| "ok".into()),
    );
    if let Err(e) = database {
        down.push(e);
    }
    match redis {
        None => {
            checks.insert("redis", "not configured".into());
        }
        Some(Ok(())) => {
            checks.insert("redis", "ok".into());
        }
        Some(Err(e)) => {
            checks.insert("redis", e.clone());
            down.push(e);
        }
    }
    if down.is_empty() {
        HttpResponse::Ok().json(Readiness {
            status: "ready",
            checks,
        })
    } else {
        let problem = ApiError::Unavailable(format!("not ready: {}", down.join("; "))).to_problem();
        problem_response(actix_web::http::StatusCode::SERVICE_UNAVAILABLE, &problem)
    }
}

/// Prometheus text exposition.
#[utoipa::path(tag = "operations", responses((status = 200, content_type = "text/plain", body = String)))]
#[get("/metrics")]
pub async fn metrics(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(state.metrics.render())
}
