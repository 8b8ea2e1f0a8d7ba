//! A team's inbox over real HTTP and Socket.IO: two signed-in members and a
//! program (an API key, acting for the tenant) each keep their own read,
//! dismissed and snoozed state; one reader's changes reach that reader's tabs
//! only; the program sees what the seed's single reader saw; snoozes are
//! checked, leave the bell and come back unread on their own.

use std::time::Duration;

use reqwest::Method;
use serde_json::{json, Value};

use crate::{
    harness::SocketProbe,
    notifications_api::{ids, world_with, World},
};

const EVENTS: [&str; 3] = ["new-notification", "notification-updated", "notifications-marked-read"];
const QUIET: Duration = Duration::from_millis(300);

async fn key_socket(w: &World) -> SocketProbe {
    let probe = w.srv.socket_with(&EVENTS, Some(json!({"apiKey": w.key})), &[]).await.unwrap();
    assert_eq!(probe.join(&w.tenant).await["ok"], true);
    probe
}

async fn unread(w: &World, cookie: Option<&str>) -> u64 {
    let (status, page) = w.call(Method::GET, "/api/notifications", cookie, None).await;
    assert_eq!(status, 200, "{page}");
    page["unreadCount"].as_u64().unwrap()
}

async fn create(w: &World, title: &str) -> String {
    let (status, made) =
        w.call(Method::POST, "/api/notifications", None, Some(json!({"title": title, "message": "m"}))).await;
    assert_eq!(status, 201, "{made}");
    made["notification"]["id"].as_str().unwrap().to_owned()
}

fn state_of<'a>(page: &'a Value, id: &str) -> Option<&'a Value> {
    page["notifications"].as_array().unwrap().iter().find(|n| n["id"] == id)
}

#[tokio::test]
async fn one_readers_changes_leave_the_other_bells_alone() {
    let w = world_with(false, &[]).await;
    let (ada, bo) = (w.ada.1.clone(), w.bo.1.clone());
    let mut ada_tab = w.socket(&ada).await;
    let mut bo_tab = w.socket(&bo).await;
    let mut program = key_socket(&w).await;

    let first = create(&w, "One").await;
    let second = create(&w, "Two").await;
    // One broadcast each reaches every reader; its count is the tenant's own (the seed's reader).
    for tab in [&mut ada_tab, &mut bo_tab, &mut program] {
        assert_eq!(tab.next_named("new-notification").await["unreadCount"], 1);
        assert_eq!(tab.next_named("new-notification").await["unreadCount"], 2);
    }

    // Ada reads one: her count and her tabs; Bo's and the program's stay.
    let path = format!("/api/notifications/{first}");
    let (status, read) = w.call(Method::PATCH, &path, Some(&ada), Some(json!({"isRead": true}))).await;
    assert_eq!((status, read["unreadCount"].as_u64()), (200, Some(1)), "{read}");
    let heard = ada_tab.next_named("notification-updated").await;
    assert_eq!((heard["notification"]["isRead"].as_bool(), heard["unreadCount"].as_u64()), (Some(true), Some(1)));
    bo_tab.expect_silence(QUIET).await;
    program.expect_silence(QUIET).await;
    let (_, bo_page) = w.call(Method::GET, "/api/notifications", Some(&bo), None).await;
    assert_eq!(bo_page["unreadCount"], 2);
    assert_eq!(state_of(&bo_page, &first).unwrap()["isRead"], false);
    assert_eq!(unread(&w, None).await, 2);

    // Ada marks all read: hers only.
    let (_, all) = w.call(Method::POST, "/api/notifications/mark-all-read", Some(&ada), None).await;
    assert_eq!((all["count"].as_u64(), all["unreadCount"].as_u64()), (Some(1), Some(0)), "{all}");
    assert_eq!(ada_tab.next_named("notifications-marked-read").await["unreadCount"], 0);
    bo_tab.expect_silence(QUIET).await;
    program.expect_silence(QUIET).await;
    assert_eq!(unread(&w, Some(&bo)).await, 2);

    // The program acts as the seed's single reader: its dismissal and mark are its own.
    let path = format!("/api/notifications/{second}");
    let (status, dismissed) = w.call(Method::PATCH, &path, None, Some(json!({"isDismissed": true}))).await;
    assert_eq!((status, dismissed["unreadCount"].as_u64()), (200, Some(1)), "{dismissed}");
    assert_eq!(program.next_named("notification-updated").await["notification"]["isDismissed"], true);
    let (_, seed_view) = w.call(Method::GET, "/api/notifications", None, None).await;
    assert_eq!(ids(&seed_view), std::slice::from_ref(&first));
    let (_, marked) = w.call(Method::POST, "/api/notifications/mark-all-read", None, None).await;
    assert_eq!((marked["count"].as_u64(), marked["unreadCount"].as_u64()), (Some(1), Some(0)));
    assert_eq!(program.next_named("notifications-marked-read").await["count"], 1);
    let (_, seed_view) = w.call(Method::GET, "/api/notifications", None, None).await;
    assert!(seed_view["notifications"].as_array().unwrap().iter().all(|n| n["isRead"] == true));
    ada_tab.expect_silence(QUIET).await;
    bo_tab.expect_silence(QUIET).await;
    let (_, bo_page) = w.call(Method::GET, "/api/notifications", Some(&bo), None).await;
    assert_eq!(ids(&bo_page).len(), 2, "Bo still sees what the program dismissed");
    assert_eq!(bo_page["unreadCount"], 2);

    // A rejoin's ack and a new notification: each bell exact.
    for (cookie, expected) in [(&ada, 0), (&bo, 2)] {
        let tab = w.socket(cookie).await;
        assert_eq!(tab.join(&w.tenant).await["unreadCount"], expected);
    }
    let third = create(&w, "Three").await;
    for tab in [&mut ada_tab, &mut bo_tab, &mut program] {
        let news = tab.next_named("new-notification").await;
        assert_eq!(
            (news["notification"]["id"].as_str(), news["notification"]["isRead"].as_bool()),
            (Some(third.as_str()), Some(false))
        );
    }
    assert_eq!((unread(&w, Some(&ada)).await, unread(&w, Some(&bo)).await, unread(&w, None).await), (1, 3, 1));

    // A program viewing as Ada sees Ada's state, however it spells her id; a bad userId is named.
    let upper = format!("/api/notifications?userId={}", w.ada.0.to_ascii_uppercase());
    assert_eq!(w.call(Method::GET, &upper, None, None).await.1["unreadCount"], 1);
    let (status, bad) =
        w.call(Method::POST, "/api/notifications/mark-all-read", None, Some(json!({"userId": 5}))).await;
    assert_eq!((status, bad["details"][0]["field"].as_str()), (400, Some("userId")), "{bad}");
    let long = format!("/api/notifications?userId={}", "x".repeat(501));
    assert_eq!(w.call(Method::GET, &long, None, None).await.0, 400);

    // A program changes a tenant-wide one for the user it names: that user's state and tabs only.
    let path = format!("/api/notifications/{third}");
    let for_bo = json!({"isRead": true, "userId": w.bo.0});
    let (status, done) = w.call(Method::PATCH, &path, None, Some(for_bo)).await;
    assert_eq!((status, done["unreadCount"].as_u64()), (200, Some(2)), "{done}");
    assert_eq!(bo_tab.next_named("notification-updated").await["unreadCount"], 2);
    ada_tab.expect_silence(QUIET).await;
    assert_eq!((unread(&w, Some(&ada)).await, unread(&w, None).await), (1, 1));
    // Not for another user's personal notification, and a user may not name someone else.
    let personal = json!({"title": "Bo's", "message": "m", "userId": w.bo.0});
    let (_, made) = w.call(Method::POST, "/api/notifications", None, Some(personal)).await;
    let bos = format!("/api/notifications/{}", made["notification"]["id"].as_str().unwrap());
    let as_ada = json!({"isRead": true, "userId": w.ada.0});
    assert_eq!(w.call(Method::PATCH, &bos, None, Some(as_ada)).await.0, 404);
    let as_bo = json!({"isRead": true, "userId": w.bo.0});
    assert_eq!(w.call(Method::PATCH, &path, Some(&ada), Some(as_bo)).await.0, 403);
    let bad = json!({"isRead": true, "userId": 7});
    assert_eq!(w.call(Method::PATCH, &path, None, Some(bad)).await.1["details"][0]["field"], "userId");
}

#[tokio::test]
async fn snoozes_are_checked_leave_the_bell_and_come_back_unread() {
    let w = world_with(true, &[("HOOKBELL_MIN_SNOOZE_SECS", "1"), ("HOOKBELL_SNOOZE_POLL_MS", "50")]).await;
    let (ada, bo) = (w.ada.1.clone(), w.bo.1.clone());
    let mut ada_tab = w.socket(&ada).await;
    let mut bo_tab = w.socket(&bo).await;
    let id = create(&w, "Later").await;
    ada_tab.next_named("new-notification").await;
    bo_tab.next_named("new-notification").await;
    let path = format!("/api/notifications/{id}");
    let in_secs = |s: i64| {
        let now = server::ids::now().unix_millis();
        app::models::Timestamp::from_unix_millis(now + s * 1000).to_string()
    };

    for bad in [json!("tomorrow"), json!(5), json!(in_secs(0)), json!(in_secs(-60)), json!(in_secs(31 * 86_400))] {
        let (status, body) = w.call(Method::PATCH, &path, Some(&ada), Some(json!({"snoozedUntil": bad}))).await;
        assert_eq!((status, body["details"][0]["field"].as_str()), (400, Some("snoozedUntil")), "{bad}: {body}");
    }

    let until = in_secs(2);
    let (status, snoozed) = w.call(Method::PATCH, &path, Some(&ada), Some(json!({"snoozedUntil": until}))).await;
    assert_eq!((status, snoozed["unreadCount"].as_u64()), (200, Some(0)), "{snoozed}");
    assert_eq!(snoozed["notification"]["snoozedUntil"], until.as_str());
    let heard = ada_tab.next_named("notification-updated").await;
    assert_eq!(
        (heard["notification"]["snoozedUntil"].as_str(), heard["unreadCount"].as_u64()),
        (Some(until.as_str()), Some(0))
    );
    bo_tab.expect_silence(QUIET).await;
    let (_, inbox) = w.call(Method::GET, "/api/notifications", Some(&ada), None).await;
    assert!(state_of(&inbox, &id).is_none(), "out of Ada's bell: {inbox}");
    let (_, tab) = w.call(Method::GET, "/api/notifications?view=snoozed", Some(&ada), None).await;
    assert_eq!(ids(&tab), std::slice::from_ref(&id));
    assert_eq!(unread(&w, Some(&bo)).await, 1, "Bo's is unsnoozed");
    assert_eq!(w.call(Method::GET, "/api/notifications?view=later", Some(&ada), None).await.0, 400);

    // It comes back on its own, unread, to Ada's tabs.
    let woke = ada_tab.next_named("notification-updated").await;
    assert!(woke["notification"].get("snoozedUntil").is_none(), "{woke}");
    assert_eq!((woke["notification"]["isRead"].as_bool(), woke["unreadCount"].as_u64()), (Some(false), Some(1)));
    bo_tab.expect_silence(QUIET).await;
    let (_, inbox) = w.call(Method::GET, "/api/notifications", Some(&ada), None).await;
    assert_eq!(state_of(&inbox, &id).unwrap()["isRead"], false);

    // Snoozed again, then woken by hand (`null`).
    w.call(Method::PATCH, &path, Some(&ada), Some(json!({"snoozedUntil": in_secs(3600)}))).await;
    let (status, woken) = w.call(Method::PATCH, &path, Some(&ada), Some(json!({"snoozedUntil": null}))).await;
    assert_eq!((status, woken["unreadCount"].as_u64()), (200, Some(1)), "{woken}");
}

#[tokio::test]
async fn preferences_are_each_users_own_checked_and_reach_all_their_tabs() {
    let w = world_with(false, &[]).await;
    let (ada, bo) = (w.ada.1.clone(), w.bo.1.clone());
    let tab = |cookie: String| {
        let origin = format!("https://{}", w.srv.addr);
        let srv = &w.srv;
        async move {
            let probe = srv
                .socket_with(&["preferences-updated"], None, &[("Cookie", cookie), ("Origin", origin)])
                .await
                .unwrap();
            probe
        }
    };
    let (mut ada_one, mut ada_two, mut bo_tab) =
        (tab(ada.clone()).await, tab(ada.clone()).await, tab(bo.clone()).await);
    let (_, open) = w.call(Method::GET, "/api/me/connections", Some(&ada), None).await;
    assert_eq!(open["sockets"], 2, "{open}");

    let (status, got) = w.call(Method::GET, "/api/me/preferences", Some(&ada), None).await;
    assert_eq!(status, 200);
    assert_eq!(got["preferences"], json!({"toastMinPriority": "low", "mutedTypes": [], "desktop": false}));
    let bad = json!({"toastMinPriority": "max", "mutedTypes": "all", "desktop": "yes", "colour": 1});
    let (status, body) = w.call(Method::PUT, "/api/me/preferences", Some(&ada), Some(bad)).await;
    assert_eq!((status, body["details"].as_array().map(Vec::len)), (400, Some(4)), "{body}");
    assert_eq!(w.call(Method::PUT, "/api/me/preferences", Some(&ada), Some(json!({}))).await.0, 400);
    assert_eq!(w.call(Method::GET, "/api/me/preferences", None, None).await.0, 403, "a program has none");

    // Two changes of different fields at the same instant: both stay.
    let barrier = std::sync::Arc::new(tokio::sync::Barrier::new(2));
    let put = |body: Value| {
        let barrier = barrier.clone();
        let ada = ada.clone();
        let w = &w;
        async move {
            barrier.wait().await;
            w.call(Method::PUT, "/api/me/preferences", Some(&ada), Some(body)).await.0
        }
    };
    let (x, y) =
        tokio::join!(put(json!({"toastMinPriority": "high"})), put(json!({"mutedTypes": ["info"], "desktop": true})));
    assert_eq!((x, y), (200, 200));
    let (_, now) = w.call(Method::GET, "/api/me/preferences", Some(&ada), None).await;
    assert_eq!(now["preferences"], json!({"toastMinPriority": "high", "mutedTypes": ["info"], "desktop": true}));
    // Every tab of Ada's heard each change; Bo's did not, and Bo's are his own.
    for tab in [&mut ada_one, &mut ada_two] {
        tab.next_named("preferences-updated").await;
        tab.next_named("preferences-updated").await;
    }
    bo_tab.expect_silence(QUIET).await;
    let (_, his) = w.call(Method::GET, "/api/me/preferences", Some(&bo), None).await;
    assert_eq!(his["preferences"]["toastMinPriority"], "low");
    // They never change the inbox: Ada's count is as before.
    create(&w, "Quiet one").await;
    assert_eq!(unread(&w, Some(&ada)).await, 1);
}
