//! A tenant's webhook settings (the seed's Settings → Webhooks): read, change
//! with validated ranges, and rotate the webhook secret with an optional grace
//! period. Changes are audited, never with the secret itself.

use app::models::{Role, WebhookSettings, WebhookUrls};
use serde_json::{json, Map, Value};

use super::{Ctx, Services};
use crate::{
    error::{ApiError, FieldError},
    ids,
    signature::generate_secret,
    store::{PreviousSecret, Secret, Tenant},
};

/// The retry attempts a tenant may choose.
pub const RETRY_ATTEMPTS: std::ops::RangeInclusive<u64> = 0..=10;
/// The delivery timeouts a tenant may choose, in milliseconds.
pub const TIMEOUT_MS: std::ops::RangeInclusive<u64> = 1_000..=120_000;
/// The longest grace period for a rotated-out secret: 7 days.
pub const MAX_GRACE_SECONDS: u64 = 7 * 24 * 3600;

/// What `GET /api/webhooks/settings` shows.
pub use app::models::{RotatedSecret, WebhookSettingsView as SettingsView};

impl Services {
    async fn caller_tenant(&self, ctx: &Ctx) -> Result<Tenant, ApiError> {
        self.store.get_tenant(&ctx.tenant_id).await?.ok_or(ApiError::NotFound("Tenant"))
    }

    fn settings_view(&self, tenant: &Tenant, base_url: &str) -> Result<SettingsView, ApiError> {
        let base = base_url.trim_end_matches('/');
        let now = ids::now_rfc3339();
        Ok(SettingsView {
            settings: tenant.webhook_settings,
            secret_hint: match self.accepted_secrets(tenant)?.first() {
                Some(secret) => secret.hint(),
                None => "none: generate a secret".into(),
            },
            previous_secret_valid_until: tenant
                .previous_secret
                .as_ref()
                .filter(|p| p.valid_until > now)
                .map(|p| p.valid_until.clone()),
            webhook_urls: WebhookUrls {
                orders: format!("{base}/api/webhooks/orders"),
                notifications: format!("{base}/api/webhooks/notifications"),
                payments: format!("{base}/api/webhooks/payments"),
            },
            uses_fallback_secret: tenant.webhook_secret_sealed.is_empty(),
        })
    }

    /// The server's address as senders reach it: `HOOKBELL_PUBLIC_URL`, else
    /// `http://` and the request's `Host`.
    pub fn public_base(&self, headers: &axum::http::HeaderMap) -> String {
        match &self.config.public_url {
            Some(url) => url.clone(),
            None => {
                let host = headers.get(axum::http::header::HOST).and_then(|h| h.to_str().ok());
                format!("http://{}", host.map(str::to_owned).unwrap_or_else(|| self.config.site_addr.to_string()))
            }
        }
    }

    /// The caller's tenant's webhook settings (any member).
    pub async fn webhook_settings(&self, ctx: &Ctx, base_url: &str) -> Result<SettingsView, ApiError> {
        let tenant = self.caller_tenant(ctx).await?;
        self.settings_view(&tenant, base_url)
    }

    /// Applies a partial update (admins): only the fields given change.
    pub async fn update_webhook_settings(
        &self,
        ctx: &Ctx,
        patch: &Map<String, Value>,
        base_url: &str,
    ) -> Result<SettingsView, ApiError> {
        ctx.require(Role::Admin)?;
        let mut tenant = self.caller_tenant(ctx).await?;
        let before = tenant.webhook_settings;
        tenant.webhook_settings = apply_patch(before, patch).map_err(ApiError::Validation)?;
        if tenant.webhook_settings != before {
            if !self.store.update_webhook_settings(&tenant.id, &tenant.webhook_settings).await? {
                return Err(ApiError::NotFound("Tenant"));
            }
            let details = json!({"before": before, "after": tenant.webhook_settings});
            self.audit(ctx, "settings.updated", "tenant", &tenant.id, details).await?;
            self.announce_refresh(&tenant.id, "settings-updated", &["settings"]).await;
        }
        self.settings_view(&tenant, base_url)
    }

    /// Generates a new webhook secret (admins). With `graceSeconds` > 0 the
    /// old secret stays valid that long, so senders can switch without loss.
    pub async fn rotate_secret(&self, ctx: &Ctx, body: &Map<String, Value>) -> Result<RotatedSecret, ApiError> {
        ctx.require(Role::Admin)?;
        let grace = match body.get("graceSeconds") {
            None | Some(Value::Null) => 0,
            Some(Value::Number(n)) => match n.as_u64() {
                Some(g) if g <= MAX_GRACE_SECONDS => g,
                _ => return Err(grace_error()),
            },
            Some(_) => return Err(grace_error()),
        };
        if let Some(unknown) = body.keys().find(|k| *k != "graceSeconds") {
            return Err(ApiError::Validation(vec![FieldError::new(unknown.as_str(), "is not a known field")]));
        }
        let tenant = self.caller_tenant(ctx).await?;
        // The secret senders use now: the tenant's own, or for a tenant that
        // relied on it, the global fallback (sealed for this tenant from now on).
        let current = match tenant.webhook_secret_sealed.as_str() {
            "" => self.config.webhook_secret.as_deref().map(|global| self.seal(global, &tenant.id)),
            sealed => Some(sealed.to_owned()),
        };
        let previous = current.filter(|_| grace > 0).map(|sealed| PreviousSecret {
            sealed,
            valid_until: ids::format_time(time::OffsetDateTime::now_utc() + time::Duration::seconds(grace as i64)),
        });
        let secret = generate_secret();
        if !self.store.rotate_webhook_secret(&tenant.id, &self.seal(&secret, &tenant.id), previous.as_ref()).await? {
            return Err(ApiError::NotFound("Tenant"));
        }
        let valid_until = previous.map(|p| p.valid_until);
        let details = json!({"graceSeconds": grace, "previousSecretValidUntil": valid_until});
        self.audit(ctx, "secret.rotated", "tenant", &tenant.id, details).await?;
        let hint = Secret::new(secret.clone()).hint();
        Ok(RotatedSecret { webhook_secret: secret, secret_hint: hint, previous_secret_valid_until: valid_until })
    }

    /// The secrets a webhook of `tenant` may be signed with now: the current
    /// one, and the previous one during its grace period. A tenant without a
    /// secret of its own (imported from the seed's database) falls back to the
    /// global `WEBHOOK_SECRET`, as in the seed; with neither, nothing verifies.
    pub fn accepted_secrets(&self, tenant: &Tenant) -> Result<Vec<Secret>, ApiError> {
        if tenant.webhook_secret_sealed.is_empty() {
            return Ok(self.config.webhook_secret.iter().map(|s| Secret::new(s.clone())).collect());
        }
        let mut secrets = vec![self.tenant_secret(tenant)?];
        // (An empty previous secret was stored by an older version rotating away from the fallback: none.)
        if let Some(previous) =
            tenant.previous_secret.as_ref().filter(|p| !p.sealed.is_empty() && p.valid_until > ids::now_rfc3339())
        {
            secrets.push(self.open_secret(&previous.sealed, &tenant.id)?);
        }
        Ok(secrets)
    }
}

fn grace_error() -> ApiError {
    ApiError::Validation(vec![FieldError::new(
        "graceSeconds",
        format!("must be a whole number of seconds from 0 to {MAX_GRACE_SECONDS}"),
    )])
}

/// The settings after a partial update, or every bad field.
pub fn apply_patch(mut s: WebhookSettings, patch: &Map<String, Value>) -> Result<WebhookSettings, Vec<FieldError>> {
    let mut errors = Vec::new();
    let number = |field: &str, v: &Value, range: &std::ops::RangeInclusive<u64>, errors: &mut Vec<FieldError>| match v
        .as_u64()
        .filter(|n| range.contains(n))
    {
        Some(n) => Some(n as u32),
        None => {
            errors.push(FieldError::new(
                field,
                format!("must be a whole number from {} to {}", range.start(), range.end()),
            ));
            None
        }
    };
    for (key, value) in patch {
        match key.as_str() {
            "webhookEnabled" => match value.as_bool() {
                Some(b) => s.webhook_enabled = b,
                None => errors.push(FieldError::new(key.as_str(), "must be true or false")),
            },
            "webhookRetryAttempts" => {
                if let Some(n) = number(key, value, &RETRY_ATTEMPTS, &mut errors) {
                    s.webhook_retry_attempts = n;
                }
            }
            "webhookTimeoutMs" => {
                if let Some(n) = number(key, value, &TIMEOUT_MS, &mut errors) {
                    s.webhook_timeout_ms = n;
                }
            }
            "acceptSeedSignatures" => match value.as_bool() {
                Some(b) => s.accept_seed_signatures = b,
                None => errors.push(FieldError::new(key.as_str(), "must be true or false")),
            },
            "webhookEndpoints" => match value.as_object() {
                Some(endpoints) => {
                    for (name, on) in endpoints {
                        let field = format!("webhookEndpoints.{name}");
                        let slot = match name.as_str() {
                            "orders" => &mut s.webhook_endpoints.orders,
                            "notifications" => &mut s.webhook_endpoints.notifications,
                            "payments" => &mut s.webhook_endpoints.payments,
                            _ => {
                                errors.push(FieldError::new(field, "is not a known endpoint"));
                                continue;
                            }
                        };
                        match on.as_bool() {
                            Some(b) => *slot = b,
                            None => errors.push(FieldError::new(field, "must be true or false")),
                        }
                    }
                }
                None => errors.push(FieldError::new(key.as_str(), "must be an object of endpoint switches")),
            },
            _ => errors.push(FieldError::new(key.as_str(), "is not a known setting")),
        }
    }
    if errors.is_empty() {
        Ok(s)
    } else {
        Err(errors)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn patch(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn patches_change_only_what_they_name() {
        let s =
            apply_patch(WebhookSettings::default(), &patch(json!({"webhookEndpoints": {"payments": false}}))).unwrap();
        assert!(!s.webhook_endpoints.payments && s.webhook_endpoints.orders && s.webhook_enabled);
        let s = apply_patch(s, &patch(json!({"webhookRetryAttempts": 10, "webhookTimeoutMs": 1000}))).unwrap();
        assert_eq!((s.webhook_retry_attempts, s.webhook_timeout_ms), (10, 1000));
        assert!(s.accept_seed_signatures, "on by default");
        let s = apply_patch(s, &patch(json!({"acceptSeedSignatures": false}))).unwrap();
        assert!(!s.accept_seed_signatures);
        assert!(apply_patch(s, &patch(json!({"acceptSeedSignatures": "no"}))).is_err());
    }

    #[test]
    fn ranges_and_names_are_checked() {
        let bad = json!({
            "webhookRetryAttempts": 11, "webhookTimeoutMs": 999, "webhookEnabled": "yes",
            "webhookEndpoints": {"refunds": true, "orders": 1}, "colour": "red"
        });
        let errors = apply_patch(WebhookSettings::default(), &patch(bad)).unwrap_err();
        let mut fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        fields.sort();
        assert_eq!(
            fields,
            [
                "colour",
                "webhookEnabled",
                "webhookEndpoints.orders",
                "webhookEndpoints.refunds",
                "webhookRetryAttempts",
                "webhookTimeoutMs"
            ]
        );
        assert!(apply_patch(WebhookSettings::default(), &patch(json!({"webhookTimeoutMs": 120001}))).is_err());
        assert!(apply_patch(WebhookSettings::default(), &patch(json!({"webhookRetryAttempts": -1}))).is_err());
    }
}
