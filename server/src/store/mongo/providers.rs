//! Provider connections in MongoDB: the `provider_connections` collection,
//! keyed by `<tenant id>:<provider>`. A first save is an insert (the key
//! refuses a second); a change is one update conditional on the version it
//! read, so of two changes at once one is saved, without transactions.

use app::models::{Provider, TenantId, Timestamp};
use async_trait::async_trait;
use mongodb::bson::{doc, oid::ObjectId, Bson, DateTime, Document};
use serde::{Deserialize, Serialize};

use super::{
    docs::{corrupt, from_date, from_doc, oid, to_date, to_doc},
    is_duplicate, map_err,
    query::{all, matched, one, run},
    MongoStore,
};
use crate::store::{PreviousSecret, ProviderConnection, ProviderStore, StoreResult};

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ConnectionDoc {
    #[serde(rename = "_id")]
    id: String,
    tenant_id: ObjectId,
    provider: String,
    enabled: bool,
    secret_sealed: String,
    previous_secret_sealed: Option<String>,
    previous_secret_valid_until: Option<DateTime>,
    shop_domain: Option<String>,
    low_stock_threshold: i64,
    last_delivery_at: Option<DateTime>,
    version: i64,
    created_at: DateTime,
    updated_at: DateTime,
}

fn key(tenant_id: &TenantId, provider: Provider) -> String {
    format!("{tenant_id}:{}", provider.as_str())
}

fn connection_doc(c: &ProviderConnection) -> StoreResult<Document> {
    to_doc(&ConnectionDoc {
        id: key(&c.tenant_id, c.provider),
        tenant_id: oid(&c.tenant_id)?,
        provider: c.provider.as_str().to_owned(),
        enabled: c.enabled,
        secret_sealed: c.secret_sealed.clone(),
        previous_secret_sealed: c.previous_secret.as_ref().map(|p| p.sealed.clone()),
        previous_secret_valid_until: c.previous_secret.as_ref().map(|p| to_date(&p.valid_until)),
        shop_domain: c.shop_domain.clone(),
        low_stock_threshold: i64::from(c.low_stock_threshold),
        last_delivery_at: c.last_delivery_at.as_ref().map(to_date),
        version: c.version,
        created_at: to_date(&c.created_at),
        updated_at: to_date(&c.updated_at),
    })
}

fn connection_from(d: &Document) -> StoreResult<ProviderConnection> {
    let c: ConnectionDoc = from_doc(d, "provider connection")?;
    Ok(ProviderConnection {
        tenant_id: c.tenant_id.to_hex().into(),
        provider: Provider::parse(&c.provider).ok_or_else(|| corrupt("connection provider"))?,
        enabled: c.enabled,
        secret_sealed: c.secret_sealed,
        previous_secret: c
            .previous_secret_sealed
            .zip(c.previous_secret_valid_until)
            .map(|(sealed, until)| PreviousSecret { sealed, valid_until: from_date(until) }),
        shop_domain: c.shop_domain,
        low_stock_threshold: u32::try_from(c.low_stock_threshold).map_err(|_| corrupt("low stock threshold"))?,
        last_delivery_at: c.last_delivery_at.map(from_date),
        version: c.version,
        created_at: from_date(c.created_at),
        updated_at: from_date(c.updated_at),
    })
}

#[async_trait]
impl ProviderStore for MongoStore {
    async fn get_connection(
        &self,
        tenant_id: &TenantId,
        provider: Provider,
    ) -> StoreResult<Option<ProviderConnection>> {
        one(self.provider_connections.find_one(doc! {"_id": key(tenant_id, provider)}), connection_from).await
    }

    async fn list_connections(&self, tenant_id: &TenantId) -> StoreResult<Vec<ProviderConnection>> {
        let Ok(t) = ObjectId::parse_str(tenant_id) else {
            return Ok(Vec::new());
        };
        all(self.provider_connections.find(doc! {"tenantId": t}).sort(doc! {"provider": 1}), connection_from).await
    }

    async fn save_connection(&self, c: &ProviderConnection, read: Option<i64>) -> StoreResult<bool> {
        let mut d = connection_doc(c)?;
        match read {
            None => match self.provider_connections.insert_one(d).await {
                Ok(_) => Ok(true),
                Err(e) if is_duplicate(&e) => Ok(false),
                Err(e) => Err(map_err(e)),
            },
            Some(read) => {
                // What a change sets: not the key, the creation time or the last delivery.
                for fixed in ["_id", "tenantId", "provider", "createdAt", "lastDeliveryAt"] {
                    d.remove(fixed);
                }
                let filter = doc! {"_id": key(&c.tenant_id, c.provider), "version": read};
                matched(self.provider_connections.update_one(filter, doc! {"$set": d})).await
            }
        }
    }

    async fn delete_connection(&self, tenant_id: &TenantId, provider: Provider) -> StoreResult<bool> {
        let deleted = run(self.provider_connections.delete_one(doc! {"_id": key(tenant_id, provider)})).await?;
        Ok(deleted.deleted_count > 0)
    }

    async fn touch_connection(&self, tenant_id: &TenantId, provider: Provider, at: Timestamp) -> StoreResult<()> {
        let at = to_date(&at);
        let filter = doc! {
            "_id": key(tenant_id, provider),
            "$or": [{"lastDeliveryAt": Bson::Null}, {"lastDeliveryAt": {"$lt": at}}],
        };
        run(self.provider_connections.update_one(filter, doc! {"$set": {"lastDeliveryAt": at}})).await.map(|_| ())
    }
}
