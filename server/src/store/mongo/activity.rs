//! The audit trail in MongoDB: the `activity_log` collection, appended to
//! only, each entry once under its `sourceKey`.

use app::models::TenantId;
use async_trait::async_trait;
use mongodb::bson::{doc, oid::ObjectId};

use super::{
    docs::{activity_doc, activity_from},
    query::{all, insert_once, latest},
    MongoStore,
};
use crate::store::{ActivityEntry, ActivityStore, StoreResult};

#[async_trait]
impl ActivityStore for MongoStore {
    async fn append_activity(&self, entry: &ActivityEntry) -> StoreResult<()> {
        let key = format!("activity:{}", entry.id);
        insert_once(&self.activity, activity_doc(entry, &key)?).await.map(|_| ())
    }

    async fn list_activity(&self, tenant_id: &TenantId, limit: u32) -> StoreResult<Vec<ActivityEntry>> {
        let Ok(id) = ObjectId::parse_str(tenant_id) else {
            return Ok(Vec::new());
        };
        all(latest(&self.activity, doc! {"tenantId": id}, limit), activity_from).await
    }
}
