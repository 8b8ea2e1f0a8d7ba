//! The tenants webhooks are verified against, kept in memory with their
//! secrets opened: a webhook costs no store read and no unsealing while its
//! tenant is known.
//!
//! Correctness over speed, in this order:
//! - every change of a tenant made through the services (settings, secret
//!   rotation, resealing) drops it here at once, and with Redis on every node
//!   ([`super::limits::Shared::announce_tenant_change`]);
//! - a fill that raced a change is not kept (a change counter is read before
//!   the store and checked after the insert);
//! - while Redis is configured but away, the cache is not used (a change on
//!   another node could not reach this one), and when Redis comes back
//!   (its epoch moves) everything is dropped: messages may have been lost;
//! - entries live at most `HOOKBELL_TENANT_CACHE_SECONDS` (10 by default; 0
//!   turns the cache off), which also bounds what a lost message can cost;
//! - the previous secret's grace period is checked at each use, not at fill.

use std::{
    sync::atomic::{AtomicU64, Ordering},
    sync::Arc,
    time::Duration,
};

use app::models::{TenantId, Timestamp};

use crate::{
    error::ApiError,
    store::{Secret, Tenant},
};

/// Tenants kept at most (a few hundred bytes each).
const CAPACITY: u64 = 100_000;

/// A tenant with its secrets opened.
pub struct KnownTenant {
    pub tenant: Tenant,
    /// The current secret (or the global fallback); none: nothing verifies.
    current: Option<Secret>,
    /// The previous secret and the end of its grace period.
    previous: Option<(Secret, Timestamp)>,
}

impl KnownTenant {
    pub fn new(tenant: Tenant, current: Option<Secret>, previous: Option<(Secret, Timestamp)>) -> Self {
        Self { tenant, current, previous }
    }

    /// The secrets a webhook may be signed with at `now`: the current one,
    /// and the previous one until its grace period ends.
    pub fn accepted_at(&self, now: Timestamp) -> impl Iterator<Item = &Secret> {
        let previous = self.previous.as_ref().filter(move |(_, until)| *until > now).map(|(s, _)| s);
        self.current.iter().chain(previous)
    }
}

/// See the module's documentation.
pub struct TenantCache {
    entries: Option<moka::sync::Cache<TenantId, Arc<KnownTenant>>>,
    /// Changes seen (of any tenant): a fill that overlapped one is dropped.
    changes: AtomicU64,
    /// The shared state's epoch the entries were filled under.
    epoch: AtomicU64,
}

impl TenantCache {
    /// A cache whose entries live `ttl` (zero: no cache).
    pub fn new(ttl: Duration) -> Self {
        let entries =
            (!ttl.is_zero()).then(|| moka::sync::Cache::builder().max_capacity(CAPACITY).time_to_live(ttl).build());
        Self { entries, changes: AtomicU64::new(0), epoch: AtomicU64::new(0) }
    }

    /// The tenant if known, under the shared state's `epoch` (a new epoch
    /// drops everything first).
    pub fn get(&self, id: &TenantId, epoch: u64) -> Option<Arc<KnownTenant>> {
        let entries = self.entries.as_ref()?;
        if self.epoch.swap(epoch, Ordering::SeqCst) != epoch {
            self.forget_all();
        }
        entries.get(id)
    }

    /// Where a fill starts: pass it to [`TenantCache::put`].
    pub fn begin(&self) -> u64 {
        self.changes.load(Ordering::SeqCst)
    }

    /// Keeps `known`, read from the store after [`TenantCache::begin`]
    /// answered `seen`, unless a change came meanwhile.
    pub fn put(&self, seen: u64, known: Arc<KnownTenant>) {
        let Some(entries) = &self.entries else { return };
        let id = known.tenant.id.clone();
        entries.insert(id.clone(), known);
        // A change after the read and before this insert would otherwise be undone.
        if self.changes.load(Ordering::SeqCst) != seen {
            entries.invalidate(&id);
        }
    }

    /// Drops a tenant that changed.
    pub fn forget(&self, id: &TenantId) {
        self.changes.fetch_add(1, Ordering::SeqCst);
        if let Some(entries) = &self.entries {
            entries.invalidate(id);
        }
    }

    /// Drops every tenant.
    pub fn forget_all(&self) {
        self.changes.fetch_add(1, Ordering::SeqCst);
        if let Some(entries) = &self.entries {
            entries.invalidate_all();
        }
    }
}

impl super::Services {
    /// The tenant `id` with its secrets opened, from the cache or else the store.
    pub(super) async fn known_tenant(&self, id: &TenantId) -> Result<Option<Arc<KnownTenant>>, ApiError> {
        // With Redis away, another node's change could not reach this one: no cache.
        let (usable, epoch) = self.shared.as_ref().map_or((true, 0), |shared| shared.health());
        if usable {
            if let Some(known) = self.tenants.get(id, epoch) {
                return Ok(Some(known));
            }
        }
        let seen = self.tenants.begin();
        let Some(tenant) = self.store.get_tenant(id).await? else { return Ok(None) };
        let known = Arc::new(self.open_tenant(tenant)?);
        if usable {
            self.tenants.put(seen, known.clone());
        }
        Ok(Some(known))
    }

    /// Opens the tenant's secrets: its own (or, without one, the global
    /// `WEBHOOK_SECRET`, as in the seed) and the previous one, if any.
    pub(super) fn open_tenant(&self, tenant: Tenant) -> Result<KnownTenant, ApiError> {
        if tenant.webhook_secret_sealed.is_empty() {
            let fallback = self.config.webhook_secret.clone().map(Secret::new);
            return Ok(KnownTenant::new(tenant, fallback, None));
        }
        let current = self.tenant_secret(&tenant)?;
        // (An empty previous secret was stored by an older version rotating away from the fallback: none.)
        let previous = match tenant.previous_secret.as_ref().filter(|p| !p.sealed.is_empty()) {
            Some(p) => Some((self.open_secret(&p.sealed, &tenant.id)?, p.valid_until)),
            None => None,
        };
        Ok(KnownTenant::new(tenant, Some(current), previous))
    }

    /// After a change of the tenant: drops it here and tells the other nodes.
    pub(super) async fn tenant_changed(&self, id: &TenantId) {
        self.tenants.forget(id);
        if let Some(shared) = &self.shared {
            shared.announce_tenant_change(id).await;
        }
    }

    /// Drops a tenant another node changed.
    pub fn forget_tenant(&self, id: &TenantId) {
        self.tenants.forget(id);
    }

    /// Drops every tenant (a change whose id could not be read).
    pub fn forget_all_tenants(&self) {
        self.tenants.forget_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn known(id: &str, secret: &str) -> Arc<KnownTenant> {
        let tenant = Tenant {
            id: TenantId::from(id.to_owned()),
            name: "t".into(),
            slug: "t".into(),
            webhook_secret_sealed: "sealed".into(),
            webhook_settings: Default::default(),
            previous_secret: None,
            created_at: Timestamp::now(),
        };
        Arc::new(KnownTenant::new(tenant, Some(Secret::new(secret.into())), None))
    }

    const ID: &str = "507f1f77bcf86cd799439011";

    #[test]
    fn a_fill_that_raced_a_change_is_not_kept() {
        let cache = TenantCache::new(Duration::from_secs(60));
        let id = TenantId::from(ID.to_owned());
        let seen = cache.begin();
        cache.forget(&id); // the change lands between the read and the insert
        cache.put(seen, known(ID, "old"));
        assert!(cache.get(&id, 0).is_none());
        let seen = cache.begin();
        cache.put(seen, known(ID, "new"));
        assert_eq!(cache.get(&id, 0).unwrap().accepted_at(Timestamp::now()).next().unwrap().expose(), "new");
    }

    #[test]
    fn a_new_epoch_drops_everything_and_zero_ttl_keeps_nothing() {
        let cache = TenantCache::new(Duration::from_secs(60));
        let id = TenantId::from(ID.to_owned());
        cache.put(cache.begin(), known(ID, "s"));
        assert!(cache.get(&id, 0).is_some());
        assert!(cache.get(&id, 1).is_none(), "Redis came back: messages may have been lost");
        let off = TenantCache::new(Duration::ZERO);
        off.put(off.begin(), known(ID, "s"));
        assert!(off.get(&id, 0).is_none());
    }

    #[test]
    fn the_previous_secret_ends_with_its_grace_period_though_cached() {
        let now = Timestamp::now();
        let mut k = Arc::try_unwrap(known(ID, "new")).ok().unwrap();
        k.previous = Some((Secret::new("old".into()), now + Duration::from_secs(5)));
        assert_eq!(k.accepted_at(now).count(), 2);
        assert_eq!(k.accepted_at(now + Duration::from_secs(6)).count(), 1);
    }
}
