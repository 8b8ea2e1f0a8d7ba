//! The MongoDB store's schema: every index its queries rely on, with the
//! uniqueness rules and TTL expiries, created at start-up (its migrations).

use std::time::Duration;

use mongodb::{bson::doc, options::IndexOptions, IndexModel};

use super::{map_err, MongoStore};
use crate::store::{StoreResult, PROCESSED_WEBHOOK_RETENTION};

impl MongoStore {
    /// Creates every index the store's queries rely on (idempotent: existing ones stay).
    pub(super) async fn create_indexes(&self) -> StoreResult<()> {
        // (collection, [(keys, unique)]): every index the queries rely on.
        let by_tenant_time = || (doc! {"tenantId": 1, "createdAt": -1}, false);
        let once_per_source = || (doc! {"tenantId": 1, "sourceKey": 1}, true);
        let plan = [
            (&self.tenants, vec![(doc! {"slug": 1}, true)]),
            (&self.orders, vec![(doc! {"tenantId": 1, "orderNumber": 1}, true), by_tenant_time()]),
            (
                &self.notifications,
                vec![
                    once_per_source(),
                    by_tenant_time(),
                    (doc! {"tenantId": 1, "isRead": 1, "isDismissed": 1}, false),
                    (doc! {"tenantId": 1, "userId": 1, "createdAt": -1}, false),
                    (doc! {"tenantId": 1, "userId": 1, "isRead": 1, "isDismissed": 1, "seq": 1}, false),
                    (doc! {"tenantId": 1, "seq": -1}, false),
                ],
            ),
            (&self.activity, vec![once_per_source(), by_tenant_time()]),
            (&self.reader_marks, vec![(doc! {"tenantId": 1, "readThrough": 1}, false)]),
            (
                &self.notification_states,
                vec![(doc! {"tenantId": 1, "reader": 1, "seq": 1}, false), (doc! {"snoozedUntil": 1}, false)],
            ),
            (&self.users, vec![(doc! {"email": 1}, true)]),
            (&self.memberships, vec![(doc! {"tenantId": 1, "userId": 1}, true), (doc! {"userId": 1}, false)]),
            (&self.api_keys, vec![(doc! {"prefix": 1}, true), by_tenant_time()]),
            (&self.invitations, vec![(doc! {"tokenHash": 1}, true), by_tenant_time()]),
            (&self.provider_connections, vec![(doc! {"tenantId": 1, "provider": 1}, false)]),
        ];
        self.processed_webhooks
            .create_indexes([
                IndexModel::builder()
                    .keys(doc! {"tenantId": 1, "webhookId": 1})
                    .options(IndexOptions::builder().unique(true).build())
                    .build(),
                IndexModel::builder()
                    .keys(doc! {"receivedAt": 1})
                    .options(IndexOptions::builder().expire_after(PROCESSED_WEBHOOK_RETENTION).build())
                    .build(),
            ])
            .await
            .map_err(map_err)?;
        // Sessions leave the store at their absolute expiry.
        self.sessions
            .create_indexes([
                IndexModel::builder().keys(doc! {"userId": 1}).build(),
                IndexModel::builder()
                    .keys(doc! {"expiresAt": 1})
                    .options(IndexOptions::builder().expire_after(Duration::ZERO).build())
                    .build(),
            ])
            .await
            .map_err(map_err)?;
        self.webhook_events
            .create_indexes([
                IndexModel::builder().keys(doc! {"tenantId": 1, "receivedAt": -1}).build(),
                IndexModel::builder().keys(doc! {"tenantId": 1, "endpoint": 1, "receivedAt": -1}).build(),
                IndexModel::builder()
                    .keys(doc! {"receivedAt": 1})
                    .options(IndexOptions::builder().expire_after(self.event_retention).build())
                    .build(),
            ])
            .await
            .map_err(map_err)?;
        for (collection, indexes) in plan {
            let models = indexes.into_iter().map(|(keys, unique)| {
                IndexModel::builder().keys(keys).options(IndexOptions::builder().unique(unique).build()).build()
            });
            collection.create_indexes(models).await.map_err(map_err)?;
        }
        Ok(())
    }
}
