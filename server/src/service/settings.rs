//! A tenant's webhook settings (the seed's Settings → Webhooks): read, change
//! with validated ranges, and rotate the webhook secret with an optional grace
//! period. Changes are audited, never with the secret itself.

pub use app::input::dashboard::{MAX_GRACE_SECONDS, RETRY_ATTEMPTS, TIMEOUT_MS};
use app::{
    input::{Parsed, RotateSecret, SettingsPatch},
    models::{Role, WebhookUrls},
};
use serde_json::json;

use super::{Ctx, Services};
use crate::{
    error::ApiError,
    ids,
    signature::generate_secret,
    store::{PreviousSecret, Secret, Tenant},
};

/// What `GET /api/webhooks/settings` shows.
pub use app::models::{RotatedSecret, WebhookSettingsView as SettingsView};

impl Services {
    async fn caller_tenant(&self, ctx: &Ctx) -> Result<Tenant, ApiError> {
        self.store.get_tenant(&ctx.tenant_id).await?.ok_or(ApiError::NotFound("Tenant"))
    }

    fn settings_view(&self, tenant: &Tenant, base_url: &str) -> Result<SettingsView, ApiError> {
        let base = base_url.trim_end_matches('/');
        let now = ids::now();
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
                .map(|p| p.valid_until),
            webhook_urls: WebhookUrls {
                orders: format!("{base}/api/webhooks/orders"),
                notifications: format!("{base}/api/webhooks/notifications"),
                payments: format!("{base}/api/webhooks/payments"),
            },
            uses_fallback_secret: tenant.webhook_secret_sealed.is_empty(),
        })
    }

    /// The server's address as senders and browsers reach it: `HOOKBELL_PUBLIC_URL`,
    /// else the `Host` the request named (else the address listened on), with
    /// `https://` in production (a forwarded `http` never lowers it: TLS may end
    /// at an outer balancer) and in development the scheme a trusted proxy
    /// named (`X-Forwarded-Proto`), else `http://`, as
    /// [`Services::origin_allowed`] takes it.
    pub fn public_base(&self, req: Option<&super::Presented>) -> String {
        match &self.config.public_url {
            Some(url) => url.clone(),
            None => {
                let host = req.and_then(|r| r.host.as_deref());
                let scheme = match self.development() {
                    true => req.and_then(|r| r.forwarded_proto).unwrap_or("http"),
                    false => "https",
                };
                let host = host.map(str::to_owned).unwrap_or_else(|| self.config.site_addr.to_string());
                format!("{scheme}://{host}")
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
        patch: Parsed<SettingsPatch>,
        base_url: &str,
    ) -> Result<SettingsView, ApiError> {
        ctx.require(Role::Admin)?;
        let mut tenant = self.caller_tenant(ctx).await?;
        let patch = patch.map_err(ApiError::Validation)?;
        let before = tenant.webhook_settings;
        tenant.webhook_settings = patch.apply(before);
        if tenant.webhook_settings != before {
            if !self.store.update_webhook_settings(&tenant.id, &tenant.webhook_settings).await? {
                return Err(ApiError::NotFound("Tenant"));
            }
            self.tenant_changed(&tenant.id).await;
            let details = json!({"before": before, "after": tenant.webhook_settings});
            self.audit(ctx, "settings.updated", "tenant", &tenant.id, details).await?;
            self.announce_refresh(&tenant.id, "settings-updated", &["settings"]).await;
        }
        self.settings_view(&tenant, base_url)
    }

    /// Generates a new webhook secret (admins). With `graceSeconds` > 0 the
    /// old secret stays valid that long, so senders can switch without loss.
    pub async fn rotate_secret(&self, ctx: &Ctx, rotate: Parsed<RotateSecret>) -> Result<RotatedSecret, ApiError> {
        ctx.require(Role::Admin)?;
        let rotate = rotate.map_err(ApiError::Validation)?;
        let grace = rotate.grace_seconds();
        let tenant = self.caller_tenant(ctx).await?;
        // The secret senders use now: the tenant's own, or for a tenant that
        // relied on it, the global fallback (sealed for this tenant from now on).
        let current = match tenant.webhook_secret_sealed.as_str() {
            "" => self.config.webhook_secret.as_deref().map(|global| self.seal(global, &tenant.id)),
            sealed => Some(sealed.to_owned()),
        };
        let previous = current
            .filter(|_| grace > 0)
            .map(|sealed| PreviousSecret { sealed, valid_until: ids::now() + std::time::Duration::from_secs(grace) });
        let secret = generate_secret();
        if !self.store.rotate_webhook_secret(&tenant.id, &self.seal(&secret, &tenant.id), previous.as_ref()).await? {
            return Err(ApiError::NotFound("Tenant"));
        }
        self.tenant_changed(&tenant.id).await;
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
        Ok(self.open_tenant(tenant.clone())?.accepted_at(ids::now()).cloned().collect())
    }
}
