//! The store's operations, one trait per aggregate, with the values they take
//! and answer. [`Store`](super::Store) is all of them together.
//!
//! Each trait owns one aggregate's records: [`TenantStore`] tenants and their
//! webhook settings and secrets; [`OrderStore`] orders and their payments;
//! [`NotificationStore`] notifications and unread counts; [`ActivityStore`] the
//! audit trail; [`WebhookLogStore`] received webhooks and the deliveries
//! processed; [`IdentityStore`] users, memberships, sessions, API keys and
//! each user's notification preferences; [`InvitationStore`] invitations to tenants;
//! [`ProviderStore`] tenants' connections to Shopify and Stripe.
//! Callers holding an `Arc<dyn Store>` call every method without importing these.

use async_trait::async_trait;

use super::{
    ActivityEntry, ApiKey, ApiKeyInfo, Invitation, Membership, Notification, NotificationFilter, NotificationPatch,
    Order, OrderStats, PageCursor, PaymentStatus, PreviousSecret, ProcessedWebhook, ProviderConnection, Session,
    StoreResult, Tenant, User, WebhookEvent, WebhookEventFilter, WebhookSettings,
};
use app::models::{
    ApiKeyId, InvitationId, NotificationId, OrderId, Preferences, PreferencesPatch, Provider, TenantId, Timestamp,
    UserId, WebhookEventId,
};

/// Result of [`OrderStore::create_order`].
#[derive(Debug, Clone, PartialEq)]
pub enum CreateOrder {
    /// The order and its notification were stored.
    Created,
    /// The tenant already has an order with this number; nothing was written.
    Duplicate { existing_order_id: OrderId },
}

/// A webhook's own records, stored in the same unit as its work when the
/// work is new: its entry in the webhook event log and, for a delivery with a
/// `webhook-id`, the answer remembered for redeliveries (completing its claim).
#[derive(Debug, Clone, PartialEq)]
pub struct Receipt {
    pub event: WebhookEvent,
    pub processed: Option<ProcessedWebhook>,
    /// Set when the write claims `processed`'s `webhook-id` itself, before
    /// anything else (no [`WebhookLogStore::claim_webhook`] was made for it): a
    /// claim made before this time is stale and taken over. An id answered, or
    /// claimed since, fails the write with [`StoreError::Taken`], nothing stored.
    /// (SQLite makes the claim in the write's own unit; MongoDB, without
    /// transactions, as the write's first command.)
    pub claim_stale_before: Option<Timestamp>,
}

/// Result of [`OrderStore::create_order_with`].
#[derive(Debug, Clone, PartialEq)]
pub struct OrderWritten {
    pub outcome: CreateOrder,
    /// For a new order: the tenant reader's unread count with its notification.
    pub unread_count: Option<u64>,
}

/// A change of an order's payment status, with the records that go with it.
#[derive(Debug, Clone, PartialEq)]
pub struct PaymentChange {
    pub tenant_id: TenantId,
    pub order_id: OrderId,
    /// The status the caller saw; the change applies only if it is still so.
    pub from: PaymentStatus,
    pub to: PaymentStatus,
    /// Replaces the order's payment id when given.
    pub payment_id: Option<String>,
    pub at: Timestamp,
    /// Announces the change (failures and refunds).
    pub notification: Option<Notification>,
    pub activity: ActivityEntry,
}

/// Result of [`OrderStore::apply_payment`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PaymentApplied {
    /// The status changed and the records were stored.
    Applied,
    /// The order already had the target status (and the same payment id, if one
    /// was given): nothing changed. Records a crash may have left unwritten are completed.
    AlreadyApplied,
    /// The order is gone or no longer has the `from` status: nothing changed.
    Conflict,
}

/// Result of [`IdentityStore::change_membership`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MembershipChange {
    /// Done; the member had this role before.
    Changed { from: app::models::Role },
    /// Refused: the tenant would be left without an owner.
    LastOwner,
    /// No such member.
    NotFound,
    /// Another change of this membership came first: nothing was done.
    Concurrent,
}

/// Result of [`WebhookLogStore::claim_webhook`].
#[derive(Debug, Clone, PartialEq)]
pub enum WebhookClaim {
    /// This caller processes the delivery.
    Claimed,
    /// Already processed: its first answer.
    Done(ProcessedWebhook),
    /// Another request is processing it now.
    InProgress,
}

/// Tenants: their webhook settings and sealed webhook secrets.
#[async_trait]
pub trait TenantStore: Send + Sync {
    /// Stores a new tenant. `Conflict` if the id or slug exists.
    async fn insert_tenant(&self, tenant: &Tenant) -> StoreResult<()>;

    /// A tenant by id.
    async fn get_tenant(&self, tenant_id: &TenantId) -> StoreResult<Option<Tenant>>;

    /// Replaces a tenant's webhook settings; false when the tenant does not exist.
    async fn update_webhook_settings(&self, tenant_id: &TenantId, settings: &WebhookSettings) -> StoreResult<bool>;

    /// Replaces the tenant's sealed secrets (the same secrets sealed anew)
    /// only if its current sealed secret is still `expected`: false otherwise
    /// (a rotation came first) or when the tenant does not exist.
    async fn reseal_webhook_secrets(
        &self,
        tenant_id: &TenantId,
        expected: &str,
        sealed: &str,
        previous: Option<&PreviousSecret>,
    ) -> StoreResult<bool>;

    /// Replaces the tenant's webhook secret (sealed), keeping `previous` as
    /// the secret still accepted for a grace period (or none). False when the tenant does not exist.
    async fn rotate_webhook_secret(
        &self,
        tenant_id: &TenantId,
        sealed: &str,
        previous: Option<&PreviousSecret>,
    ) -> StoreResult<bool>;

    /// A tenant by its unique slug.
    async fn get_tenant_by_slug(&self, slug: &str) -> StoreResult<Option<Tenant>>;

    /// Every tenant, oldest first (administration).
    async fn list_tenants(&self) -> StoreResult<Vec<Tenant>>;
}

/// Orders, their payment status and the dashboard's order figures.
#[async_trait]
pub trait OrderStore: Send + Sync {
    /// Stores an order, the notification announcing it and its audit entry,
    /// as one unit: a repeated (tenant, orderNumber) writes nothing new, and
    /// a retry after a failure part-way completes what is missing.
    async fn create_order(
        &self,
        order: &Order,
        notification: &Notification,
        activity: &ActivityEntry,
    ) -> StoreResult<CreateOrder> {
        Ok(self.create_order_with(order, notification, activity, None).await?.outcome)
    }

    /// [`OrderStore::create_order`], storing with a new order its webhook's
    /// `receipt` and answering the tenant reader's unread count after it, so
    /// that a webhook costs one write (SQLite: one unit of one group commit).
    /// A repeated order writes no receipt (its answer differs: the caller records it).
    async fn create_order_with(
        &self,
        order: &Order,
        notification: &Notification,
        activity: &ActivityEntry,
        receipt: Option<&Receipt>,
    ) -> StoreResult<OrderWritten>;

    /// Moves an order's payment status from `change.from` to `change.to`,
    /// storing the notification and activity entry with it, idempotently.
    async fn apply_payment(&self, change: &PaymentChange) -> StoreResult<PaymentApplied>;

    /// An order of the tenant by id (`None` for another tenant's order).
    async fn get_order(&self, tenant_id: &TenantId, order_id: &OrderId) -> StoreResult<Option<Order>>;

    /// An order of the tenant by its order number.
    async fn get_order_by_number(&self, tenant_id: &TenantId, order_number: &str) -> StoreResult<Option<Order>>;

    /// The tenant's newest orders, newest first, at most `limit`.
    async fn list_orders(&self, tenant_id: &TenantId, limit: u32) -> StoreResult<Vec<Order>>;

    /// The tenant's orders created at or after `since`, counted by
    /// payment state, with the paid ones' amounts summed per currency.
    async fn order_stats(&self, tenant_id: &TenantId, since: Timestamp) -> StoreResult<OrderStats>;
}

/// A snooze that has come due: who snoozed which notification, until when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DueSnooze {
    pub tenant_id: TenantId,
    /// The reader: a user, or `None` for the tenant itself (a program acting for it).
    pub reader: Option<UserId>,
    pub notification_id: NotificationId,
    pub until: Timestamp,
}

/// Notifications and each reader's state of them: the bell's list, its unread
/// counts, reads, dismissals, snoozes and deliveries.
///
/// A reader is a user (signed in, or named by a program) or, as `None`, the
/// tenant itself (a program acting for it, the seed's single reader). A
/// reader sees the tenant-wide notifications plus, if a user, their own; each
/// notification's state for them is what they set on it, else what their
/// last mark-all-read set (read, for every notification stored before it),
/// else the flags the notification was stored with (from before state was kept
/// per reader: they hold for every reader).
#[async_trait]
pub trait NotificationStore: Send + Sync {
    /// Stores one new notification and its audit entry, as one unit.
    async fn create_notification(&self, notification: &Notification, activity: &ActivityEntry) -> StoreResult<()> {
        self.create_notification_with(notification, activity, None).await.map(|_| ())
    }

    /// [`NotificationStore::create_notification`] with its webhook's
    /// `receipt` in the same unit; answers the unread count of the
    /// notification's audience reader (its user, else the tenant) after it.
    async fn create_notification_with(
        &self,
        notification: &Notification,
        activity: &ActivityEntry,
        receipt: Option<&Receipt>,
    ) -> StoreResult<u64>;

    /// Stores notifications in bulk (imports, seeding); ids must be new. Their
    /// read and dismissed flags hold for every reader.
    async fn insert_notifications(&self, notifications: &[Notification]) -> StoreResult<()>;

    /// One notification of the tenant, with the flags it was stored with (no reader's state).
    async fn get_notification(&self, tenant_id: &TenantId, id: &NotificationId) -> StoreResult<Option<Notification>>;

    /// The notifications `filter` selects as its reader (`filter.user_id`) sees
    /// them, newest first, starting after `after` (cursor pagination), at most `limit`.
    async fn list_notifications(
        &self,
        tenant_id: &TenantId,
        filter: &NotificationFilter,
        after: Option<&PageCursor>,
        limit: u32,
    ) -> StoreResult<Vec<Notification>>;

    /// Applies `patch` to `reader`'s state of one notification at time `at`
    /// (setting `isRead` sets `readAt` if it was unread, clearing it clears
    /// `readAt`; waking a snooze makes it unread); the notification as the
    /// reader now sees it, or `None` if absent or not the reader's to see
    /// (another user's personal notification).
    async fn update_notification(
        &self,
        tenant_id: &TenantId,
        id: &NotificationId,
        reader: Option<&UserId>,
        patch: &NotificationPatch,
        at: Timestamp,
    ) -> StoreResult<Option<Notification>>;

    /// Records the first delivery to a dashboard; false if absent or already delivered.
    async fn mark_delivered(&self, tenant_id: &TenantId, id: &NotificationId, at: Timestamp) -> StoreResult<bool>;

    /// Marks read at `read_at` everything stored so far that `reader` sees,
    /// at a cost that does not grow with the number of notifications (a
    /// watermark); returns how many of the reader's unread ones changed.
    async fn mark_all_read(
        &self,
        tenant_id: &TenantId,
        reader: Option<&UserId>,
        read_at: Timestamp,
    ) -> StoreResult<u64>;

    /// Notifications `reader` sees that are for them neither read, dismissed nor snoozed.
    async fn unread_count(&self, tenant_id: &TenantId, reader: Option<&UserId>) -> StoreResult<u64>;

    /// Snoozes due at `now` (until at or before it), soonest first, at most `limit`.
    async fn due_snoozes(&self, now: Timestamp, limit: u32) -> StoreResult<Vec<DueSnooze>>;

    /// Ends `due`'s snooze, making the notification unread for its reader, if
    /// it is still snoozed until `due.until`: exactly one of any number of
    /// callers (on any node) gets the notification as the reader now sees it;
    /// the others, and a snooze changed meanwhile, get `None`.
    async fn wake_snooze(&self, due: &DueSnooze) -> StoreResult<Option<Notification>>;
}

/// The append-only audit trail.
#[async_trait]
pub trait ActivityStore: Send + Sync {
    /// Appends one entry to a tenant's audit trail.
    async fn append_activity(&self, entry: &ActivityEntry) -> StoreResult<()>;

    /// The tenant's audit trail, newest first.
    async fn list_activity(&self, tenant_id: &TenantId, limit: u32) -> StoreResult<Vec<ActivityEntry>>;
}

/// The webhook event log (every request received) and the deliveries
/// processed, by the sender's `webhook-id` (claims and answers).
#[async_trait]
pub trait WebhookLogStore: Send + Sync {
    /// Records a received webhook request.
    async fn record_webhook_event(&self, event: &WebhookEvent) -> StoreResult<()>;

    /// The tenant's received webhooks that `filter` selects, newest first,
    /// after `after` (a cursor on `receivedAt`, id), at most `limit`.
    async fn list_webhook_events(
        &self,
        tenant_id: &TenantId,
        filter: &WebhookEventFilter,
        after: Option<&PageCursor>,
        limit: u32,
    ) -> StoreResult<Vec<WebhookEvent>>;

    /// One received webhook of the tenant.
    async fn get_webhook_event(&self, tenant_id: &TenantId, id: &WebhookEventId) -> StoreResult<Option<WebhookEvent>>;

    /// Deletes webhook events received before `before`; returns how many.
    /// (MongoDB also expires them with a TTL index.)
    async fn purge_webhook_events(&self, before: Timestamp) -> StoreResult<u64>;

    /// The delivery with this `webhook-id` the tenant already processed, if any
    /// (a claim still being processed is not one).
    async fn get_processed_webhook(
        &self,
        tenant_id: &TenantId,
        webhook_id: &str,
    ) -> StoreResult<Option<ProcessedWebhook>>;

    /// Claims `webhook_id` for processing, atomically (one unique insert):
    /// exactly one of any number of simultaneous callers gets
    /// [`WebhookClaim::Claimed`]; the others learn the first answer
    /// ([`WebhookClaim::Done`]) or that it is still being processed. A claim
    /// made before `stale_before` and never completed (its process died) is
    /// taken over.
    async fn claim_webhook(
        &self,
        tenant_id: &TenantId,
        webhook_id: &str,
        endpoint: &str,
        now: Timestamp,
        stale_before: Timestamp,
    ) -> StoreResult<WebhookClaim>;

    /// Gives up the claim made at `claimed_at` (its processing failed), so
    /// that a retry can process the webhook.
    async fn release_webhook_claim(
        &self,
        tenant_id: &TenantId,
        webhook_id: &str,
        claimed_at: Timestamp,
    ) -> StoreResult<()>;

    /// Completes a claim with the delivery's answer (or remembers one without a
    /// claim); the first answer recorded for an id wins.
    async fn save_processed_webhook(&self, processed: &ProcessedWebhook) -> StoreResult<()>;

    /// Forgets deliveries received before `before`; returns how many.
    /// (MongoDB also expires them with a TTL index.)
    async fn purge_processed_webhooks(&self, before: Timestamp) -> StoreResult<u64>;
}

/// Identity: users, their memberships in tenants, sessions and API keys.
#[async_trait]
pub trait IdentityStore: Send + Sync {
    /// Stores a user. `Conflict` if the email is taken.
    async fn insert_user(&self, user: &User) -> StoreResult<()>;

    /// A user by id.
    async fn get_user(&self, user_id: &UserId) -> StoreResult<Option<User>>;

    /// A user by email (case-insensitive).
    async fn get_user_by_email(&self, email: &str) -> StoreResult<Option<User>>;

    /// Adds the user to the tenant, or changes their role there.
    async fn set_membership(&self, membership: &Membership) -> StoreResult<()>;

    /// Adds the user to the tenant unless they are a member already (whose
    /// role then stays): true if added.
    async fn add_membership(&self, membership: &Membership) -> StoreResult<bool>;

    /// Records that the user signed in at `at`.
    async fn record_sign_in(&self, user_id: &UserId, at: Timestamp) -> StoreResult<()>;

    /// Replaces the user's password hash `from` with `to`: false when the user
    /// does not exist or their hash is no longer `from` (another change came
    /// first), so of two changes at the same instant one wins.
    async fn update_password(&self, user_id: &UserId, from: &str, to: &str) -> StoreResult<bool>;

    /// Changes a member's role (`Some(role)`) or removes them (`None`), unless
    /// that would leave the tenant without an owner. Safe against concurrent
    /// changes: two owners demoting each other at the same instant leave one.
    async fn change_membership(
        &self,
        tenant_id: &TenantId,
        user_id: &UserId,
        to: Option<app::models::Role>,
    ) -> StoreResult<MembershipChange>;

    /// The tenants a user belongs to, with the role in each.
    async fn memberships_of_user(&self, user_id: &UserId) -> StoreResult<Vec<Membership>>;

    /// The members of a tenant, oldest first.
    async fn memberships_of_tenant(&self, tenant_id: &TenantId) -> StoreResult<Vec<Membership>>;

    /// Removes a user from a tenant; false when they were not a member.
    async fn delete_membership(&self, tenant_id: &TenantId, user_id: &UserId) -> StoreResult<bool>;

    /// Stores a new session.
    async fn insert_session(&self, session: &Session) -> StoreResult<()>;

    /// A session by its token hash, if not yet past its absolute expiry
    /// (revoked and idle-expired ones are returned: check [`Session::is_live`]).
    async fn get_session(&self, token_hash: &str, now: Timestamp) -> StoreResult<Option<Session>>;

    /// Records use of a live session: last seen and the new idle expiry. False if absent or revoked.
    async fn touch_session(
        &self,
        token_hash: &str,
        last_seen_at: Timestamp,
        idle_expires_at: Timestamp,
    ) -> StoreResult<bool>;

    /// Revokes one session (logout). False if absent or already revoked.
    async fn revoke_session(&self, token_hash: &str, at: Timestamp) -> StoreResult<bool>;

    /// Revokes every session of a user; returns how many.
    async fn revoke_user_sessions(&self, user_id: &UserId, at: Timestamp) -> StoreResult<u64>;

    /// Revokes every session of a user but the one with `keep` (its token
    /// hash), those started meanwhile included; returns the token hashes of
    /// the user's sessions revoked at `at`: those (to close their sockets).
    async fn revoke_other_sessions(&self, user_id: &UserId, keep: &str, at: Timestamp) -> StoreResult<Vec<String>>;

    /// The user's sessions live at `now` (neither revoked nor expired), most recently used first.
    async fn list_sessions(&self, user_id: &UserId, now: Timestamp) -> StoreResult<Vec<Session>>;

    /// Deletes sessions whose absolute expiry is before `now`; returns how many.
    /// (MongoDB also expires them with a TTL index.)
    async fn purge_sessions(&self, now: Timestamp) -> StoreResult<u64>;

    /// Stores a new API key. `Conflict` if its prefix exists.
    async fn insert_api_key(&self, key: &ApiKey) -> StoreResult<()>;

    /// An API key by its unique prefix (any tenant: the caller checks the hash).
    async fn get_api_key_by_prefix(&self, prefix: &str) -> StoreResult<Option<ApiKey>>;

    /// The tenant's API keys, newest first, revoked ones included.
    async fn list_api_keys(&self, tenant_id: &TenantId) -> StoreResult<Vec<ApiKeyInfo>>;

    /// Revokes one of the tenant's keys. False if absent or already revoked.
    async fn revoke_api_key(&self, tenant_id: &TenantId, id: &ApiKeyId, at: Timestamp) -> StoreResult<bool>;

    /// Records that a key was used at `at`.
    async fn touch_api_key(&self, id: &ApiKeyId, at: Timestamp) -> StoreResult<()>;

    /// The notification preferences of `owner` (a user id, or `demo`), if ever saved.
    async fn get_preferences(&self, owner: &str) -> StoreResult<Option<Preferences>>;

    /// Changes the fields `patch` names (the others stay, even when another
    /// change comes at the same instant); the preferences now.
    async fn update_preferences(&self, owner: &str, patch: &PreferencesPatch) -> StoreResult<Preferences>;
}

/// Invitations to tenants: made by owners and admins, accepted once through
/// their link's token.
#[async_trait]
pub trait InvitationStore: Send + Sync {
    /// Stores a new invitation. `Conflict` if its token hash exists.
    async fn insert_invitation(&self, invitation: &Invitation) -> StoreResult<()>;

    /// An invitation by its token's hash, whatever its state.
    async fn invitation_by_token(&self, token_hash: &str) -> StoreResult<Option<Invitation>>;

    /// One of the tenant's invitations by id, whatever its state.
    async fn get_invitation(&self, tenant_id: &TenantId, id: &InvitationId) -> StoreResult<Option<Invitation>>;

    /// The tenant's invitations pending at `now`, newest first.
    async fn pending_invitations(&self, tenant_id: &TenantId, now: Timestamp) -> StoreResult<Vec<Invitation>>;

    /// Revokes a pending invitation of the tenant; false if absent or no longer pending.
    async fn revoke_invitation(&self, tenant_id: &TenantId, id: &InvitationId, at: Timestamp) -> StoreResult<bool>;

    /// Uses the invitation of `token_hash` for `user_id` at `at`, if it is
    /// still pending then: exactly one of any number of simultaneous callers
    /// gets true.
    async fn claim_invitation(&self, token_hash: &str, user_id: &UserId, at: Timestamp) -> StoreResult<bool>;

    /// Gives back a claim made at `at` by `user_id` (what followed it failed),
    /// so the link works again.
    async fn release_invitation(&self, token_hash: &str, user_id: &UserId, at: Timestamp) -> StoreResult<()>;
}

/// Tenants' connections to the providers that post their own webhooks.
#[async_trait]
pub trait ProviderStore: Send + Sync {
    /// The tenant's connection to `provider`, if it has one.
    async fn get_connection(&self, tenant_id: &TenantId, provider: Provider)
        -> StoreResult<Option<ProviderConnection>>;

    /// The tenant's connections, by provider name.
    async fn list_connections(&self, tenant_id: &TenantId) -> StoreResult<Vec<ProviderConnection>>;

    /// Saves `connection` (its `version` one more than `read`) if the stored
    /// one is still at version `read` (`None`: there is none yet): false when
    /// another change came first, so of two changes at once one is saved and
    /// the other reads again.
    async fn save_connection(&self, connection: &ProviderConnection, read: Option<i64>) -> StoreResult<bool>;

    /// Deletes the tenant's connection to `provider`; false if it had none.
    async fn delete_connection(&self, tenant_id: &TenantId, provider: Provider) -> StoreResult<bool>;

    /// Records a delivery from `provider` at `at` (the latest stays).
    async fn touch_connection(&self, tenant_id: &TenantId, provider: Provider, at: Timestamp) -> StoreResult<()>;
}
