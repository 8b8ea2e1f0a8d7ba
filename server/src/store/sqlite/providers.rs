//! Provider connections in SQLite: the `provider_connections` table, one row
//! per (tenant, provider). A change is one conditional statement on the
//! version it read, so of two changes at once one is saved.

use app::models::{Provider, TenantId, Timestamp};
use async_trait::async_trait;
use rusqlite::Row;

use super::{
    query::vals,
    rows::{bad_enum, cell},
    SqliteStore,
};
use crate::store::{PreviousSecret, ProviderConnection, ProviderStore, StoreResult};

const COLUMNS: &str = "tenant_id, provider, enabled, secret_sealed, previous_secret_sealed, \
                       previous_secret_valid_until, shop_domain, low_stock_threshold, last_delivery_at, version, \
                       created_at, updated_at";

fn connection_from_row(r: &Row<'_>) -> rusqlite::Result<ProviderConnection> {
    let provider: String = r.get(1)?;
    let previous_sealed: Option<String> = r.get(4)?;
    let previous_until: Option<Timestamp> = cell(r, 5)?;
    Ok(ProviderConnection {
        tenant_id: cell(r, 0)?,
        provider: Provider::parse(&provider).ok_or_else(|| bad_enum(1, "provider"))?,
        enabled: r.get(2)?,
        secret_sealed: r.get(3)?,
        previous_secret: previous_sealed
            .zip(previous_until)
            .map(|(sealed, valid_until)| PreviousSecret { sealed, valid_until }),
        shop_domain: r.get(6)?,
        low_stock_threshold: r.get(7)?,
        last_delivery_at: cell(r, 8)?,
        version: r.get(9)?,
        created_at: cell(r, 10)?,
        updated_at: cell(r, 11)?,
    })
}

#[async_trait]
impl ProviderStore for SqliteStore {
    async fn get_connection(
        &self,
        tenant_id: &TenantId,
        provider: Provider,
    ) -> StoreResult<Option<ProviderConnection>> {
        let sql = format!("SELECT {COLUMNS} FROM provider_connections WHERE tenant_id = ?1 AND provider = ?2");
        self.one(sql, vals![tenant_id, provider.as_str()], connection_from_row).await
    }

    async fn list_connections(&self, tenant_id: &TenantId) -> StoreResult<Vec<ProviderConnection>> {
        let sql = format!("SELECT {COLUMNS} FROM provider_connections WHERE tenant_id = ?1 ORDER BY provider");
        self.all(sql, vals![tenant_id], connection_from_row).await
    }

    async fn save_connection(&self, c: &ProviderConnection, read: Option<i64>) -> StoreResult<bool> {
        let previous_sealed = c.previous_secret.as_ref().map(|p| p.sealed.clone());
        let previous_until = c.previous_secret.as_ref().map(|p| p.valid_until);
        let saved = match read {
            // A first save: only if none exists.
            None => {
                let sql = format!(
                    "INSERT INTO provider_connections ({COLUMNS}) \
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12) \
                     ON CONFLICT (tenant_id, provider) DO NOTHING"
                );
                let values = vals![
                    &c.tenant_id,
                    c.provider.as_str(),
                    c.enabled,
                    &c.secret_sealed,
                    previous_sealed,
                    previous_until,
                    &c.shop_domain,
                    c.low_stock_threshold,
                    &c.last_delivery_at,
                    c.version,
                    &c.created_at,
                    &c.updated_at
                ];
                self.exec(sql, values).await?
            }
            // What a change sets (not the last delivery, which deliveries move), over the version read.
            Some(read) => {
                let sql = "UPDATE provider_connections SET enabled = ?4, secret_sealed = ?5, \
                           previous_secret_sealed = ?6, previous_secret_valid_until = ?7, shop_domain = ?8, \
                           low_stock_threshold = ?9, version = ?10, updated_at = ?11 \
                           WHERE tenant_id = ?1 AND provider = ?2 AND version = ?3";
                let values = vals![
                    &c.tenant_id,
                    c.provider.as_str(),
                    read,
                    c.enabled,
                    &c.secret_sealed,
                    previous_sealed,
                    previous_until,
                    &c.shop_domain,
                    c.low_stock_threshold,
                    c.version,
                    &c.updated_at
                ];
                self.exec(sql, values).await?
            }
        };
        Ok(saved == 1)
    }

    async fn delete_connection(&self, tenant_id: &TenantId, provider: Provider) -> StoreResult<bool> {
        let sql = "DELETE FROM provider_connections WHERE tenant_id = ?1 AND provider = ?2";
        Ok(self.exec(sql, vals![tenant_id, provider.as_str()]).await? > 0)
    }

    async fn touch_connection(&self, tenant_id: &TenantId, provider: Provider, at: Timestamp) -> StoreResult<()> {
        let sql = "UPDATE provider_connections SET last_delivery_at = ?3 WHERE tenant_id = ?1 AND provider = ?2 \
                   AND (last_delivery_at IS NULL OR last_delivery_at < ?3)";
        self.exec(sql, vals![tenant_id, provider.as_str(), at]).await.map(|_| ())
    }
}
