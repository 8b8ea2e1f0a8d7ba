//! The OpenAPI 3.1 document of the REST API (`GET /api/openapi.json`) and
//! its page (`GET /api/docs`), built with utoipa from one table of routes:
//! [`ROUTES`] names each route the router serves (a test checks that each
//! answers), its input and the answers it can give. Request bodies are the
//! schemas below; answers are the `{"success": true, …}` envelope or the one
//! error shape ([`ErrorBody`]).
//!
//! Served as it is to anyone: it describes the API, not any tenant's data.

use std::sync::LazyLock;

use axum::{
    http::header,
    response::{Html, IntoResponse, Response},
    Json,
};
use serde_json::Value;
use utoipa::{
    openapi::{
        path::{HttpMethod, OperationBuilder, ParameterBuilder, ParameterIn, PathItem},
        request_body::RequestBodyBuilder,
        security::{ApiKey, ApiKeyValue, Http, HttpAuthScheme, SecurityRequirement, SecurityScheme},
        ComponentsBuilder, ContentBuilder, InfoBuilder, OpenApi, OpenApiBuilder, PathsBuilder, Ref, RefOr,
        ResponseBuilder, ResponsesBuilder, Schema,
    },
    PartialSchema, ToSchema,
};

/// The one error shape of every refusal.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct ErrorBody {
    /// Always false.
    success: bool,
    /// A message safe to show.
    error: String,
    /// A stable code: `validation_failed`, `unauthorized`, `rate_limited`, …
    code: String,
    /// The fields at fault, for `validation_failed`.
    details: Option<Vec<FieldErrorBody>>,
}

/// One field at fault.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct FieldErrorBody {
    field: String,
    message: String,
}

/// A successful answer: `success` and the operation's fields beside it.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct Envelope {
    /// Always true.
    success: bool,
}

/// An order webhook (signed: `X-Webhook-Signature`, or Standard Webhooks' three headers).
#[derive(ToSchema)]
#[allow(dead_code, non_snake_case)]
pub struct OrderWebhook {
    tenantId: String,
    orderId: Option<String>,
    orderNumber: String,
    customerName: Option<String>,
    customerEmail: Option<String>,
    /// A decimal amount in the currency's own digits, e.g. `"19.99"` or `19.99`.
    amount: Value,
    currency: Option<String>,
    items: Option<Vec<Value>>,
    status: Option<String>,
    metadata: Option<Value>,
}

/// A notification webhook: a notification and the tenant it is for.
#[derive(ToSchema, serde::Serialize)]
#[allow(dead_code, non_snake_case)]
pub struct NotificationWebhook {
    tenantId: String,
    #[serde(flatten)]
    notification: NewNotificationBody,
}

/// A payment webhook.
#[derive(ToSchema)]
#[allow(dead_code, non_snake_case)]
pub struct PaymentWebhook {
    tenantId: String,
    paymentId: String,
    orderId: Option<String>,
    orderNumber: Option<String>,
    amount: Value,
    currency: Option<String>,
    /// `pending`, `paid`, `failed`, `refunded`.
    status: String,
    paymentMethod: Option<String>,
}

/// A change to the webhook settings: only the fields given change.
#[derive(ToSchema)]
#[allow(dead_code, non_snake_case)]
pub struct SettingsPatchBody {
    webhookEnabled: Option<bool>,
    webhookRetryAttempts: Option<u32>,
    webhookTimeoutMs: Option<u32>,
    acceptSeedSignatures: Option<bool>,
    /// `{"orders": bool, "notifications": bool, "payments": bool}`, each optional.
    webhookEndpoints: Option<Value>,
}

/// A new webhook secret; the old one keeps working for `graceSeconds`.
#[derive(ToSchema)]
#[allow(dead_code, non_snake_case)]
pub struct RotateSecretBody {
    graceSeconds: Option<u32>,
}

/// A new API key: its name and role (`member`, `admin`).
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct NewApiKeyBody {
    name: String,
    role: String,
}

/// A notification made through the API.
#[derive(ToSchema, serde::Serialize)]
#[allow(dead_code, non_snake_case)]
pub struct NewNotificationBody {
    title: String,
    message: String,
    /// `info`, `success`, `warning`, `error`, `order`, `payment`, `alert`, …
    r#type: Option<String>,
    /// `low`, `medium`, `high`, `urgent`.
    priority: Option<String>,
    userId: Option<String>,
    actionUrl: Option<String>,
    actionText: Option<String>,
    metadata: Option<Value>,
}

/// A change to one notification, for the caller (read, dismissed, snoozed).
#[derive(ToSchema)]
#[allow(dead_code, non_snake_case)]
pub struct NotificationUpdateBody {
    isRead: Option<bool>,
    isDismissed: Option<bool>,
    /// An RFC 3339 instant, or null to wake it.
    snoozedUntil: Option<String>,
    userId: Option<String>,
}

/// Marks every notification read, for the caller (or, for a program, a user).
#[derive(ToSchema)]
#[allow(dead_code, non_snake_case)]
pub struct MarkAllReadBody {
    userId: Option<String>,
}

/// The caller's own preferences.
#[derive(ToSchema)]
#[allow(dead_code, non_snake_case)]
pub struct PreferencesBody {
    mutedTypes: Option<Vec<String>>,
    toastMinPriority: Option<String>,
    desktop: Option<bool>,
}

/// A sign-in.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct LoginBody {
    email: String,
    password: String,
}

/// An invitation: who, with which role.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct NewInvitationBody {
    email: String,
    role: String,
}

/// A member's new role.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct RoleChangeBody {
    role: String,
}

/// An invitation link's token.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct InvitationTokenBody {
    token: String,
}

/// Accepting an invitation: a new account's name and password, or an existing account's password.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct AcceptInvitationBody {
    token: String,
    name: Option<String>,
    password: String,
}

/// A password change.
#[derive(ToSchema)]
#[allow(dead_code, non_snake_case)]
pub struct PasswordChangeBody {
    currentPassword: String,
    newPassword: String,
}

/// A provider connection (Shopify, Stripe).
#[derive(ToSchema)]
#[allow(dead_code, non_snake_case)]
pub struct ProviderBody {
    enabled: Option<bool>,
    signingSecret: Option<String>,
    shopDomain: Option<String>,
    lowStockThreshold: Option<u32>,
    graceSeconds: Option<u32>,
}

/// What a route takes.
#[derive(Clone, Copy)]
enum Body {
    None,
    Json(&'static str),
}

/// One route of the API: method, path, tag, summary, body, query parameters,
/// the status of its success, and whether it needs a credential.
struct Route {
    method: HttpMethod,
    path: &'static str,
    tag: &'static str,
    summary: &'static str,
    body: Body,
    query: &'static [(&'static str, &'static str)],
    ok: u16,
    auth: bool,
}

const fn route(method: HttpMethod, path: &'static str, tag: &'static str, summary: &'static str) -> Route {
    Route { method, path, tag, summary, body: Body::None, query: &[], ok: 200, auth: true }
}

impl Route {
    const fn body(mut self, schema: &'static str) -> Self {
        self.body = Body::Json(schema);
        self
    }
    const fn query(mut self, query: &'static [(&'static str, &'static str)]) -> Self {
        self.query = query;
        self
    }
    const fn created(mut self) -> Self {
        self.ok = 201;
        self
    }
    const fn public(mut self) -> Self {
        self.auth = false;
        self
    }
}

use HttpMethod::{Delete, Get, Patch, Post, Put};

/// The method's name, as HTTP writes it.
fn method_name(method: &HttpMethod) -> &'static str {
    match method {
        Get => "GET",
        Post => "POST",
        Put => "PUT",
        Patch => "PATCH",
        Delete => "DELETE",
        HttpMethod::Head => "HEAD",
        HttpMethod::Options => "OPTIONS",
        HttpMethod::Trace => "TRACE",
    }
}

/// Every REST route the router serves (the Leptos pages, server functions and Socket.IO aside).
const ROUTES: &[Route] = &[
    route(Post, "/api/webhooks/orders", "webhooks", "An order webhook (signed)")
        .body("OrderWebhook")
        .created()
        .public(),
    route(Post, "/api/webhooks/notifications", "webhooks", "A notification webhook (signed)")
        .body("NotificationWebhook")
        .created()
        .public(),
    route(Post, "/api/webhooks/payments", "webhooks", "A payment webhook (signed)").body("PaymentWebhook").public(),
    route(Post, "/api/webhooks/shopify/{tenant_id}", "webhooks", "A Shopify webhook (X-Shopify-Hmac-Sha256)").public(),
    route(Post, "/api/webhooks/stripe/{tenant_id}", "webhooks", "A Stripe event (Stripe-Signature)").public(),
    route(Get, "/api/webhooks/health", "operations", "The service and its store").public(),
    route(Get, "/api/webhooks/settings", "settings", "The tenant's webhook settings"),
    route(Patch, "/api/webhooks/settings", "settings", "Changes webhook settings (admins)").body("SettingsPatchBody"),
    route(Post, "/api/webhooks/settings/generate-secret", "settings", "A new webhook secret, shown once (admins)")
        .body("RotateSecretBody"),
    route(Post, "/api/webhooks/settings/test", "settings", "Sends a signed test webhook to this server (admins)"),
    route(Get, "/api/webhooks/providers", "settings", "Shopify and Stripe connections"),
    route(Put, "/api/webhooks/providers/{provider}", "settings", "Connects or changes a provider (admins)")
        .body("ProviderBody"),
    route(Delete, "/api/webhooks/providers/{provider}", "settings", "Disconnects a provider (admins)"),
    route(Get, "/api/webhooks/events", "events", "The webhook event log, newest first").query(&[
        ("endpoint", "string"),
        ("outcome", "string"),
        ("limit", "integer"),
        ("after", "string"),
    ]),
    route(Post, "/api/webhooks/events/{id}/replay", "events", "Processes a logged webhook again (admins)"),
    route(Get, "/api/dashboard", "dashboard", "The dashboard's figures"),
    route(Get, "/api/keys", "keys", "The tenant's API keys (admins)"),
    route(Post, "/api/keys", "keys", "A new API key, shown once (admins)").body("NewApiKeyBody").created(),
    route(Delete, "/api/keys/{id}", "keys", "Revokes an API key (admins)"),
    route(Get, "/api/notifications", "notifications", "The caller's notifications").query(&[
        ("limit", "integer"),
        ("userId", "string"),
        ("includeRead", "boolean"),
        ("includeDismissed", "boolean"),
        ("type", "string"),
        ("priority", "string"),
        ("after", "string"),
    ]),
    route(Post, "/api/notifications", "notifications", "Creates a notification").body("NewNotificationBody").created(),
    route(Post, "/api/notifications/mark-all-read", "notifications", "Marks every notification read")
        .body("MarkAllReadBody"),
    route(Patch, "/api/notifications/{id}", "notifications", "Reads, dismisses or snoozes one notification")
        .body("NotificationUpdateBody"),
    route(Get, "/api/members", "team", "The tenant's members"),
    route(Post, "/api/members", "team", "Invites someone (admins)").body("NewInvitationBody").created(),
    route(Patch, "/api/members/{user_id}", "team", "Changes a member's role").body("RoleChangeBody"),
    route(Delete, "/api/members/{user_id}", "team", "Removes a member"),
    route(Get, "/api/invitations", "team", "Pending invitations (admins)"),
    route(Post, "/api/invitations/preview", "team", "What an invitation link invites to")
        .body("InvitationTokenBody")
        .public(),
    route(Post, "/api/invitations/accept", "team", "Accepts an invitation").body("AcceptInvitationBody").public(),
    route(Delete, "/api/invitations/{id}", "team", "Revokes an invitation (admins)"),
    route(Post, "/api/auth/login", "auth", "Signs in: a session cookie").body("LoginBody").public(),
    route(Post, "/api/auth/logout", "auth", "Signs out this session").public(),
    route(Post, "/api/auth/logout-all", "auth", "Ends every session of the user"),
    route(Get, "/api/auth/me", "auth", "The caller and their tenant"),
    route(Get, "/api/me/preferences", "account", "The caller's preferences"),
    route(Put, "/api/me/preferences", "account", "Changes the caller's preferences").body("PreferencesBody"),
    route(Get, "/api/me/connections", "account", "The caller's open sockets"),
    route(Get, "/api/me/account", "account", "The signed-in user's account, tenants and sessions"),
    route(Post, "/api/me/password", "account", "Changes the user's password").body("PasswordChangeBody"),
    route(Delete, "/api/me/sessions/{id}", "account", "Ends one of the user's sessions"),
    route(Post, "/api/me/tenants/{tenant_id}/leave", "account", "Leaves a tenant"),
];

/// Every status a route may answer with besides its success, and why.
const REFUSALS: &[(u16, &str)] = &[
    (400, "A field or the query is wrong (`validation_failed`, `invalid_json`)"),
    (401, "No valid credential or signature"),
    (403, "The caller may not do this"),
    (404, "No such record"),
    (405, "Another method is expected"),
    (408, "The request took too long"),
    (409, "A conflict (retry after `Retry-After` when it says so)"),
    (410, "Gone: an expired or used invitation"),
    (413, "The body is too large"),
    (415, "The body is not JSON"),
    (422, "A provider event that cannot apply"),
    (429, "Rate limited: retry after `Retry-After`"),
    (503, "The store is unavailable: retry"),
];

fn json_content(schema: &str) -> utoipa::openapi::Content {
    ContentBuilder::new().schema(Some(RefOr::<Schema>::Ref(Ref::from_schema_name(schema)))).build()
}

fn build() -> utoipa::openapi::OpenApi {
    let mut paths = PathsBuilder::new();
    for r in ROUTES {
        let mut responses = ResponsesBuilder::new().response(
            r.ok.to_string(),
            ResponseBuilder::new().description("Done").content("application/json", json_content("Envelope")),
        );
        for (status, why) in REFUSALS {
            responses = responses.response(
                status.to_string(),
                ResponseBuilder::new().description(*why).content("application/json", json_content("ErrorBody")),
            );
        }
        let mut op = OperationBuilder::new()
            .summary(Some(r.summary))
            .tag(r.tag)
            .operation_id(Some(format!(
                "{}{}",
                method_name(&r.method).to_lowercase(),
                r.path.replace(['/', '{', '}', '-'], "_")
            )))
            .responses(responses.build());
        for segment in r.path.split('/').filter(|s| s.starts_with('{')) {
            let name = segment.trim_matches(|c| c == '{' || c == '}');
            op = op.parameter(
                ParameterBuilder::new()
                    .name(name)
                    .parameter_in(ParameterIn::Path)
                    .required(utoipa::openapi::Required::True)
                    .schema(Some(String::schema())),
            );
        }
        for (name, kind) in r.query {
            let schema = match *kind {
                "integer" => u32::schema(),
                "boolean" => bool::schema(),
                _ => String::schema(),
            };
            op = op.parameter(
                ParameterBuilder::new()
                    .name(*name)
                    .parameter_in(ParameterIn::Query)
                    .required(utoipa::openapi::Required::False)
                    .schema(Some(schema)),
            );
        }
        if let Body::Json(schema) = r.body {
            op = op.request_body(Some(
                RequestBodyBuilder::new()
                    .content("application/json", json_content(schema))
                    .required(Some(utoipa::openapi::Required::True))
                    .build(),
            ));
        }
        if r.auth {
            op = op
                .security(SecurityRequirement::new("apiKey", Vec::<String>::new()))
                .security(SecurityRequirement::new("session", Vec::<String>::new()));
        }
        paths = paths.path(r.path, PathItem::new(r.method.clone(), op.build()));
    }
    let mut components = ComponentsBuilder::new()
        .schema_from::<ErrorBody>()
        .schema_from::<FieldErrorBody>()
        .schema_from::<Envelope>()
        .schema_from::<OrderWebhook>()
        .schema_from::<NotificationWebhook>()
        .schema_from::<PaymentWebhook>()
        .schema_from::<SettingsPatchBody>()
        .schema_from::<RotateSecretBody>()
        .schema_from::<NewApiKeyBody>()
        .schema_from::<NewNotificationBody>()
        .schema_from::<NotificationUpdateBody>()
        .schema_from::<MarkAllReadBody>()
        .schema_from::<PreferencesBody>()
        .schema_from::<LoginBody>()
        .schema_from::<NewInvitationBody>()
        .schema_from::<RoleChangeBody>()
        .schema_from::<InvitationTokenBody>()
        .schema_from::<AcceptInvitationBody>()
        .schema_from::<PasswordChangeBody>()
        .schema_from::<ProviderBody>()
        .security_scheme("apiKey", SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)))
        .security_scheme(
            "session",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::new("__Host-hookbell_session"))),
        );
    components = components
        .security_scheme("tenantHeader", SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::new("x-tenant-id"))));
    OpenApiBuilder::new()
        .info(InfoBuilder::new().title("hookbell").version(env!("CARGO_PKG_VERSION")).description(Some(
            "Webhooks in, notifications out. Successful answers are `{\"success\": true, …}`; every \
                     refusal is the one error shape. See the README for signing and events.",
        )))
        .paths(paths.build())
        .components(Some(components.build()))
        .build()
}

/// The document, built once.
static DOCUMENT: LazyLock<OpenApi> = LazyLock::new(build);

/// The paths the document names (for the test that each is served).
pub fn documented() -> Vec<(&'static str, &'static str)> {
    ROUTES.iter().map(|r| (method_name(&r.method), r.path)).collect()
}

/// `GET /api/openapi.json`.
pub async fn document() -> Json<&'static OpenApi> {
    Json(&DOCUMENT)
}

/// `GET /api/docs`: the routes, server-rendered from the document (no script).
pub async fn page() -> Response {
    let escape = |s: &str| s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;");
    let mut rows = String::new();
    for r in ROUTES {
        let body = match r.body {
            Body::Json(schema) => format!("<code>{schema}</code>"),
            Body::None => String::new(),
        };
        let query: Vec<&str> = r.query.iter().map(|(name, _)| *name).collect();
        rows.push_str(&format!(
            "<tr><td>{}</td><td><code>{}</code></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            method_name(&r.method),
            escape(r.path),
            escape(r.summary),
            body,
            escape(&query.join(", ")),
            if r.auth { "API key or session" } else { "none (webhooks: signature)" }
        ));
    }
    let html = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>hookbell API</title></head><body>\
         <h1>hookbell API</h1><p>The OpenAPI 3.1 document: <a href=\"/api/openapi.json\">/api/openapi.json</a>. \
         Every success is <code>{{\"success\": true, …}}</code>; every refusal is <code>{{\"success\": false, \
         \"error\", \"code\", \"details\"?}}</code>.</p><table><thead><tr><th>method</th><th>path</th><th>what</th>\
         <th>body</th><th>query</th><th>credential</th></tr></thead><tbody>{rows}</tbody></table></body></html>"
    );
    ([(header::CACHE_CONTROL, "no-cache")], Html(html)).into_response()
}
