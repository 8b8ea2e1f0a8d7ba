//! Notifications in MongoDB: the `notifications` collection (filtered, paged
//! lists, reads, dismissals, deliveries; unread counts are counted). Each is
//! inserted once under its `sourceKey`, so a retried write never duplicates it.

use app::models::Notification;
use app::models::{NotificationId, TenantId, Timestamp, UserId};
use async_trait::async_trait;
use mongodb::bson::{doc, oid::ObjectId, Bson, Document};

use super::{
    docs::{activity_doc, notification_doc, notification_from, oid, to_date},
    query::{all, insert_once, latest, modified, one, run},
    MongoStore,
};
use crate::store::{ActivityEntry, NotificationFilter, NotificationPatch, NotificationStore, PageCursor, StoreResult};

/// Matches the notifications `user_id` sees: tenant-wide ones plus the user's own.
fn viewer(user_id: Option<&UserId>) -> Bson {
    match user_id {
        Some(u) => Bson::Document(doc! {"$in": [Bson::Null, u.as_str()]}),
        None => Bson::Null,
    }
}

fn notification_query(tenant: ObjectId, f: &NotificationFilter, after: Option<&PageCursor>) -> StoreResult<Document> {
    let mut q = doc! {"tenantId": tenant, "userId": viewer(f.user_id.as_ref())};
    if !f.include_read {
        q.insert("isRead", false);
    }
    if !f.include_dismissed {
        q.insert("isDismissed", false);
    }
    if let Some(kind) = f.kind {
        q.insert("type", kind.as_str());
    }
    if let Some(priority) = f.priority {
        q.insert("priority", priority.as_str());
    }
    if let Some(c) = after {
        let at = to_date(&c.created_at);
        q.insert("$or", vec![doc! {"createdAt": {"$lt": at}}, doc! {"createdAt": at, "_id": {"$lt": oid(&c.id)?}}]);
    }
    Ok(q)
}

#[async_trait]
impl NotificationStore for MongoStore {
    async fn create_notification(&self, notification: &Notification, activity: &ActivityEntry) -> StoreResult<()> {
        // Notification first, then its audit entry, both under one key: a retry completes, never duplicates.
        let key = format!("notification:{}", notification.id);
        insert_once(&self.notifications, notification_doc(notification, &key)?).await?;
        insert_once(&self.activity, activity_doc(activity, &key)?).await?;
        Ok(())
    }

    async fn insert_notifications(&self, notifications: &[Notification]) -> StoreResult<()> {
        if notifications.is_empty() {
            return Ok(());
        }
        let docs = notifications
            .iter()
            .map(|n| notification_doc(n, &format!("notification:{}", n.id)))
            .collect::<StoreResult<Vec<_>>>()?;
        run(self.notifications.insert_many(docs)).await.map(|_| ())
    }

    async fn get_notification(&self, tenant_id: &TenantId, id: &NotificationId) -> StoreResult<Option<Notification>> {
        let (Ok(t), Ok(id)) = (ObjectId::parse_str(tenant_id), ObjectId::parse_str(id)) else {
            return Ok(None);
        };
        one(self.notifications.find_one(doc! {"_id": id, "tenantId": t}), notification_from).await
    }

    async fn list_notifications(
        &self,
        tenant_id: &TenantId,
        filter: &NotificationFilter,
        after: Option<&PageCursor>,
        limit: u32,
    ) -> StoreResult<Vec<Notification>> {
        let Ok(id) = ObjectId::parse_str(tenant_id) else {
            return Ok(Vec::new());
        };
        all(latest(&self.notifications, notification_query(id, filter, after)?, limit), notification_from).await
    }

    async fn update_notification(
        &self,
        tenant_id: &TenantId,
        id: &NotificationId,
        patch: &NotificationPatch,
        at: Timestamp,
    ) -> StoreResult<Option<Notification>> {
        let (Ok(t), Ok(n)) = (ObjectId::parse_str(tenant_id), ObjectId::parse_str(id)) else {
            return Ok(None);
        };
        let this = doc! {"_id": n, "tenantId": t};
        // Each step is idempotent, so a retry after a failure part-way is safe.
        let mut steps = Vec::new();
        match patch.is_read {
            Some(true) => steps.push((doc! {"isRead": false}, doc! {"isRead": true, "readAt": to_date(&at)})),
            Some(false) => steps.push((doc! {}, doc! {"isRead": false, "readAt": Bson::Null})),
            None => {}
        }
        if let Some(dismissed) = patch.is_dismissed {
            steps.push((doc! {}, doc! {"isDismissed": dismissed}));
        }
        for (condition, set) in steps {
            let mut filter = this.clone();
            filter.extend(condition);
            run(self.notifications.update_one(filter, doc! {"$set": set})).await?;
        }
        one(self.notifications.find_one(this), notification_from).await
    }

    async fn mark_delivered(&self, tenant_id: &TenantId, id: &NotificationId, at: Timestamp) -> StoreResult<bool> {
        let (Ok(t), Ok(n)) = (ObjectId::parse_str(tenant_id), ObjectId::parse_str(id)) else {
            return Ok(false);
        };
        modified(self.notifications.update_one(
            doc! {"_id": n, "tenantId": t, "deliveredAt": Bson::Null},
            doc! {"$set": {"deliveredAt": to_date(&at)}},
        ))
        .await
    }

    async fn mark_all_read(
        &self,
        tenant_id: &TenantId,
        user_id: Option<&UserId>,
        read_at: Timestamp,
    ) -> StoreResult<u64> {
        let Ok(id) = ObjectId::parse_str(tenant_id) else {
            return Ok(0);
        };
        let marked = run(self.notifications.update_many(
            doc! {"tenantId": id, "userId": viewer(user_id), "isRead": false},
            doc! {"$set": {"isRead": true, "readAt": to_date(&read_at)}},
        ))
        .await?;
        Ok(marked.modified_count)
    }

    async fn unread_count(&self, tenant_id: &TenantId, user_id: Option<&UserId>) -> StoreResult<u64> {
        let Ok(id) = ObjectId::parse_str(tenant_id) else {
            return Ok(0);
        };
        run(self
            .notifications
            .count_documents(doc! {"tenantId": id, "userId": viewer(user_id), "isRead": false, "isDismissed": false}))
        .await
    }
}
