//! Each reader's own state: reads, dismissals, snoozes and mark-all-read of
//! one reader leave every other reader's list and count as they were; flags
//! stored before state was kept per reader hold for all; a due snooze wakes
//! exactly once; counts always agree with the lists.

use std::sync::Arc;

use app::models::{
    InboxView, Notification, NotificationFilter, NotificationId, NotificationPatch, NotificationType, Priority,
    TenantId, UserId,
};
use server::{
    ids,
    store::{DueSnooze, Store},
};
use tokio::sync::Barrier;

use super::{notifications::note, tenant, ts, Subject, Timestamp};

/// `reader`'s view: tenant-wide and (for a user) their own, read included.
fn view_of(reader: Option<&UserId>) -> NotificationFilter {
    NotificationFilter { user_id: reader.cloned(), ..Default::default() }
}

async fn list(store: &dyn Store, t: &TenantId, f: NotificationFilter) -> Vec<Notification> {
    store.list_notifications(t, &f, None, 1000).await.unwrap()
}

fn find<'a>(list: &'a [Notification], id: &NotificationId) -> Option<&'a Notification> {
    list.iter().find(|n| &n.id == id)
}

/// The reader's count is the length of their unread list.
pub async fn count_matches_list(store: &dyn Store, t: &TenantId, reader: Option<&UserId>) {
    let unread = list(store, t, NotificationFilter { include_read: false, ..view_of(reader) }).await;
    assert!(unread.iter().all(|n| !n.is_read && !n.is_dismissed && n.snoozed_until.is_none()));
    assert_eq!(store.unread_count(t, reader).await.unwrap(), unread.len() as u64, "reader {reader:?}");
}

fn patch(is_read: Option<bool>, is_dismissed: Option<bool>) -> NotificationPatch {
    NotificationPatch { is_read, is_dismissed, snoozed_until: None }
}

async fn setup(s: &Subject) -> (TenantId, Vec<NotificationId>) {
    let t = tenant("team");
    s.store.insert_tenant(&t).await.unwrap();
    let mut made = Vec::new();
    for (i, user) in [None, None, None, Some("u1")].into_iter().enumerate() {
        let n = note(&t.id, ts(&format!("2026-04-01T00:00:0{i}.000Z")), NotificationType::Info, Priority::Low, user);
        s.store.insert_notifications(std::slice::from_ref(&n)).await.unwrap();
        made.push(n.id);
    }
    (t.id, made)
}

pub async fn each_reader_keeps_their_own_state(s: Subject) {
    let (t, n) = setup(&s).await;
    let store = &*s.store;
    let (a, b) = (UserId::from("u1"), UserId::from("u2"));
    let count = |r: Option<&UserId>| {
        let r = r.cloned();
        let t = t.clone();
        async move { store.unread_count(&t, r.as_ref()).await.unwrap() }
    };
    assert_eq!((count(Some(&a)).await, count(Some(&b)).await, count(None).await), (4, 3, 3));

    let t1 = ts("2026-04-02T00:00:00.000Z");
    let read = store.update_notification(&t, &n[0], Some(&a), &patch(Some(true), None), t1).await.unwrap().unwrap();
    assert!(read.is_read && read.read_at == Some(t1));
    assert_eq!((count(Some(&a)).await, count(Some(&b)).await, count(None).await), (3, 3, 3));
    assert!(!find(&list(store, &t, view_of(Some(&b))).await, &n[0]).unwrap().is_read, "b's bell does not move");
    assert!(!store.get_notification(&t, &n[0]).await.unwrap().unwrap().is_read, "the stored flags stay");

    store.update_notification(&t, &n[1], Some(&b), &patch(None, Some(true)), t1).await.unwrap();
    assert_eq!(count(Some(&b)).await, 2);
    assert!(find(&list(store, &t, view_of(Some(&b))).await, &n[1]).is_none(), "dismissed leaves b's inbox");
    assert!(find(&list(store, &t, view_of(Some(&a))).await, &n[1]).is_some(), "not a's");
    let dismissed = list(store, &t, NotificationFilter { view: InboxView::Dismissed, ..view_of(Some(&b)) }).await;
    assert_eq!(dismissed.iter().map(|n| &n.id).collect::<Vec<_>>(), [&n[1]]);

    // Mark all read: a's own unread ones (two tenant-wide, one personal), nobody else's.
    let t2 = ts("2026-04-03T00:00:00.000Z");
    assert_eq!(store.mark_all_read(&t, Some(&a), t2).await.unwrap(), 3);
    assert_eq!((count(Some(&a)).await, count(Some(&b)).await, count(None).await), (0, 2, 3));
    let seen = list(store, &t, view_of(Some(&a))).await;
    assert!(seen.iter().all(|x| x.is_read));
    assert_eq!(find(&seen, &n[0]).unwrap().read_at, Some(t1), "the first read time stays");
    assert_eq!(find(&seen, &n[3]).unwrap().read_at, Some(t2));
    assert_eq!(store.mark_all_read(&t, Some(&a), t2).await.unwrap(), 0, "nothing more to mark");

    // Stored after the mark: unread for everyone; marked unread again: an exception to the mark.
    let later = note(&t, ts("2026-04-01T00:00:09.000Z"), NotificationType::Info, Priority::Low, None);
    store.insert_notifications(std::slice::from_ref(&later)).await.unwrap();
    assert_eq!((count(Some(&a)).await, count(Some(&b)).await, count(None).await), (1, 3, 4));
    let again = store.update_notification(&t, &n[2], Some(&a), &patch(Some(false), None), t2).await.unwrap().unwrap();
    assert!(!again.is_read && again.read_at.is_none());
    assert_eq!(count(Some(&a)).await, 2);
    let t3 = ts("2026-04-04T00:00:00.000Z");
    assert_eq!(store.mark_all_read(&t, Some(&a), t3).await.unwrap(), 2);
    let seen = list(store, &t, view_of(Some(&a))).await;
    assert_eq!(find(&seen, &n[2]).unwrap().read_at, Some(t3));
    assert_eq!(find(&seen, &later.id).unwrap().read_at, Some(t3));
    for r in [None, Some(&a), Some(&b)] {
        count_matches_list(store, &t, r).await;
    }
    // The tenant itself (a program) is one more reader, as in the seed.
    assert_eq!(store.mark_all_read(&t, None, t3).await.unwrap(), 4);
    assert_eq!((count(Some(&a)).await, count(Some(&b)).await, count(None).await), (0, 3, 0));
}

pub async fn flags_stored_before_per_reader_state_hold_for_every_reader(s: Subject) {
    let t = tenant("old");
    s.store.insert_tenant(&t).await.unwrap();
    let at = ts("2026-01-01T00:00:00.000Z");
    let mut read = note(&t.id, at, NotificationType::Info, Priority::Low, None);
    (read.is_read, read.read_at) = (true, Some(at));
    let mut dismissed = note(&t.id, at, NotificationType::Warning, Priority::Low, None);
    dismissed.is_dismissed = true;
    let fresh = note(&t.id, at, NotificationType::Error, Priority::Low, None);
    s.store.insert_notifications(&[read.clone(), dismissed.clone(), fresh.clone()]).await.unwrap();
    let (a, b) = (UserId::from("u1"), UserId::from("u2"));
    for r in [None, Some(&a), Some(&b)] {
        let seen = list(&*s.store, &t.id, NotificationFilter { include_dismissed: true, ..view_of(r) }).await;
        assert_eq!(find(&seen, &read.id).unwrap().read_at, Some(at), "{r:?}");
        assert!(find(&seen, &dismissed.id).unwrap().is_dismissed, "{r:?}");
        assert_eq!(s.store.unread_count(&t.id, r).await.unwrap(), 1, "{r:?}");
    }
    let undismiss = patch(None, Some(false));
    s.store.update_notification(&t.id, &dismissed.id, Some(&a), &undismiss, at).await.unwrap();
    assert_eq!(s.store.unread_count(&t.id, Some(&a)).await.unwrap(), 2);
    assert_eq!(s.store.unread_count(&t.id, Some(&b)).await.unwrap(), 1);
    s.store.mark_all_read(&t.id, Some(&a), at).await.unwrap();
    let seen = list(&*s.store, &t.id, view_of(Some(&a))).await;
    assert!(find(&seen, &dismissed.id).is_some(), "a's un-dismissal outlives their mark");
    count_matches_list(&*s.store, &t.id, Some(&a)).await;
}

pub async fn a_snooze_hides_then_wakes_exactly_once(s: Subject) {
    let (t, n) = setup(&s).await;
    let store = s.store.clone();
    let (a, b) = (UserId::from("u1"), UserId::from("u2"));
    let now = ts("2026-04-02T00:00:00.000Z");
    let until = ts("2026-04-02T01:00:00.000Z");
    let snooze = NotificationPatch { snoozed_until: Some(Some(until)), ..Default::default() };
    let read = store.update_notification(&t, &n[0], Some(&a), &patch(Some(true), None), now).await.unwrap();
    assert!(read.unwrap().is_read);
    let snoozed = store.update_notification(&t, &n[1], Some(&a), &snooze, now).await.unwrap().unwrap();
    assert_eq!(snoozed.snoozed_until, Some(until));
    store.update_notification(&t, &n[0], Some(&a), &snooze, now).await.unwrap();
    assert_eq!(store.unread_count(&t, Some(&a)).await.unwrap(), 2, "out of a's count");
    assert_eq!(store.unread_count(&t, Some(&b)).await.unwrap(), 3, "not b's");
    let inbox = list(&*store, &t, view_of(Some(&a))).await;
    assert!(find(&inbox, &n[0]).is_none() && find(&inbox, &n[1]).is_none(), "out of a's bell");
    let snoozed_tab = list(&*store, &t, NotificationFilter { view: InboxView::Snoozed, ..view_of(Some(&a)) }).await;
    assert_eq!(snoozed_tab.len(), 2);
    assert!(list(&*store, &t, NotificationFilter { view: InboxView::Snoozed, ..view_of(Some(&b)) }).await.is_empty());

    let just_before = Timestamp::from_unix_millis(until.unix_millis() - 1);
    assert!(store.due_snoozes(just_before, 10).await.unwrap().is_empty());
    let due = store.due_snoozes(until, 10).await.unwrap();
    assert_eq!(due.len(), 2);
    assert!(due.iter().all(|d| d.reader.as_ref() == Some(&a) && d.until == until && d.tenant_id == t));

    // Two wakers of the same snooze at the same instant: exactly one wakes it.
    let first = due.iter().find(|d| d.notification_id == n[0]).unwrap().clone();
    let barrier = Arc::new(Barrier::new(2));
    let wake = |d: DueSnooze| {
        let (store, barrier) = (store.clone(), barrier.clone());
        tokio::spawn(async move {
            barrier.wait().await;
            store.wake_snooze(&d).await.unwrap()
        })
    };
    let (x, y) = (wake(first.clone()), wake(first.clone()));
    let woke: Vec<Notification> = [x.await.unwrap(), y.await.unwrap()].into_iter().flatten().collect();
    assert_eq!(woke.len(), 1, "woken once");
    assert!(!woke[0].is_read && woke[0].snoozed_until.is_none(), "back unread, though it had been read");
    assert_eq!(store.wake_snooze(&first).await.unwrap(), None, "and never again");
    assert_eq!(store.unread_count(&t, Some(&a)).await.unwrap(), 3);

    // A snooze changed since it was found due is not woken by the stale find.
    let second = due.iter().find(|d| d.notification_id == n[1]).unwrap().clone();
    let later = ts("2026-04-03T00:00:00.000Z");
    let resnooze = NotificationPatch { snoozed_until: Some(Some(later)), ..Default::default() };
    store.update_notification(&t, &n[1], Some(&a), &resnooze, now).await.unwrap();
    assert_eq!(store.wake_snooze(&second).await.unwrap(), None);
    // Woken by hand (`snoozedUntil: null`): unread again.
    let wake_now = NotificationPatch { snoozed_until: Some(None), ..Default::default() };
    let woken = store.update_notification(&t, &n[1], Some(&a), &wake_now, now).await.unwrap().unwrap();
    assert!(!woken.is_read && woken.snoozed_until.is_none());
    assert!(store.due_snoozes(later, 10).await.unwrap().is_empty());
    for r in [None, Some(&a), Some(&b)] {
        count_matches_list(&*store, &t, r).await;
    }
}

pub async fn simultaneous_changes_by_one_reader_both_apply(s: Subject) {
    let (t, n) = setup(&s).await;
    let a = UserId::from("u1");
    let barrier = Arc::new(Barrier::new(2));
    let change = |p: NotificationPatch| {
        let (store, barrier, t, id, a) = (s.store.clone(), barrier.clone(), t.clone(), n[0].clone(), a.clone());
        tokio::spawn(async move {
            barrier.wait().await;
            store.update_notification(&t, &id, Some(&a), &p, ids::now()).await.unwrap()
        })
    };
    // Two tabs: one reads, the other dismisses, at the same instant.
    let (x, y) = (change(patch(Some(true), None)), change(patch(None, Some(true))));
    x.await.unwrap();
    y.await.unwrap();
    let seen = list(&*s.store, &t, NotificationFilter { include_dismissed: true, ..view_of(Some(&a)) }).await;
    let got = find(&seen, &n[0]).unwrap();
    assert!(got.is_read && got.is_dismissed, "both changes kept: {got:?}");
    count_matches_list(&*s.store, &t, Some(&a)).await;
}

pub async fn unread_counts_match_the_list_for_every_reader(s: Subject) {
    let t = tenant("mix");
    s.store.insert_tenant(&t).await.unwrap();
    let users = [UserId::from("u1"), UserId::from("u2")];
    let readers = [None, Some(&users[0]), Some(&users[1])];
    // A fixed-seed xorshift: the same sequence every run.
    let mut state = 0x9E37_79B9_7F4A_7C15u64;
    let mut next = move |n: usize| -> usize {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state % n as u64) as usize
    };
    let mut made: Vec<NotificationId> = Vec::new();
    let base = ts("2026-05-01T00:00:00.000Z");
    for step in 0..90 {
        let reader = readers[next(3)];
        match next(7) {
            0..=2 => {
                let owner = [None, Some("u1"), Some("u2")][next(3)];
                let at = Timestamp::from_unix_millis(base.unix_millis() + step);
                let mut n = note(&t.id, at, NotificationType::Info, Priority::Low, owner);
                (n.is_read, n.is_dismissed) = (next(6) == 0, next(6) == 0);
                s.store.insert_notifications(&[n.clone()]).await.unwrap();
                made.push(n.id);
            }
            3 | 4 if !made.is_empty() => {
                let id = &made[next(made.len())];
                let p = match next(4) {
                    0 => patch(Some(next(2) == 0), None),
                    1 => patch(None, Some(next(2) == 0)),
                    2 => NotificationPatch { snoozed_until: Some(Some(base)), ..Default::default() },
                    _ => NotificationPatch { snoozed_until: Some(None), ..Default::default() },
                };
                s.store.update_notification(&t.id, id, reader, &p, ids::now()).await.unwrap();
            }
            5 => {
                s.store.mark_all_read(&t.id, reader, ids::now()).await.unwrap();
            }
            _ => {}
        }
        for r in readers {
            count_matches_list(&*s.store, &t.id, r).await;
        }
    }
}

pub async fn simultaneous_marks_of_one_reader_leave_everything_read(s: Subject) {
    let (t, _) = setup(&s).await;
    let a = UserId::from("u1");
    let barrier = Arc::new(Barrier::new(2));
    let mark = || {
        let (store, barrier, t, a) = (s.store.clone(), barrier.clone(), t.clone(), a.clone());
        tokio::spawn(async move {
            barrier.wait().await;
            store.mark_all_read(&t, Some(&a), ids::now()).await.unwrap()
        })
    };
    let (x, y) = (mark(), mark());
    let (x, y) = (x.await.unwrap(), y.await.unwrap());
    assert!(x <= 4 && y <= 4 && x + y >= 4, "{x} + {y}");
    assert_eq!(s.store.unread_count(&t, Some(&a)).await.unwrap(), 0);
    // A later, older mark never takes the reader back: what is read stays read.
    let later = note(&t, ts("2026-04-01T00:00:09.000Z"), NotificationType::Info, Priority::Low, None);
    s.store.insert_notifications(std::slice::from_ref(&later)).await.unwrap();
    let (x, y) = (mark(), mark());
    x.await.unwrap();
    y.await.unwrap();
    assert_eq!(s.store.unread_count(&t, Some(&a)).await.unwrap(), 0);
    count_matches_list(&*s.store, &t, Some(&a)).await;
}

/// MongoDB has no transactions: a mark-all-read can read the sequence counter
/// after a notification took its number but before it was stored. Such a
/// notification takes a new number once stored, so it is unread for that
/// reader, as the broadcast their bell counted says. The interleaving is made
/// by writing that mark directly between the two notifications.
#[tokio::test]
async fn mongo_a_mark_made_while_a_notification_was_stored_does_not_cover_it() {
    use mongodb::bson::{doc, oid::ObjectId, DateTime};
    use server::store::{mongo::MongoStore, NotificationStore, TenantStore};
    let uri = crate::mongo_server::fresh_mongo_uri();
    let wc = server::store::mongo::parse_write_concern(None).unwrap();
    let store = MongoStore::connect(&uri, wc, super::DAY).await.unwrap();
    let t = tenant("race");
    store.insert_tenant(&t).await.unwrap();
    let a = UserId::from("u1");
    let first = note(&t.id, ts("2026-04-01T00:00:00.000Z"), NotificationType::Info, Priority::Low, None);
    store.create_notification(&first, &super::activity(&super::order(&t.id, "R-1"))).await.unwrap();
    // The mark read the counter after the next notification took number 2.
    let db = mongodb::Client::with_uri_str(&uri).await.unwrap().default_database().unwrap();
    let mark = doc! {
        "_id": format!("{}:{}", t.id, a), "tenantId": ObjectId::parse_str(&t.id).unwrap(), "reader": a.as_str(),
        "readThrough": 2_i64, "readAt": DateTime::now(),
    };
    db.collection::<mongodb::bson::Document>("reader_marks").insert_one(mark).await.unwrap();
    let second = note(&t.id, ts("2026-04-01T00:00:01.000Z"), NotificationType::Info, Priority::Low, None);
    let counted = store.create_notification_with(&second, &super::activity(&super::order(&t.id, "R-2")), None).await;
    assert_eq!(counted.unwrap(), 2, "the tenant itself has no mark: both are unread");
    assert_eq!(store.unread_count(&t.id, Some(&a)).await.unwrap(), 1, "the second is new to u1");
    let seen = list(&store, &t.id, view_of(Some(&a))).await;
    assert!(find(&seen, &first.id).unwrap().is_read && !find(&seen, &second.id).unwrap().is_read);
    // A mark made after it was stored covers it.
    assert_eq!(store.mark_all_read(&t.id, Some(&a), ids::now()).await.unwrap(), 1);
    count_matches_list(&store, &t.id, Some(&a)).await;
    // The reader's own mark covers the number of their next notification (3 were
    // taken): the count its write answers, read with that mark, counts it.
    let marks = db.collection::<mongodb::bson::Document>("reader_marks");
    marks.update_one(doc! {"_id": format!("{}:{}", t.id, a)}, doc! {"$set": {"readThrough": 4_i64}}).await.unwrap();
    let own = note(&t.id, ts("2026-04-01T00:00:02.000Z"), NotificationType::Info, Priority::Low, Some("u1"));
    let counted = store.create_notification_with(&own, &super::activity(&super::order(&t.id, "R-3")), None).await;
    assert_eq!(counted.unwrap(), 1, "the new one is unread for u1");
    assert_eq!(store.unread_count(&t.id, Some(&a)).await.unwrap(), 1);
    count_matches_list(&store, &t.id, Some(&a)).await;
}
