//! A tenant's connections to Shopify and Stripe: members read them (never a
//! secret, only its last characters), admins connect, change and remove them.
//! A signing secret is sealed bound to its tenant and provider; one that is
//! replaced may stay valid for a grace period, so deliveries signed before the
//! provider's own switch still verify.

use std::time::Duration;

use app::{
    input::{Parsed, ProviderUpdate},
    models::{Provider, ProviderConnectionView, Role, TenantId, DEFAULT_LOW_STOCK_THRESHOLD},
};
use serde_json::json;

use super::{Ctx, Services};
use crate::{
    error::{ApiError, FieldError},
    ids,
    store::{PreviousSecret, ProviderConnection, Secret},
};

/// How many times a change is tried again when another change of the same
/// connection was saved between its read and its write.
const SAVE_TRIES: usize = 3;

/// What a sealed provider secret is bound to: its tenant and provider.
fn owner(tenant_id: &TenantId, provider: Provider) -> String {
    format!("{tenant_id}:{}", provider.as_str())
}

/// `shopify` or `stripe` as a URL names it: 404 otherwise.
pub fn provider_named(name: &str) -> Result<Provider, ApiError> {
    Provider::parse(name).ok_or(ApiError::NotFound("Provider"))
}

impl Services {
    /// Every provider, connected or not, as the caller's tenant has it (any member).
    pub async fn provider_connections(&self, ctx: &Ctx, base: &str) -> Result<Vec<ProviderConnectionView>, ApiError> {
        let stored = self.store.list_connections(&ctx.tenant_id).await?;
        Provider::ALL
            .into_iter()
            .map(|p| self.connection_view(&ctx.tenant_id, p, stored.iter().find(|c| c.provider == p), base))
            .collect()
    }

    /// Connects or changes the caller's tenant's connection to `provider`
    /// (admins): only the fields given change; a first connection needs its
    /// signing secret (and Shopify's the shop's domain). Two changes at once
    /// both apply, one after the other.
    pub async fn update_provider(
        &self,
        ctx: &Ctx,
        provider: Provider,
        update: Parsed<ProviderUpdate>,
        base: &str,
    ) -> Result<ProviderConnectionView, ApiError> {
        ctx.require(Role::Admin)?;
        let update = update.map_err(ApiError::Validation)?;
        for _ in 0..SAVE_TRIES {
            let current = self.store.get_connection(&ctx.tenant_id, provider).await?;
            let next = self.changed_connection(&ctx.tenant_id, provider, current.as_ref(), &update)?;
            if self.store.save_connection(&next, current.as_ref().map(|c| c.version)).await? {
                let details = json!({
                    "provider": provider.as_str(),
                    "connected": current.is_none(),
                    "enabled": next.enabled,
                    "secretReplaced": current.is_some() && update.signing_secret.is_some(),
                    "graceSeconds": update.signing_secret.as_ref().map(|_| update.grace_seconds),
                    "shopDomain": next.shop_domain,
                    "lowStockThreshold": (provider == Provider::Shopify).then_some(next.low_stock_threshold),
                });
                self.audit(ctx, "provider.updated", "provider", provider.as_str(), details).await?;
                self.announce_refresh(&ctx.tenant_id, "provider-updated", &["providers"]).await;
                return self.connection_view(&ctx.tenant_id, provider, Some(&next), base);
            }
        }
        Err(ApiError::Conflict("The connection changed at the same time; try again".into()))
    }

    /// Removes the caller's tenant's connection to `provider` (admins): its
    /// deliveries are refused from now on.
    pub async fn delete_provider(&self, ctx: &Ctx, provider: &str) -> Result<(), ApiError> {
        let provider = provider_named(provider)?;
        ctx.require(Role::Admin)?;
        if !self.store.delete_connection(&ctx.tenant_id, provider).await? {
            return Err(ApiError::NotFound("Provider connection"));
        }
        let details = json!({"provider": provider.as_str()});
        self.audit(ctx, "provider.deleted", "provider", provider.as_str(), details).await?;
        self.announce_refresh(&ctx.tenant_id, "provider-deleted", &["providers"]).await;
        Ok(())
    }

    /// The secrets a delivery over `connection` may be signed with now: the
    /// current one, and the replaced one during its grace period.
    pub fn provider_secrets(&self, connection: &ProviderConnection) -> Result<Vec<Secret>, ApiError> {
        let owner = owner(&connection.tenant_id, connection.provider);
        let mut secrets = vec![self.open_secret(&connection.secret_sealed, &owner)?];
        if let Some(previous) = connection.previous_secret.as_ref().filter(|p| p.valid_until > ids::now()) {
            secrets.push(self.open_secret(&previous.sealed, &owner)?);
        }
        Ok(secrets)
    }

    /// `current` with `update` applied (or a new connection from it).
    fn changed_connection(
        &self,
        tenant_id: &TenantId,
        provider: Provider,
        current: Option<&ProviderConnection>,
        update: &ProviderUpdate,
    ) -> Result<ProviderConnection, ApiError> {
        let now = ids::now();
        let owner = owner(tenant_id, provider);
        let mut next = match current {
            Some(c) => ProviderConnection { version: c.version + 1, updated_at: now, ..c.clone() },
            None => {
                let mut missing = Vec::new();
                if update.signing_secret.is_none() {
                    missing.push(FieldError::new("signingSecret", "is required to connect"));
                }
                if provider == Provider::Shopify && update.shop_domain.is_none() {
                    missing.push(FieldError::new("shopDomain", "is required to connect Shopify"));
                }
                if !missing.is_empty() {
                    return Err(ApiError::Validation(missing));
                }
                ProviderConnection {
                    tenant_id: tenant_id.clone(),
                    provider,
                    enabled: true,
                    secret_sealed: String::new(),
                    previous_secret: None,
                    shop_domain: None,
                    low_stock_threshold: DEFAULT_LOW_STOCK_THRESHOLD,
                    last_delivery_at: None,
                    // Not 1: a change that read a connection since deleted must not match its successor.
                    version: now.unix_millis(),
                    created_at: now,
                    updated_at: now,
                }
            }
        };
        if let Some(secret) = &update.signing_secret {
            next.previous_secret = current.filter(|_| update.grace_seconds > 0).map(|c| PreviousSecret {
                sealed: c.secret_sealed.clone(),
                valid_until: now + Duration::from_secs(update.grace_seconds),
            });
            next.secret_sealed = self.seal(secret, &owner);
        }
        if let Some(enabled) = update.enabled {
            next.enabled = enabled;
        }
        if let Some(domain) = &update.shop_domain {
            next.shop_domain = Some(domain.clone());
        }
        if let Some(threshold) = update.low_stock_threshold {
            next.low_stock_threshold = threshold;
        }
        Ok(next)
    }

    /// How members see `provider`'s connection (or its absence).
    fn connection_view(
        &self,
        tenant_id: &TenantId,
        provider: Provider,
        connection: Option<&ProviderConnection>,
        base: &str,
    ) -> Result<ProviderConnectionView, ApiError> {
        let url = format!("{}/api/webhooks/{}/{tenant_id}", base.trim_end_matches('/'), provider.as_str());
        let topics = provider.topics().iter().map(|t| (*t).to_owned()).collect();
        let shopify = provider == Provider::Shopify;
        let Some(c) = connection else {
            return Ok(ProviderConnectionView {
                provider,
                connected: false,
                enabled: false,
                secret_hint: None,
                previous_secret_valid_until: None,
                shop_domain: None,
                low_stock_threshold: shopify.then_some(DEFAULT_LOW_STOCK_THRESHOLD),
                url,
                topics,
                last_delivery_at: None,
                updated_at: None,
            });
        };
        let hint = self.open_secret(&c.secret_sealed, &owner(tenant_id, provider))?.hint();
        Ok(ProviderConnectionView {
            provider,
            connected: true,
            enabled: c.enabled,
            secret_hint: Some(hint),
            previous_secret_valid_until: c.previous_secret.as_ref().map(|p| p.valid_until).filter(|t| *t > ids::now()),
            shop_domain: c.shop_domain.clone(),
            low_stock_threshold: shopify.then_some(c.low_stock_threshold),
            url,
            topics,
            last_delivery_at: c.last_delivery_at,
            updated_at: Some(c.updated_at),
        })
    }
}
