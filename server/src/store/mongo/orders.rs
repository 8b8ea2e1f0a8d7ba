//! Orders in MongoDB: the `orders` collection. An order is inserted first
//! (unique on tenant + order number), then its notification and audit entry
//! under a key derived from it; a payment change bumps `paymentVersion`, whose
//! records share a key of their own. A retry completes what a crash left out.

use app::models::{Notification, Order, OrderStats, PaymentStatus};
use app::models::{OrderId, TenantId, Timestamp};
use async_trait::async_trait;
use mongodb::bson::{doc, oid::ObjectId, Document};

use super::{
    docs::{activity_doc, corrupt, oid, order_doc, order_from, to_date, whole_number},
    is_duplicate, map_err,
    query::{all, insert_once, latest, one, run},
    MongoStore,
};
use crate::store::{
    ActivityEntry, CreateOrder, OrderStore, OrderWritten, PaymentApplied, PaymentChange, Receipt, StoreError,
    StoreResult,
};

/// The notification announcing order `order_id`.
fn order_source_key(order_id: &OrderId) -> String {
    format!("order:{order_id}")
}

#[async_trait]
impl OrderStore for MongoStore {
    async fn create_order_with(
        &self,
        order: &Order,
        notification: &Notification,
        activity: &ActivityEntry,
        receipt: Option<&Receipt>,
    ) -> StoreResult<OrderWritten> {
        let write = async {
            match self.orders.insert_one(order_doc(order)?).await {
                Ok(_) => {
                    let key = order_source_key(&order.id);
                    let inserted = self.insert_notification_once(notification, &key).await?;
                    insert_once(&self.activity, activity_doc(activity, &key)?).await?;
                    // (No transactions: each record is one write of its own. The order
                    // is stored: a receipt that fails is logged, as the pipeline does.)
                    if let Some(receipt) = receipt {
                        self.record_receipt(receipt).await;
                    }
                    let unread_count = self.unread_after(notification, inserted).await?;
                    Ok(OrderWritten { outcome: CreateOrder::Created, unread_count: Some(unread_count) })
                }
                Err(e) if is_duplicate(&e) => {
                    let existing = run(self
                        .orders
                        .find_one(doc! {"tenantId": oid(&order.tenant_id)?, "orderNumber": &order.order_number}))
                    .await?
                    .ok_or_else(|| StoreError::Internal("duplicate order vanished".into()))?;
                    let existing_order_id: OrderId =
                        existing.get_object_id("_id").map_err(|_| corrupt("order _id"))?.to_hex().into();
                    // Complete what a crash may have left unwritten, for the stored order.
                    let key = order_source_key(&existing_order_id);
                    let mut notification = notification.clone();
                    if let Some(meta) = notification.metadata.as_object_mut() {
                        meta.insert("orderId".into(), existing_order_id.to_string().into());
                    }
                    let mut activity = activity.clone();
                    activity.entity_id = existing_order_id.to_string();
                    self.insert_notification_once(&notification, &key).await?;
                    insert_once(&self.activity, activity_doc(&activity, &key)?).await?;
                    Ok(OrderWritten { outcome: CreateOrder::Duplicate { existing_order_id }, unread_count: None })
                }
                Err(e) => Err(map_err(e)),
            }
        };
        self.claiming(receipt, write).await
    }

    async fn apply_payment(&self, ch: &PaymentChange) -> StoreResult<PaymentApplied> {
        let this = doc! {"_id": oid(&ch.order_id)?, "tenantId": oid(&ch.tenant_id)?};
        // Each change of an order's payment bumps its `paymentVersion`; the
        // records of one change share a key made of it, so a retry writes each
        // at most once, and a later change to the same status (pending → failed
        // → pending → failed) has records of its own.
        let complete = |version: i64, applied| async move {
            let key = format!("payment:{}:v{version}", ch.order_id);
            if let Some(n) = &ch.notification {
                self.insert_notification_once(n, &key).await?;
            }
            insert_once(&self.activity, activity_doc(&ch.activity, &key)?).await?;
            Ok(applied)
        };
        let version = |d: &Document| whole_number(d.get("paymentVersion")).unwrap_or(0);
        let Some(current) = run(self.orders.find_one(this.clone())).await? else {
            return Ok(PaymentApplied::Conflict);
        };
        let order = order_from(&current)?;
        if order.payment_status == ch.to && (ch.payment_id.is_none() || ch.payment_id == order.payment_id) {
            // Applied already (perhaps by a request that died before its records): complete those.
            return complete(version(&current), PaymentApplied::AlreadyApplied).await;
        }
        let mut filter = this;
        filter.insert("paymentStatus", ch.from.as_str());
        let mut set = doc! {"paymentStatus": ch.to.as_str(), "updatedAt": to_date(&ch.at)};
        if let Some(p) = &ch.payment_id {
            set.insert("paymentId", p);
        }
        let updated = run(self
            .orders
            .find_one_and_update(filter, doc! {"$set": set, "$inc": {"paymentVersion": 1i64}})
            .return_document(mongodb::options::ReturnDocument::After))
        .await?;
        match updated {
            Some(after) => complete(version(&after), PaymentApplied::Applied).await,
            None => Ok(PaymentApplied::Conflict),
        }
    }

    async fn get_order(&self, tenant_id: &TenantId, order_id: &OrderId) -> StoreResult<Option<Order>> {
        let (Ok(t), Ok(o)) = (ObjectId::parse_str(tenant_id), ObjectId::parse_str(order_id)) else {
            return Ok(None);
        };
        one(self.orders.find_one(doc! {"_id": o, "tenantId": t}), order_from).await
    }

    async fn get_order_by_number(&self, tenant_id: &TenantId, order_number: &str) -> StoreResult<Option<Order>> {
        let Ok(t) = ObjectId::parse_str(tenant_id) else {
            return Ok(None);
        };
        one(self.orders.find_one(doc! {"tenantId": t, "orderNumber": order_number}), order_from).await
    }

    async fn list_orders(&self, tenant_id: &TenantId, limit: u32) -> StoreResult<Vec<Order>> {
        let Ok(id) = ObjectId::parse_str(tenant_id) else {
            return Ok(Vec::new());
        };
        all(latest(&self.orders, doc! {"tenantId": id}, limit), order_from).await
    }

    async fn order_stats(&self, tenant_id: &TenantId, since: Timestamp) -> StoreResult<OrderStats> {
        let Ok(id) = ObjectId::parse_str(tenant_id) else {
            return Ok(OrderStats::default());
        };
        // Counted and summed by the server, on the (tenantId, createdAt) index.
        let pipeline = [
            doc! {"$match": {"tenantId": id, "createdAt": {"$gte": to_date(&since)}}},
            doc! {"$group": {
                "_id": {"currency": "$currency", "paymentStatus": "$paymentStatus"},
                "count": {"$sum": 1},
                "amount": {"$sum": "$amountMinor"},
            }},
        ];
        let groups = all(self.orders.aggregate(pipeline), |g| {
            let key = g.get_document("_id").map_err(|_| corrupt("order group"))?;
            let currency = key.get_str("currency").map_err(|_| corrupt("order currency"))?;
            let payment = key
                .get_str("paymentStatus")
                .ok()
                .and_then(PaymentStatus::parse)
                .ok_or_else(|| corrupt("order payment status"))?;
            let count = whole_number(g.get("count")).ok_or_else(|| corrupt("order count"))?;
            let amount = whole_number(g.get("amount")).ok_or_else(|| corrupt("order amount"))?;
            Ok((currency.to_owned(), payment, count, amount))
        })
        .await?;
        let mut stats = OrderStats::default();
        for (currency, payment, count, amount) in groups {
            stats.add(&currency, payment, count.max(0) as u64, amount);
        }
        Ok(stats)
    }
}
