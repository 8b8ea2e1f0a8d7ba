//! Orders in SQLite: the `orders` table, with each order's payment status; an
//! order or a payment change is stored in one savepoint with its
//! notification and audit entry.

use app::models::{Notification, Order, OrderStats, PaymentStatus};
use app::models::{OrderId, TenantId, Timestamp};
use async_trait::async_trait;

use super::{
    activity::{insert_activity, insert_activity_row},
    map_err,
    notifications::{insert_notification, insert_notification_row, reader_key, unread_on},
    query::{exec_on, one_on, vals},
    rows::{activity_values, bad_enum, notification_values, order_from_row, order_values, ORDER_COLUMNS},
    webhook_log::ReceiptRows,
    SqliteStore,
};
use crate::store::{
    ActivityEntry, CreateOrder, OrderStore, OrderWritten, PaymentApplied, PaymentChange, Receipt, StoreResult,
};

/// Inserts an order unless its number is taken (made once, not per write).
static INSERT_ORDER: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    format!(
        "INSERT INTO orders ({ORDER_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14) \
         ON CONFLICT (tenant_id, order_number) DO NOTHING"
    )
});

#[async_trait]
impl OrderStore for SqliteStore {
    async fn create_order_with(
        &self,
        order: &Order,
        notification: &Notification,
        activity: &ActivityEntry,
        receipt: Option<&Receipt>,
    ) -> StoreResult<OrderWritten> {
        let o = order_values(order)?;
        let tenant = order.tenant_id.clone();
        let (tenant_id, order_number) = (order.tenant_id.to_string(), order.order_number.clone());
        // The rows' values are made here, not on the writer thread.
        let (n, a) = (notification_values(notification)?, activity_values(activity)?);
        let mut receipt = receipt.map(ReceiptRows::new).transpose()?;
        let reader = reader_key(notification.user_id.as_ref());
        self.write(move |c| {
            // (The writer runs every write in a savepoint of its own: one that fails leaves nothing.)
            let tx = &*c;
            if let Some(receipt) = &mut receipt {
                receipt.claim(tx)?;
            }
            let inserted = exec_on(tx, &INSERT_ORDER, o)?;
            if inserted == 0 {
                let existing_order_id: OrderId = tx
                    .query_row(
                        "SELECT id FROM orders WHERE tenant_id = ?1 AND order_number = ?2",
                        [tenant_id, order_number],
                        |r| r.get::<_, String>(0).map(OrderId::from),
                    )
                    .map_err(map_err)?;
                return Ok(OrderWritten { outcome: CreateOrder::Duplicate { existing_order_id }, unread_count: None });
            }
            insert_notification_row(tx, n)?;
            insert_activity_row(tx, a)?;
            if let Some(receipt) = receipt {
                receipt.insert(tx)?;
            }
            let unread = unread_on(tx, &tenant, &reader)?;
            Ok(OrderWritten { outcome: CreateOrder::Created, unread_count: Some(unread) })
        })
        .await
    }

    async fn apply_payment(&self, change: &PaymentChange) -> StoreResult<PaymentApplied> {
        let ch = change.clone();
        self.write(move |c| {
            let tx = c.savepoint().map_err(map_err)?;
            let current: Option<(String, Option<String>)> = one_on(
                &tx,
                "SELECT payment_status, payment_id FROM orders WHERE tenant_id = ?1 AND id = ?2",
                vals![&ch.tenant_id, &ch.order_id],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )?;
            let Some((status, payment_id)) = current else {
                return Ok(PaymentApplied::Conflict);
            };
            if status == ch.to.as_str() && (ch.payment_id.is_none() || ch.payment_id == payment_id) {
                return Ok(PaymentApplied::AlreadyApplied);
            }
            if status != ch.from.as_str() {
                return Ok(PaymentApplied::Conflict);
            }
            exec_on(
                &tx,
                "UPDATE orders SET payment_status = ?3, payment_id = COALESCE(?4, payment_id), updated_at = ?5 \
                 WHERE tenant_id = ?1 AND id = ?2",
                vals![&ch.tenant_id, &ch.order_id, ch.to.as_str(), &ch.payment_id, &ch.at],
            )?;
            if let Some(n) = &ch.notification {
                insert_notification(&tx, n)?;
            }
            insert_activity(&tx, &ch.activity)?;
            tx.commit().map_err(map_err)?;
            Ok(PaymentApplied::Applied)
        })
        .await
    }

    async fn get_order(&self, tenant_id: &TenantId, order_id: &OrderId) -> StoreResult<Option<Order>> {
        let sql = format!("SELECT {ORDER_COLUMNS} FROM orders WHERE tenant_id = ?1 AND id = ?2");
        self.one(sql, vals![tenant_id, order_id], order_from_row).await
    }

    async fn get_order_by_number(&self, tenant_id: &TenantId, order_number: &str) -> StoreResult<Option<Order>> {
        let sql = format!("SELECT {ORDER_COLUMNS} FROM orders WHERE tenant_id = ?1 AND order_number = ?2");
        self.one(sql, vals![tenant_id, order_number], order_from_row).await
    }

    async fn list_orders(&self, tenant_id: &TenantId, limit: u32) -> StoreResult<Vec<Order>> {
        let sql = format!(
            "SELECT {ORDER_COLUMNS} FROM orders WHERE tenant_id = ?1 ORDER BY created_at DESC, id DESC LIMIT ?2"
        );
        self.all(sql, vals![tenant_id, limit], order_from_row).await
    }

    async fn order_stats(&self, tenant_id: &TenantId, since: Timestamp) -> StoreResult<OrderStats> {
        let groups = self
            .all(
                "SELECT currency, payment_status, COUNT(*), SUM(amount_minor) FROM orders \
                 WHERE tenant_id = ?1 AND created_at >= ?2 GROUP BY currency, payment_status",
                vals![tenant_id, since],
                |r| {
                    let payment: String = r.get(1)?;
                    let payment = PaymentStatus::parse(&payment).ok_or_else(|| bad_enum(1, "payment status"))?;
                    Ok((r.get::<_, String>(0)?, payment, r.get::<_, i64>(2)?, r.get::<_, i64>(3)?))
                },
            )
            .await?;
        let mut stats = OrderStats::default();
        for (currency, payment, count, amount) in groups {
            stats.add(&currency, payment, count.max(0) as u64, amount);
        }
        Ok(stats)
    }
}
