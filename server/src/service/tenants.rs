//! Tenants: creation (with a fresh secret) and the development demo tenant.

use crate::{
    error::ApiError,
    ids,
    signature::generate_secret,
    store::{Secret, Tenant},
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
    /// Creates a tenant with a new random webhook secret.
    pub async fn create_tenant(&self, name: &str, slug: &str) -> Result<CreatedTenant, ApiError> {
        let secret = generate_secret();
        let tenant = Tenant {
            id: ids::new_id(),
            name: name.to_owned(),
            slug: slug.to_owned(),
            webhook_secret_sealed: self.seal(&secret),
            webhook_settings: Default::default(),
            previous_secret: None,
            created_at: ids::now_rfc3339(),
        };
        self.store.insert_tenant(&tenant).await?;
        Ok(CreatedTenant { tenant, webhook_secret: secret })
    }

    /// The tenant's webhook secret in plain text (for verifying and signing only).
    pub fn tenant_secret(&self, tenant: &Tenant) -> Result<Secret, ApiError> {
        self.open_secret(&tenant.webhook_secret_sealed, &tenant.id)
    }

    /// Opens a sealed secret of `tenant_id`.
    pub(super) fn open_secret(&self, sealed: &str, tenant_id: &str) -> Result<Secret, ApiError> {
        self.sealer.open(sealed).map(Secret::new).map_err(|e| ApiError::Internal(format!("tenant {tenant_id}: {e}")))
    }

    /// Seals a secret for the store.
    pub(super) fn seal(&self, secret: &str) -> String {
        self.sealer.seal(secret)
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
