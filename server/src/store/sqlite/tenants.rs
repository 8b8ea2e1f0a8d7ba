//! Tenants in SQLite: the `tenants` table, with each tenant's webhook
//! settings (JSON) and sealed webhook secrets.

use app::models::TenantId;
use async_trait::async_trait;

use super::{
    query::vals,
    rows::{json_text, tenant_from_row, tenant_values, TENANT_COLUMNS},
    SqliteStore,
};
use crate::store::{PreviousSecret, StoreResult, Tenant, TenantStore, WebhookSettings};

impl SqliteStore {
    /// Sets a tenant's sealed secrets, if its current one is still `expected`
    /// (when given): whether it changed.
    async fn set_secrets(
        &self,
        tenant_id: &TenantId,
        expected: Option<&str>,
        sealed: &str,
        previous: Option<&PreviousSecret>,
    ) -> StoreResult<bool> {
        let changed = self
            .exec(
                "UPDATE tenants SET webhook_secret_sealed = ?2, previous_secret_sealed = ?3, \
                 previous_secret_valid_until = ?4 WHERE id = ?1 AND (?5 IS NULL OR webhook_secret_sealed = ?5)",
                vals![tenant_id, sealed, previous.map(|p| &p.sealed), previous.map(|p| &p.valid_until), expected],
            )
            .await?;
        Ok(changed > 0)
    }
}

#[async_trait]
impl TenantStore for SqliteStore {
    async fn insert_tenant(&self, tenant: &Tenant) -> StoreResult<()> {
        let sql = format!("INSERT INTO tenants ({TENANT_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)");
        self.exec(sql, tenant_values(tenant)?).await.map(|_| ())
    }

    async fn get_tenant(&self, tenant_id: &TenantId) -> StoreResult<Option<Tenant>> {
        self.one(format!("SELECT {TENANT_COLUMNS} FROM tenants WHERE id = ?1"), vals![tenant_id], tenant_from_row).await
    }

    async fn update_webhook_settings(&self, tenant_id: &TenantId, settings: &WebhookSettings) -> StoreResult<bool> {
        let sql = "UPDATE tenants SET webhook_settings = ?2 WHERE id = ?1";
        Ok(self.exec(sql, vals![tenant_id, json_text(settings)?]).await? > 0)
    }

    async fn rotate_webhook_secret(
        &self,
        tenant_id: &TenantId,
        sealed: &str,
        previous: Option<&PreviousSecret>,
    ) -> StoreResult<bool> {
        self.set_secrets(tenant_id, None, sealed, previous).await
    }

    async fn reseal_webhook_secrets(
        &self,
        tenant_id: &TenantId,
        expected: &str,
        sealed: &str,
        previous: Option<&PreviousSecret>,
    ) -> StoreResult<bool> {
        self.set_secrets(tenant_id, Some(expected), sealed, previous).await
    }

    async fn get_tenant_by_slug(&self, slug: &str) -> StoreResult<Option<Tenant>> {
        self.one(format!("SELECT {TENANT_COLUMNS} FROM tenants WHERE slug = ?1"), vals![slug], tenant_from_row).await
    }

    async fn list_tenants(&self) -> StoreResult<Vec<Tenant>> {
        self.all(format!("SELECT {TENANT_COLUMNS} FROM tenants ORDER BY created_at, id"), vals![], tenant_from_row)
            .await
    }
}
