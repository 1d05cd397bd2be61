//! `GET /healthz`: 200 with the backend name when the database answers, 503 otherwise.

use actix_web::{HttpResponse, web};
use diesel::connection::SimpleConnection;

use crate::AppState;

/// The health check.
pub async fn healthz(state: web::Data<AppState>) -> HttpResponse {
    let backend = state.db.backend().name();
    let ok = state
        .db
        .read(|c| c.batch_execute("SELECT 1").map_err(Into::into))
        .await
        .is_ok();
    if ok {
        HttpResponse::Ok().json(serde_json::json!({"status": "ok", "database": backend}))
    } else {
        HttpResponse::ServiceUnavailable()
            .json(serde_json::json!({"status": "unavailable", "database": backend}))
    }
}
