//! Notifications in MongoDB: the `notifications` collection (filtered, paged
//! lists, deliveries), each reader's state (`notification_states`: what a
//! reader changed one by one; `reader_marks`: their last mark-all-read) and
//! the per-tenant sequence numbers in `counters`. Each notification is
//! inserted once under its `sourceKey`, so a retried write never duplicates it;
//! a reader's state changes under a version number, so two changes at the
//! same instant both apply (no transactions needed).

use std::collections::HashMap;

use app::models::{InboxView, Notification};
use app::models::{NotificationId, TenantId, Timestamp, UserId};
use async_trait::async_trait;
use mongodb::{
    bson::{doc, oid::ObjectId, Bson, Document},
    options::ReturnDocument,
};

use super::{
    docs::{
        activity_doc, from_date, get_opt_date, notification_doc, notification_from, oid, opt_date, to_date,
        whole_number,
    },
    is_duplicate, map_err,
    query::{all, insert_once, latest, modified, run},
    MongoStore,
};
use crate::store::{
    reader_state::{Mark, ReaderState},
    ActivityEntry, DueSnooze, NotificationFilter, NotificationPatch, NotificationStore, PageCursor, Receipt,
    StoreError, StoreResult,
};

/// How often a reader's change is retried when another change of the same state came first.
pub(super) const CHANGE_ATTEMPTS: usize = 8;

/// Matches the notifications `user_id` sees: tenant-wide ones plus the user's own.
pub(super) fn viewer(user_id: Option<&UserId>) -> Bson {
    match user_id {
        Some(u) => Bson::Document(doc! {"$in": [Bson::Null, u.as_str()]}),
        None => Bson::Null,
    }
}

/// A reader as stored: the user id, or '' for the tenant itself.
pub(super) fn reader_key(reader: Option<&UserId>) -> String {
    reader.map(|u| u.to_string()).unwrap_or_default()
}

fn state_id(tenant: &ObjectId, reader: &str, id: &ObjectId) -> String {
    format!("{tenant}:{reader}:{id}")
}

fn seq_of(d: &Document) -> i64 {
    whole_number(d.get("seq")).unwrap_or(0)
}

/// A stored state: the reader's state and its version.
fn state_from(d: &Document) -> (ReaderState, i64) {
    let state = ReaderState {
        is_read: d.get_bool("isRead").unwrap_or(false),
        read_at: get_opt_date(d, "readAt"),
        is_dismissed: d.get_bool("isDismissed").unwrap_or(false),
        snoozed_until: get_opt_date(d, "snoozedUntil"),
    };
    (state, whole_number(d.get("v")).unwrap_or(0))
}

fn state_fields(s: &ReaderState) -> Document {
    doc! {
        "isRead": s.is_read,
        "readAt": opt_date(&s.read_at),
        "isDismissed": s.is_dismissed,
        "snoozedUntil": opt_date(&s.snoozed_until),
    }
}

/// Whether a reader's state puts a notification in a list with `f`.
fn listed(s: &ReaderState, f: &NotificationFilter) -> bool {
    let read_ok = f.include_read || !s.is_read;
    match f.view {
        InboxView::Inbox => s.snoozed_until.is_none() && (f.include_dismissed || !s.is_dismissed) && read_ok,
        InboxView::Snoozed => s.snoozed_until.is_some() && read_ok,
        InboxView::Dismissed => s.snoozed_until.is_none() && s.is_dismissed && read_ok,
    }
}

/// What a stored notification must match to be listed with `f` by a reader
/// who never changed it (`None`: nothing is), after their `mark`.
fn listed_by_default(f: &NotificationFilter, mark: Option<&Mark>) -> Option<Document> {
    let mut q = Document::new();
    match f.view {
        InboxView::Inbox if !f.include_dismissed => {
            q.insert("isDismissed", false);
        }
        InboxView::Inbox => {}
        InboxView::Snoozed => return None,
        InboxView::Dismissed => {
            q.insert("isDismissed", true);
        }
    }
    if !f.include_read {
        q.insert("isRead", false);
        if let Some(m) = mark {
            q.insert("seq", doc! {"$gt": m.read_through});
        }
    }
    Some(q)
}

/// What storing a notification found: whether this call stored it and, if
/// so, the mark of its reader as it was just after (read in the same look as
/// the guard of `insert_notification_once`, so the unread count that follows
/// needs no look of its own).
pub(super) enum Inserted {
    Now { mark: Option<Mark> },
    Before,
}

pub(super) fn mark_id(tenant: &ObjectId, reader: &str) -> String {
    format!("{tenant}:{reader}")
}

pub(super) fn mark_from(d: &Document) -> Option<Mark> {
    Some(Mark {
        read_through: whole_number(d.get("readThrough"))?,
        read_at: from_date(*d.get_datetime("readAt").ok()?),
    })
}

impl MongoStore {
    /// Inserts a notification once under `key`, numbered next in its tenant's order.
    pub(super) async fn insert_notification_once(&self, n: &Notification, key: &str) -> StoreResult<Inserted> {
        let seq = self.take_seqs(&n.tenant_id, 1).await?;
        let mut d = notification_doc(n, key)?;
        d.insert("seq", seq);
        if !insert_once(&self.notifications, d).await? {
            return Ok(Inserted::Before);
        }
        let mark = self.renumber_if_marked(n, seq).await?;
        Ok(Inserted::Now { mark })
    }

    /// A mark-all-read that covers `seq` though the notification was not
    /// stored yet (a later one was: no transactions) would make it read for a
    /// reader who never saw it: once stored, such a notification takes a new
    /// number, after every mark, so it is unread for everyone, as its
    /// broadcast says. A mark written after this look is not seen; README
    /// ("A team's inbox") says what that leaves. The same look reads the mark
    /// of the notification's reader, which this returns.
    async fn renumber_if_marked(&self, n: &Notification, seq: i64) -> StoreResult<Option<Mark>> {
        let t = oid(&n.tenant_id)?;
        let own = mark_id(&t, &reader_key(n.user_id.as_ref()));
        let marks = all(
            self.reader_marks.find(doc! {"$or": [{"_id": &own}, {"tenantId": t, "readThrough": {"$gte": seq}}]}),
            |d| Ok(d.clone()),
        )
        .await?;
        // Another reader's mark came back only by covering `seq` (the server matched it).
        let own_mark = |d: &&Document| d.get_str("_id") == Ok(own.as_str());
        let covers = |d: &Document| !own_mark(&d) || whole_number(d.get("readThrough")).is_none_or(|r| r >= seq);
        if marks.iter().any(covers) {
            let later = self.take_seqs(&n.tenant_id, 1).await?;
            run(self.notifications.update_one(doc! {"_id": oid(&n.id)?, "seq": seq}, doc! {"$set": {"seq": later}}))
                .await?;
        }
        Ok(marks.iter().find(own_mark).and_then(mark_from))
    }

    /// The unread count of `n`'s reader once `n` is stored: with the mark
    /// the guard read when this call stored it, else (stored by an earlier
    /// attempt) with the mark looked up now.
    pub(super) async fn unread_after(&self, n: &Notification, inserted: Inserted) -> StoreResult<u64> {
        let t = oid(&n.tenant_id)?;
        let mark = match inserted {
            Inserted::Now { mark } => mark,
            Inserted::Before => self.mark_of(&t, &reader_key(n.user_id.as_ref())).await?,
        };
        self.unread_with(&t, n.user_id.as_ref(), mark.as_ref()).await
    }

    /// Takes `count` sequence numbers of the tenant's notifications; the last one.
    async fn take_seqs(&self, tenant_id: &TenantId, count: i64) -> StoreResult<i64> {
        let id = format!("notifications:{tenant_id}");
        // The first two takers of a new tenant race to create its counter: the loser tries again.
        for _ in 0..CHANGE_ATTEMPTS {
            let taken = self
                .counters
                .find_one_and_update(doc! {"_id": &id}, doc! {"$inc": {"seq": count}})
                .upsert(true)
                .return_document(ReturnDocument::After)
                .await;
            match taken {
                Ok(Some(d)) => {
                    if let Some(seq) = whole_number(d.get("seq")) {
                        return Ok(seq);
                    }
                    return Err(StoreError::Internal("a sequence counter is not a number".into()));
                }
                Ok(None) => {}
                Err(e) if is_duplicate(&e) => {}
                Err(e) => return Err(map_err(e)),
            }
        }
        Err(StoreError::Unavailable("no sequence number could be taken; retry".into()))
    }

    /// The highest sequence number of the tenant's stored notifications (0
    /// before any): what a mark covers. Not the counter, which also counts
    /// numbers taken by notifications not stored yet.
    async fn last_seq(&self, tenant: &ObjectId) -> StoreResult<i64> {
        let newest = self.notifications.find_one(doc! {"tenantId": tenant}).sort(doc! {"seq": -1});
        Ok(run(newest).await?.and_then(|d| whole_number(d.get("seq"))).unwrap_or(0))
    }

    async fn mark_of(&self, tenant: &ObjectId, reader: &str) -> StoreResult<Option<Mark>> {
        Ok(run(self.reader_marks.find_one(doc! {"_id": mark_id(tenant, reader)})).await?.as_ref().and_then(mark_from))
    }

    /// The states the reader keeps in the tenant that match `which`, by notification id.
    async fn states_of(
        &self,
        tenant: &ObjectId,
        reader: &str,
        which: Document,
    ) -> StoreResult<HashMap<ObjectId, (Document, ReaderState)>> {
        let mut filter = doc! {"tenantId": tenant, "reader": reader};
        filter.extend(which);
        let docs = all(self.notification_states.find(filter), |d| Ok(d.clone())).await?;
        Ok(docs
            .into_iter()
            .filter_map(|d| {
                let id = d.get_object_id("notificationId").ok()?;
                let (state, _) = state_from(&d);
                Some((id, (d, state)))
            })
            .collect())
    }

    /// One notification as the reader sees it, with its stored document and the
    /// reader's exception, if any (`None` if absent or not theirs to see).
    async fn view(
        &self,
        tenant: &ObjectId,
        reader: &str,
        id: &ObjectId,
    ) -> StoreResult<Option<(Notification, Document, Option<Document>)>> {
        let Some(d) = run(self.notifications.find_one(doc! {"_id": id, "tenantId": tenant})).await? else {
            return Ok(None);
        };
        let mut n = notification_from(&d)?;
        if n.user_id.as_ref().is_some_and(|owner| owner.as_str() != reader) {
            return Ok(None); // another user's personal notification
        }
        let mark = self.mark_of(tenant, reader).await?;
        let state_doc = run(self.notification_states.find_one(doc! {"_id": state_id(tenant, reader, id)})).await?;
        let state = match &state_doc {
            Some(s) => state_from(s).0,
            None => ReaderState::default_for(&n, seq_of(&d), mark.as_ref()),
        };
        state.show_on(&mut n);
        Ok(Some((n, d, state_doc)))
    }
}

#[async_trait]
impl NotificationStore for MongoStore {
    async fn create_notification_with(
        &self,
        notification: &Notification,
        activity: &ActivityEntry,
        receipt: Option<&Receipt>,
    ) -> StoreResult<u64> {
        let write = async {
            // Notification first, then its audit entry, both under one key: a retry completes, never duplicates.
            let key = format!("notification:{}", notification.id);
            let inserted = self.insert_notification_once(notification, &key).await?;
            insert_once(&self.activity, activity_doc(activity, &key)?).await?;
            if let Some(receipt) = receipt {
                self.record_receipt(receipt).await;
            }
            self.unread_after(notification, inserted).await
        };
        self.claiming(receipt, write).await
    }

    async fn insert_notifications(&self, notifications: &[Notification]) -> StoreResult<()> {
        if notifications.is_empty() {
            return Ok(());
        }
        // One block of sequence numbers per tenant, handed out in the given order.
        let mut per_tenant: HashMap<&TenantId, i64> = HashMap::new();
        for n in notifications {
            *per_tenant.entry(&n.tenant_id).or_default() += 1;
        }
        let mut next: HashMap<&TenantId, i64> = HashMap::new();
        for (tenant, count) in per_tenant {
            next.insert(tenant, self.take_seqs(tenant, count).await? - count + 1);
        }
        let firsts = next.clone();
        let mut docs = Vec::with_capacity(notifications.len());
        let mut numbered = Vec::with_capacity(notifications.len());
        for n in notifications {
            let mut d = notification_doc(n, &format!("notification:{}", n.id))?;
            let Some(seq) = next.get_mut(&n.tenant_id) else {
                return Err(StoreError::Internal("a notification's tenant got no numbers".into()));
            };
            d.insert("seq", *seq);
            numbered.push((n, *seq));
            *seq += 1;
            docs.push(d);
        }
        run(self.notifications.insert_many(docs)).await?;
        // As for one notification (see `renumber_if_marked`), looked for once per tenant.
        for (tenant, first) in firsts {
            let t = oid(tenant)?;
            if run(self.reader_marks.find_one(doc! {"tenantId": t, "readThrough": {"$gte": first}})).await?.is_some() {
                for (n, seq) in numbered.iter().filter(|(n, _)| &n.tenant_id == tenant) {
                    self.renumber_if_marked(n, *seq).await?;
                }
            }
        }
        Ok(())
    }

    async fn get_notification(&self, tenant_id: &TenantId, id: &NotificationId) -> StoreResult<Option<Notification>> {
        let (Ok(t), Ok(id)) = (ObjectId::parse_str(tenant_id), ObjectId::parse_str(id)) else {
            return Ok(None);
        };
        super::query::one(self.notifications.find_one(doc! {"_id": id, "tenantId": t}), notification_from).await
    }

    async fn list_notifications(
        &self,
        tenant_id: &TenantId,
        f: &NotificationFilter,
        after: Option<&PageCursor>,
        limit: u32,
    ) -> StoreResult<Vec<Notification>> {
        let Ok(t) = ObjectId::parse_str(tenant_id) else {
            return Ok(Vec::new());
        };
        let reader = reader_key(f.user_id.as_ref());
        let mark = self.mark_of(&t, &reader).await?;
        // Only the exceptions that can list differently from the default under `f`
        // (the others change only what a listed one shows: read for the page below).
        let mut differ = vec![
            doc! {"snoozedUntil": {"$ne": Bson::Null}},
            doc! {"isDismissed": true, "baseDismissed": false},
            doc! {"isDismissed": false, "baseDismissed": true},
        ];
        if !f.include_read {
            differ.push(doc! {"isRead": false});
            differ.push(match &mark {
                Some(m) => doc! {"seq": {"$gt": m.read_through}},
                None => doc! {},
            });
        }
        let states = self.states_of(&t, &reader, doc! {"$or": differ}).await?;
        let mut q = doc! {"tenantId": t, "userId": viewer(f.user_id.as_ref())};
        if let Some(kind) = f.kind {
            q.insert("type", kind.as_str());
        }
        if let Some(priority) = f.priority {
            q.insert("priority", priority.as_str());
        }
        let mut and = Vec::new();
        if let Some(c) = after {
            let at = to_date(&c.created_at);
            and.push(doc! {"$or": [{"createdAt": {"$lt": at}}, {"createdAt": at, "_id": {"$lt": oid(&c.id)?}}]});
        }
        let chosen: Vec<ObjectId> = states.iter().filter(|(_, (_, s))| listed(s, f)).map(|(id, _)| *id).collect();
        let mut either = vec![doc! {"_id": {"$in": chosen}}];
        if let Some(mut default) = listed_by_default(f, mark.as_ref()) {
            default.insert("_id", doc! {"$nin": states.keys().copied().collect::<Vec<_>>()});
            either.push(default);
        }
        and.push(doc! {"$or": either});
        q.insert("$and", and);
        let docs = all(latest(&self.notifications, q, limit), |d| Ok(d.clone())).await?;
        let page: Vec<String> =
            docs.iter().filter_map(|d| d.get_object_id("_id").ok()).map(|id| state_id(&t, &reader, &id)).collect();
        let shown = self.states_of(&t, &reader, doc! {"_id": {"$in": page}}).await?;
        docs.iter()
            .map(|d| {
                let mut n = notification_from(d)?;
                let state = match d.get_object_id("_id").ok().and_then(|id| shown.get(&id)) {
                    Some((_, s)) => *s,
                    None => ReaderState::default_for(&n, seq_of(d), mark.as_ref()),
                };
                state.show_on(&mut n);
                Ok(n)
            })
            .collect()
    }

    async fn update_notification(
        &self,
        tenant_id: &TenantId,
        id: &NotificationId,
        reader: Option<&UserId>,
        patch: &NotificationPatch,
        at: Timestamp,
    ) -> StoreResult<Option<Notification>> {
        let (Ok(t), Ok(nid)) = (ObjectId::parse_str(tenant_id), ObjectId::parse_str(id)) else {
            return Ok(None);
        };
        let reader = reader_key(reader);
        for _ in 0..CHANGE_ATTEMPTS {
            let Some((mut n, stored, state_doc)) = self.view(&t, &reader, &nid).await? else {
                return Ok(None);
            };
            let state = ReaderState::of(&n);
            let changed = state.apply(patch, at);
            if changed == state {
                return Ok(Some(n));
            }
            let key = state_id(&t, &reader, &nid);
            let done = match state_doc {
                // Only if nobody changed it since it was read.
                Some(d) => {
                    let v = state_from(&d).1;
                    modified(self.notification_states.update_one(
                        doc! {"_id": &key, "v": v},
                        doc! {"$set": state_fields(&changed), "$inc": {"v": 1}},
                    ))
                    .await?
                }
                None => {
                    let mut d = state_fields(&changed);
                    let base_dismissed = stored.get_bool("isDismissed").unwrap_or(false);
                    let base_live = !stored.get_bool("isRead").unwrap_or(false) && !base_dismissed;
                    d.extend(doc! {
                        "_id": &key, "tenantId": t, "reader": &reader, "notificationId": nid, "seq": seq_of(&stored),
                        "baseLive": base_live, "baseDismissed": base_dismissed, "v": 1_i64,
                    });
                    match self.notification_states.insert_one(d).await {
                        Ok(_) => true,
                        Err(e) if is_duplicate(&e) => false,
                        Err(e) => return Err(map_err(e)),
                    }
                }
            };
            if done {
                changed.show_on(&mut n);
                return Ok(Some(n));
            }
        }
        Err(StoreError::Unavailable("the notification's state keeps changing; retry".into()))
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
        reader: Option<&UserId>,
        read_at: Timestamp,
    ) -> StoreResult<u64> {
        let Ok(t) = ObjectId::parse_str(tenant_id) else {
            return Ok(0);
        };
        let before = self.unread_count(tenant_id, reader).await?;
        let key = reader_key(reader);
        let through = self.last_seq(&t).await?;
        // The mark only moves forward: a mark-all-read that read an older
        // sequence number than one made at the same instant changes nothing.
        let this = doc! {"_id": mark_id(&t, &key), "readThrough": {"$lte": through}};
        let set = doc! {"$set": {"tenantId": t, "reader": &key, "readThrough": through, "readAt": to_date(&read_at)}};
        match self.reader_marks.update_one(this.clone(), set.clone()).upsert(true).await {
            Ok(_) => {}
            // The mark exists and is further on, or another first mark was just made:
            // move it forward if it is behind (matching nothing when it is further on).
            Err(e) if is_duplicate(&e) => {
                run(self.reader_marks.update_one(this, set)).await?;
            }
            Err(e) => return Err(map_err(e)),
        }
        // The reader's unread exceptions up to the mark are read now.
        let mut unread = doc! {"tenantId": t, "reader": &key, "seq": {"$lte": through}};
        unread.insert("isRead", false);
        run(self
            .notification_states
            .update_many(unread, doc! {"$set": {"isRead": true, "readAt": to_date(&read_at)}, "$inc": {"v": 1}}))
        .await?;
        let after = self.unread_count(tenant_id, reader).await?;
        Ok(before.saturating_sub(after))
    }

    async fn unread_count(&self, tenant_id: &TenantId, reader: Option<&UserId>) -> StoreResult<u64> {
        let Ok(t) = ObjectId::parse_str(tenant_id) else {
            return Ok(0);
        };
        let mark = self.mark_of(&t, &reader_key(reader)).await?;
        self.unread_with(&t, reader, mark.as_ref()).await
    }

    async fn due_snoozes(&self, now: Timestamp, limit: u32) -> StoreResult<Vec<DueSnooze>> {
        let due = self
            .notification_states
            .find(doc! {"snoozedUntil": {"$ne": Bson::Null, "$lte": to_date(&now)}})
            .sort(doc! {"snoozedUntil": 1})
            .limit(i64::from(limit));
        all(due, |d| {
            let reader = d.get_str("reader").unwrap_or_default();
            Ok(DueSnooze {
                tenant_id: d
                    .get_object_id("tenantId")
                    .map_err(|_| super::docs::corrupt("state tenantId"))?
                    .to_hex()
                    .into(),
                reader: (!reader.is_empty()).then(|| UserId::from(reader)),
                notification_id: d
                    .get_object_id("notificationId")
                    .map_err(|_| super::docs::corrupt("state notificationId"))?
                    .to_hex()
                    .into(),
                until: get_opt_date(d, "snoozedUntil").ok_or_else(|| super::docs::corrupt("snoozedUntil"))?,
            })
        })
        .await
    }

    async fn wake_snooze(&self, due: &DueSnooze) -> StoreResult<Option<Notification>> {
        let (Ok(t), Ok(nid)) = (ObjectId::parse_str(&due.tenant_id), ObjectId::parse_str(&due.notification_id)) else {
            return Ok(None);
        };
        let reader = reader_key(due.reader.as_ref());
        let woke = modified(self.notification_states.update_one(
            doc! {"_id": state_id(&t, &reader, &nid), "snoozedUntil": to_date(&due.until)},
            doc! {"$set": {"snoozedUntil": Bson::Null, "isRead": false, "readAt": Bson::Null}, "$inc": {"v": 1}},
        ))
        .await?;
        if !woke {
            return Ok(None);
        }
        Ok(self.view(&t, &reader, &nid).await?.map(|v| v.0))
    }
}
