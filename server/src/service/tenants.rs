//! Tenants: creation (with a fresh secret) and the development demo tenant.

use app::models::TenantId;

use crate::{
    error::{ApiError, FieldError},
    ids,
    sealing::Sealer,
    signature::generate_secret,
    store::{PreviousSecret, Secret, StoreError, Tenant},
};

use super::Services;

/// A tenant just created, with its secret: the only time the secret is shown.
pub struct CreatedTenant {
    pub tenant: Tenant,
    pub webhook_secret: String,
}

/// The slug of the development demo tenant.
pub const DEMO_SLUG: &str = "demo";

impl Services {
    /// Every tenant, oldest first (administration).
    pub async fn list_tenants(&self) -> Result<Vec<Tenant>, ApiError> {
        Ok(self.store.list_tenants().await?)
    }

    /// The id of the tenant with this slug, else the text itself as an id (lower case).
    pub async fn tenant_id_by_slug_or_id(&self, slug_or_id: &str) -> Result<TenantId, ApiError> {
        Ok(match self.store.get_tenant_by_slug(slug_or_id).await? {
            Some(t) => t.id,
            None => TenantId::from(slug_or_id.to_ascii_lowercase()),
        })
    }

    /// Creates a tenant with a new random webhook secret. The name is 1–100
    /// characters; the slug (default: made from the name) is 1–50 of `a-z`,
    /// `0-9` and `-`, and unique.
    pub async fn create_tenant(&self, name: &str, slug: &str) -> Result<CreatedTenant, ApiError> {
        let name = name.trim();
        let mut errors = Vec::new();
        if name.is_empty() || name.chars().count() > 100 {
            errors.push(FieldError::new("name", "must be 1 to 100 characters"));
        }
        let slug = if slug.is_empty() { slugify(name) } else { slug.to_owned() };
        if !is_slug(&slug) {
            errors.push(FieldError::new("slug", "must be 1 to 50 of a-z, 0-9 and '-'"));
        }
        if !errors.is_empty() {
            return Err(ApiError::Validation(errors));
        }
        let secret = generate_secret();
        let id: TenantId = ids::new_id();
        let tenant = Tenant {
            webhook_secret_sealed: self.seal(&secret, &id),
            id,
            name: name.to_owned(),
            slug: slug.clone(),
            webhook_settings: Default::default(),
            previous_secret: None,
            created_at: ids::now(),
        };
        match self.store.insert_tenant(&tenant).await {
            Err(StoreError::Conflict(_)) => Err(ApiError::Conflict(format!("a tenant with the slug '{slug}' exists"))),
            other => other.map_err(ApiError::from),
        }?;
        Ok(CreatedTenant { tenant, webhook_secret: secret })
    }

    /// The tenant's webhook secret in plain text (for verifying and signing only).
    pub fn tenant_secret(&self, tenant: &Tenant) -> Result<Secret, ApiError> {
        self.open_secret(&tenant.webhook_secret_sealed, &tenant.id)
    }

    /// Opens a sealed secret of `tenant_id` (it opens for that tenant only).
    pub(super) fn open_secret(&self, sealed: &str, tenant_id: &str) -> Result<Secret, ApiError> {
        self.sealer
            .open(sealed, tenant_id)
            .map(Secret::new)
            .map_err(|e| ApiError::Internal(format!("tenant {tenant_id}: {e}")))
    }

    /// Seals a secret of `tenant_id` for the store.
    pub(super) fn seal(&self, secret: &str, tenant_id: &str) -> String {
        self.sealer.seal(secret, tenant_id)
    }

    /// At start-up: seals again, bound to their tenant, the secrets sealed in
    /// the first format (one conditional write each, so a rotation on another
    /// node at the same time wins), and says in the log how many tenants
    /// still rely on the global `WEBHOOK_SECRET`. Returns (migrated, on the fallback).
    pub async fn migrate_sealed_secrets(&self) -> Result<(usize, usize), ApiError> {
        let (mut migrated, mut on_fallback) = (0, 0);
        for tenant in self.store.list_tenants().await? {
            if tenant.webhook_secret_sealed.is_empty() {
                on_fallback += 1;
                continue;
            }
            let current_unbound = Sealer::is_unbound(&tenant.webhook_secret_sealed);
            let previous_unbound = tenant.previous_secret.as_ref().is_some_and(|p| Sealer::is_unbound(&p.sealed));
            if !current_unbound && !previous_unbound {
                continue;
            }
            let rebind = |sealed: &str| -> Result<String, ApiError> {
                if !Sealer::is_unbound(sealed) {
                    return Ok(sealed.to_owned());
                }
                let plain = self
                    .sealer
                    .open_unbound(sealed)
                    .map_err(|e| ApiError::Internal(format!("tenant {}: {e}", tenant.id)))?;
                Ok(self.seal(&plain, &tenant.id))
            };
            // A value that does not open (corrupt, or another key's) is left as it is and said:
            // that tenant's webhooks fail as they did, the others' server starts.
            let current = match rebind(&tenant.webhook_secret_sealed) {
                Ok(sealed) => sealed,
                Err(e) => {
                    tracing::error!(tenant = %tenant.id, error = %e, "cannot migrate the tenant's sealed secret");
                    continue;
                }
            };
            // An expired previous secret is dropped rather than migrated.
            let now = ids::now();
            let previous = match &tenant.previous_secret {
                Some(p) if !p.sealed.is_empty() && p.valid_until > now => match rebind(&p.sealed) {
                    Ok(sealed) => Some(PreviousSecret { sealed, valid_until: p.valid_until }),
                    Err(e) => {
                        tracing::warn!(tenant = %tenant.id, error = %e, "dropping a previous secret that does not open");
                        None
                    }
                },
                _ => None,
            };
            if self
                .store
                .reseal_webhook_secrets(&tenant.id, &tenant.webhook_secret_sealed, &current, previous.as_ref())
                .await?
            {
                self.tenants.forget(&tenant.id);
                migrated += 1;
            }
        }
        if migrated > 0 {
            tracing::info!(tenants = migrated, "sealed webhook secrets again, bound to their tenant");
        }
        if on_fallback > 0 {
            let global = if self.config.webhook_secret.is_some() { "set" } else { "NOT set: they accept nothing" };
            tracing::warn!(
                tenants = on_fallback,
                "tenants without a webhook secret of their own rely on the global WEBHOOK_SECRET ({global}); \
                 rotate their secret in Settings → Webhooks"
            );
        }
        Ok((migrated, on_fallback))
    }

    /// Finds or creates the demo tenant (development only). Returns the
    /// tenant, and its secret when it was created now.
    pub async fn ensure_demo_tenant(&self) -> Result<(Tenant, Option<String>), ApiError> {
        let (tenant, secret) = match self.store.get_tenant_by_slug(DEMO_SLUG).await? {
            Some(t) => (t, None),
            None => {
                let created = self.create_tenant("Demo Store", DEMO_SLUG).await?;
                (created.tenant, Some(created.webhook_secret))
            }
        };
        let _ = self.demo_tenant_id.set(tenant.id.clone());
        Ok((tenant, secret))
    }
}

/// A slug made from a name: lowercase letters and digits, other runs as `-`.
pub fn slugify(name: &str) -> String {
    let mut slug = String::new();
    for c in name.chars().flat_map(char::to_lowercase) {
        if c.is_ascii_alphanumeric() {
            slug.push(c);
        } else if !slug.is_empty() && !slug.ends_with('-') {
            slug.push('-');
        }
    }
    let slug: String = slug.trim_end_matches('-').chars().take(50).collect();
    slug.trim_end_matches('-').to_owned()
}

fn is_slug(s: &str) -> bool {
    (1..=50).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_from_names() {
        assert_eq!(slugify("Acme Shoes & Co."), "acme-shoes-co");
        assert_eq!(slugify("  Ünïcode Störe "), "n-code-st-re");
        assert_eq!(slugify("!!!"), "");
        assert!(is_slug("demo") && is_slug("a-1") && !is_slug("") && !is_slug("Demo") && !is_slug(&"a".repeat(51)));
    }
}
