//! Handlers of a tenant's connections to Shopify and Stripe
//! (`/api/webhooks/providers`): each calls its service function.

use axum::{
    extract::{Path, State},
    Json,
};
use serde_json::{json, Value};

use super::{api::JsonObject, AppState};
use app::input::ProviderUpdate;

use crate::{
    error::ApiError,
    service::{providers::provider_named, Ctx, Presented},
};

/// `GET /api/webhooks/providers`: every provider, connected or not (any member).
pub async fn list(State(state): State<AppState>, ctx: Ctx, presented: Presented) -> Result<Json<Value>, ApiError> {
    let base = state.services.public_base(Some(&presented));
    let providers = state.services.provider_connections(&ctx, &base).await?;
    Ok(Json(json!({"success": true, "providers": providers})))
}

/// `PUT /api/webhooks/providers/{provider}` with `{enabled?, signingSecret?, shopDomain?, lowStockThreshold?, graceSeconds?}` (admins).
pub async fn put(
    State(state): State<AppState>,
    ctx: Ctx,
    presented: Presented,
    Path(provider): Path<String>,
    JsonObject(body): JsonObject,
) -> Result<Json<Value>, ApiError> {
    let provider = provider_named(&provider)?;
    let update = ProviderUpdate::parse(provider, &body);
    let base = state.services.public_base(Some(&presented));
    let connection = state.services.update_provider(&ctx, provider, update, &base).await?;
    Ok(Json(json!({"success": true, "provider": connection})))
}

/// `DELETE /api/webhooks/providers/{provider}` (admins).
pub async fn delete(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(provider): Path<String>,
) -> Result<Json<Value>, ApiError> {
    state.services.delete_provider(&ctx, &provider).await?;
    Ok(Json(json!({"success": true, "message": "Disconnected"})))
}
