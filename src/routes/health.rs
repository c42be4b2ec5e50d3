//! Liveness, readiness and metrics endpoints for load balancers and monitoring.

use actix_web::{HttpResponse, web};
use diesel::connection::SimpleConnection;

use crate::error::{AppError, AppResult};
use crate::state::AppState;

/// `GET /healthz`: the process is up. Touches nothing else, so it stays cheap under load.
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/plain; charset=utf-8")
        .body("ok")
}

/// `GET /readyz`: the database answers. 503 otherwise, so a load balancer stops sending traffic.
pub async fn readyz(state: web::Data<AppState>) -> AppResult<HttpResponse> {
    state
        .db(|conn| {
            conn.batch_execute("SELECT 1")
                .map_err(|e| AppError::Unavailable(e.into()))
        })
        .await?;
    Ok(HttpResponse::Ok()
        .content_type("text/plain; charset=utf-8")
        .body("ready"))
}

/// `GET /metrics`: Prometheus text format.
pub async fn metrics(state: web::Data<AppState>) -> AppResult<HttpResponse> {
    let text = state
        .metrics
        .render(&state.pool)
        .map_err(AppError::internal)?;
    Ok(HttpResponse::Ok()
        .content_type("application/openmetrics-text; version=1.0.0; charset=utf-8")
        .body(text))
}
