//! Tenants in MongoDB: the `tenants` collection, with each tenant's webhook
//! settings, sealed webhook secrets and (see `identity`) its list of owners.

use app::models::TenantId;
use async_trait::async_trait;
use mongodb::bson::{doc, oid::ObjectId, Document};

use super::{
    docs::{previous_secret_bson, settings_bson, tenant_doc, tenant_from},
    query::{all, matched, one, run},
    MongoStore,
};
use crate::store::{PreviousSecret, StoreResult, Tenant, TenantStore, WebhookSettings};

impl MongoStore {
    /// Sets the sealed secrets of the tenant `filter` matches: whether it matched.
    async fn set_secrets(
        &self,
        filter: Document,
        sealed: &str,
        previous: Option<&PreviousSecret>,
    ) -> StoreResult<bool> {
        let set = doc! {"webhookSecretSealed": sealed, "previousSecret": previous_secret_bson(previous)?};
        matched(self.tenants.update_one(filter, doc! {"$set": set})).await
    }
}

#[async_trait]
impl TenantStore for MongoStore {
    async fn insert_tenant(&self, tenant: &Tenant) -> StoreResult<()> {
        run(self.tenants.insert_one(tenant_doc(tenant)?)).await.map(|_| ())
    }

    async fn get_tenant(&self, tenant_id: &TenantId) -> StoreResult<Option<Tenant>> {
        let Ok(id) = ObjectId::parse_str(tenant_id) else {
            return Ok(None);
        };
        one(self.tenants.find_one(doc! {"_id": id}), tenant_from).await
    }

    async fn update_webhook_settings(&self, tenant_id: &TenantId, settings: &WebhookSettings) -> StoreResult<bool> {
        let Ok(id) = ObjectId::parse_str(tenant_id) else {
            return Ok(false);
        };
        matched(self.tenants.update_one(doc! {"_id": id}, doc! {"$set": {"webhookSettings": settings_bson(settings)?}}))
            .await
    }

    async fn rotate_webhook_secret(
        &self,
        tenant_id: &TenantId,
        sealed: &str,
        previous: Option<&PreviousSecret>,
    ) -> StoreResult<bool> {
        let Ok(id) = ObjectId::parse_str(tenant_id) else {
            return Ok(false);
        };
        self.set_secrets(doc! {"_id": id}, sealed, previous).await
    }

    async fn reseal_webhook_secrets(
        &self,
        tenant_id: &TenantId,
        expected: &str,
        sealed: &str,
        previous: Option<&PreviousSecret>,
    ) -> StoreResult<bool> {
        let Ok(id) = ObjectId::parse_str(tenant_id) else {
            return Ok(false);
        };
        self.set_secrets(doc! {"_id": id, "webhookSecretSealed": expected}, sealed, previous).await
    }

    async fn get_tenant_by_slug(&self, slug: &str) -> StoreResult<Option<Tenant>> {
        one(self.tenants.find_one(doc! {"slug": slug}), tenant_from).await
    }

    async fn list_tenants(&self) -> StoreResult<Vec<Tenant>> {
        all(self.tenants.find(doc! {}).sort(doc! {"createdAt": 1, "_id": 1}), tenant_from).await
    }
}
