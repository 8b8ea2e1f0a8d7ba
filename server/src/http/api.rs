//! The REST API for dashboards and programs: webhook settings and secrets,
//! the webhook event log, API keys, notifications and the dashboard's figures
//! (members, invitations and accounts are in [`super::team`]).
//! Each handler resolves the caller ([`Ctx`]) and calls the service layer.

use app::{
    input::{
        FromJson, ListEvents, ListNotifications, MarkAllRead, NewApiKey, NewNotification, NotificationUpdate, Parsed,
        PreferencesUpdate, RotateSecret, SettingsPatch,
    },
    models::{NotificationQuery, PageCursor, WebhookEventFilter},
};
use axum::{
    body::Bytes,
    extract::{
        rejection::{BytesRejection, QueryRejection},
        FromRequest, FromRequestParts, Path, Query, State,
    },
    http::{request::Parts, HeaderMap, StatusCode},
    response::{IntoResponse, Response},
    Json,
};
use serde::Deserialize;
use serde_json::{json, Map, Value};

use super::{webhooks::json_body, AppState};
use crate::{
    error::{ApiError, FieldError},
    request,
    service::{Ctx, Presented, UserCtx},
};

impl FromRequestParts<AppState> for Presented {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        Ok(request::presented(parts, state.services.development()))
    }
}

impl FromRequestParts<AppState> for Ctx {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let presented = request::presented(parts, state.services.development());
        state.services.resolve_ctx(&presented).await
    }
}

/// The signed-in user of their own account's routes (see [`crate::service::Services::resolve_user_ctx`]).
impl FromRequestParts<AppState> for UserCtx {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let presented = request::presented(parts, state.services.development());
        state.services.resolve_user_ctx(&presented).await
    }
}

/// A JSON object body parsed into the operation's typed input `T`: 400 naming
/// every bad field, or as [`JsonObject`] refuses the body.
pub struct Valid<T>(pub T);

/// A JSON object body parsed into `T`, its bad fields left for the service to
/// report after it checked the caller's role (a 403 comes before a 400); a body
/// that is no JSON object is refused at once, as by [`JsonObject`].
pub struct Checked<T>(pub Parsed<T>);

impl<T: FromJson> FromRequest<AppState> for Checked<T> {
    type Rejection = ApiError;

    async fn from_request(req: axum::extract::Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let JsonObject(map) = JsonObject::from_request(req, state).await?;
        Ok(Checked(T::from_json(&map)))
    }
}

impl<T: FromJson> FromRequest<AppState> for Valid<T> {
    type Rejection = ApiError;

    async fn from_request(req: axum::extract::Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let Checked(parsed) = Checked::from_request(req, state).await?;
        parsed.map(Valid).map_err(ApiError::Validation)
    }
}

/// A JSON object body (an empty body counts as `{}`), refused in the one
/// error shape (400 invalid JSON, 413 too large, 415 not JSON).
pub struct JsonObject(pub Map<String, Value>);

impl FromRequest<AppState> for JsonObject {
    type Rejection = ApiError;

    async fn from_request(req: axum::extract::Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let headers = req.headers().clone();
        let body = Bytes::from_request(req, state).await;
        object_body(state, &headers, body).map(JsonObject)
    }
}

/// A JSON object body; an empty body counts as `{}`.
fn object_body(
    state: &AppState,
    headers: &HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Map<String, Value>, ApiError> {
    if matches!(&body, Ok(b) if b.is_empty()) {
        return Ok(Map::new());
    }
    let (bytes, refused) = json_body(headers, body, state.services.config().max_api_body_bytes);
    match refused {
        Some(e) => Err(e),
        None => app::input::parse_object(&bytes).map_err(ApiError::InvalidJson),
    }
}

/// `GET /api/webhooks/settings`.
pub async fn get_settings(
    State(state): State<AppState>,
    ctx: Ctx,
    presented: Presented,
) -> Result<Json<Value>, ApiError> {
    let view = state.services.webhook_settings(&ctx, &state.services.public_base(Some(&presented))).await?;
    Ok(Json(json!({"success": true, "settings": view})))
}

/// `PATCH /api/webhooks/settings`.
pub async fn patch_settings(
    State(state): State<AppState>,
    ctx: Ctx,
    presented: Presented,
    Checked(patch): Checked<SettingsPatch>,
) -> Result<Json<Value>, ApiError> {
    let base = state.services.public_base(Some(&presented));
    let view = state.services.update_webhook_settings(&ctx, patch, &base).await?;
    Ok(Json(json!({"success": true, "message": "Webhook settings updated", "settings": view})))
}

/// `POST /api/webhooks/settings/test`: each attempt's outcome; `success` says whether one got through.
pub async fn test_webhook(State(state): State<AppState>, ctx: Ctx) -> Result<Json<Value>, ApiError> {
    let report = state.services.send_test_webhook(&ctx).await?;
    let message = if report.success { "Test webhook delivered" } else { "Test webhook was not accepted" };
    Ok(Json(json!({"success": report.success, "message": message, "test": report})))
}

/// `POST /api/webhooks/settings/generate-secret`.
pub async fn generate_secret(
    State(state): State<AppState>,
    ctx: Ctx,
    Checked(rotate): Checked<RotateSecret>,
) -> Result<Json<Value>, ApiError> {
    let rotated = state.services.rotate_secret(&ctx, rotate).await?;
    let mut body = json!({
        "success": true,
        "message": "New webhook secret generated. It is shown only now: store it safely.",
    });
    if let (Some(b), Ok(Value::Object(extra))) = (body.as_object_mut(), serde_json::to_value(rotated)) {
        b.extend(extra);
    }
    Ok(Json(body))
}

/// The query of `GET /api/webhooks/events`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct EventsQuery {
    endpoint: Option<String>,
    outcome: Option<String>,
    limit: Option<u32>,
    /// The `nextCursor` of the previous page.
    after: Option<String>,
}

/// A query string that does not parse: 400 in the one error shape.
fn bad_query(rejection: QueryRejection) -> ApiError {
    ApiError::Validation(vec![FieldError::new("query", rejection.body_text())])
}

/// `GET /api/webhooks/events`: the webhook event log, newest first.
pub async fn list_events(
    State(state): State<AppState>,
    ctx: Ctx,
    query: Result<Query<EventsQuery>, QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    let Query(q) = query.map_err(bad_query)?;
    let filter = WebhookEventFilter { endpoint: q.endpoint, outcome: q.outcome };
    let query = ListEvents::new(filter, q.after.as_deref(), q.limit).map_err(ApiError::Validation)?;
    let events = state.services.webhook_events(&ctx, &query).await?;
    let at = |e: &app::models::WebhookEvent| PageCursor { created_at: e.received_at, id: e.id.to_string() };
    let next = PageCursor::next_page(&events, query.page.limit, at);
    Ok(Json(json!({"success": true, "events": events, "nextCursor": next})))
}

/// `GET /api/dashboard`: today's order figures, the newest orders and activity.
pub async fn dashboard(State(state): State<AppState>, ctx: Ctx) -> Result<Json<Value>, ApiError> {
    let overview = state.services.dashboard_overview(&ctx).await?;
    Ok(Json(json!({"success": true, "dashboard": overview})))
}

/// `POST /api/webhooks/events/{id}/replay`.
pub async fn replay_event(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let accepted = state.services.replay_webhook_event(&ctx, &id).await?;
    Ok(super::accepted_response(&accepted))
}

/// `GET /api/keys`.
pub async fn list_keys(State(state): State<AppState>, ctx: Ctx) -> Result<Json<Value>, ApiError> {
    let keys = state.services.list_api_keys_for(&ctx).await?;
    Ok(Json(json!({"success": true, "keys": keys})))
}

/// `POST /api/keys` with `{"name", "role"?}`: 201 with the key, shown only here.
pub async fn create_key(
    State(state): State<AppState>,
    ctx: Ctx,
    Checked(input): Checked<NewApiKey>,
) -> Result<Response, ApiError> {
    let created = state.services.create_api_key_for(&ctx, input).await?;
    let body = json!({
        "success": true,
        "message": "API key created. It is shown only now: store it safely.",
        "key": created.key,
        "apiKey": created.info,
    });
    Ok((StatusCode::CREATED, Json(body)).into_response())
}

/// `DELETE /api/keys/{id}`.
pub async fn revoke_key(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    state.services.revoke_api_key_for(&ctx, &id).await?;
    Ok(Json(json!({"success": true, "message": "API key revoked"})))
}

/// `GET /api/me/preferences`: the caller's notification preferences.
pub async fn get_preferences(State(state): State<AppState>, ctx: Ctx) -> Result<Json<Value>, ApiError> {
    let preferences = state.services.preferences_for(&ctx).await?;
    Ok(Json(json!({"success": true, "preferences": preferences})))
}

/// `PUT /api/me/preferences` with any of `toastMinPriority`, `mutedTypes`, `desktop`.
pub async fn put_preferences(
    State(state): State<AppState>,
    ctx: Ctx,
    Checked(update): Checked<PreferencesUpdate>,
) -> Result<Json<Value>, ApiError> {
    let preferences = state.services.update_preferences_for(&ctx, update).await?;
    Ok(Json(json!({"success": true, "preferences": preferences})))
}

/// `GET /api/me/connections`: the caller's open live connections (`sockets`).
pub async fn my_connections(State(state): State<AppState>, ctx: Ctx) -> Json<Value> {
    Json(json!({"success": true, "sockets": state.services.open_connections_for(&ctx).await}))
}

/// `GET /api/notifications`.
pub async fn list_notifications(
    State(state): State<AppState>,
    ctx: Ctx,
    query: Result<Query<NotificationQuery>, QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    let Query(q) = query.map_err(bad_query)?;
    let q = ListNotifications::try_from(&q).map_err(ApiError::Validation)?;
    let page = state.services.list_notifications_for(&ctx, &q).await?;
    Ok(Json(json!({
        "success": true,
        "notifications": page.notifications,
        "unreadCount": page.unread_count,
        "nextCursor": page.next_cursor,
    })))
}

/// `POST /api/notifications`: 201 with the notification.
pub async fn create_notification(
    State(state): State<AppState>,
    ctx: Ctx,
    Valid(input): Valid<NewNotification>,
) -> Result<Response, ApiError> {
    let (notification, unread) = state.services.create_notification_for(&ctx, input).await?;
    let body = json!({"success": true, "notification": notification, "unreadCount": unread});
    Ok((StatusCode::CREATED, Json(body)).into_response())
}

/// `PATCH /api/notifications/{id}` with `isRead` / `isDismissed`.
pub async fn update_notification(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Valid(update): Valid<NotificationUpdate>,
) -> Result<Json<Value>, ApiError> {
    let (notification, unread) = state.services.update_notification_for(&ctx, &id, &update).await?;
    Ok(Json(json!({"success": true, "notification": notification, "unreadCount": unread})))
}

/// `POST /api/notifications/mark-all-read`.
pub async fn mark_all_read(
    State(state): State<AppState>,
    ctx: Ctx,
    Valid(input): Valid<MarkAllRead>,
) -> Result<Json<Value>, ApiError> {
    let done = state.services.mark_all_read_for(&ctx, &input).await?;
    let (count, unread) = (done.count, done.unread_count);
    Ok(Json(
        json!({"success": true, "message": "All notifications marked as read", "count": count, "unreadCount": unread}),
    ))
}
