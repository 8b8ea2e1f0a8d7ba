//! The dashboard: the header's bell state and tenant switcher, and the
//! dashboard page's order figures, newest orders and activity.

use serde::{Deserialize, Serialize};

use super::{ActivityEntry, Notification, Order, PaymentStatus, Preferences, Role, TenantId, Timestamp, UserId};

/// What the dashboard header needs on first render: whose dashboard, and the bell's count.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BellState {
    pub tenant_id: TenantId,
    pub tenant_name: String,
    pub unread_count: u64,
    /// The newest notifications, newest first.
    pub latest: Vec<Notification>,
    /// The signed-in user's name; none for the development demo or an API key.
    #[serde(default)]
    pub user_name: Option<String>,
    /// The tenants the caller may switch between (the current one included).
    #[serde(default)]
    pub tenants: Vec<TenantChoice>,
    /// How new notifications may interrupt the caller (the defaults for programs).
    #[serde(default)]
    pub preferences: Preferences,
    /// Whose read state the page shows: the signed-in user; none for a program
    /// or the demo, who read as the tenant itself.
    #[serde(default)]
    pub reader: Option<UserId>,
}

/// A tenant the caller belongs to, with the caller's role there.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TenantChoice {
    pub tenant_id: TenantId,
    pub name: String,
    pub slug: String,
    pub role: Role,
}

/// One currency's total, in minor units.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CurrencyTotal {
    pub currency: String,
    pub amount_minor: i64,
}

/// Orders created in a period (the dashboard's KPI cards): how many, how many
/// of them are paid and still pending, and the paid ones' value per currency.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderStats {
    pub orders: u64,
    pub paid: u64,
    pub pending: u64,
    /// Paid orders' amounts per currency, largest first (then by currency).
    pub revenue: Vec<CurrencyTotal>,
}

impl OrderStats {
    /// Adds `count` orders of one currency and payment state worth `amount_minor` in all.
    pub fn add(&mut self, currency: &str, payment: PaymentStatus, count: u64, amount_minor: i64) {
        self.orders += count;
        match payment {
            PaymentStatus::Paid => {
                self.paid += count;
                match self.revenue.iter_mut().find(|t| t.currency == currency) {
                    Some(t) => t.amount_minor = t.amount_minor.saturating_add(amount_minor),
                    None => self.revenue.push(CurrencyTotal { currency: currency.to_owned(), amount_minor }),
                }
                self.revenue.sort_by(|a, b| b.amount_minor.cmp(&a.amount_minor).then(a.currency.cmp(&b.currency)));
            }
            PaymentStatus::Pending => self.pending += count,
            PaymentStatus::Failed | PaymentStatus::Refunded => {}
        }
    }
}

/// The dashboard page's data: today's order figures, the newest orders and
/// the newest entries of the activity log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DashboardOverview {
    /// Where "today" begins: midnight UTC.
    pub since: Timestamp,
    pub today: OrderStats,
    /// Newest first.
    pub recent_orders: Vec<Order>,
    /// Newest first.
    pub activity: Vec<ActivityEntry>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_stats_count_states_and_sum_paid_revenue_per_currency() {
        let mut s = OrderStats::default();
        s.add("USD", PaymentStatus::Paid, 2, 1_000);
        s.add("EUR", PaymentStatus::Paid, 1, 5_000);
        s.add("USD", PaymentStatus::Pending, 3, 700);
        s.add("USD", PaymentStatus::Paid, 1, 4_500);
        s.add("USD", PaymentStatus::Refunded, 1, 100);
        assert_eq!((s.orders, s.paid, s.pending), (8, 4, 3));
        let totals: Vec<(&str, i64)> = s.revenue.iter().map(|t| (t.currency.as_str(), t.amount_minor)).collect();
        assert_eq!(totals, [("USD", 5_500), ("EUR", 5_000)]);
    }
}
