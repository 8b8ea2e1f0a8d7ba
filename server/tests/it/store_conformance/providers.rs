//! Provider connections: saved over the version read (of simultaneous changes
//! one wins), scoped by tenant, the last delivery only moving forward.

use std::{sync::Arc, time::Duration};

use app::models::Provider;
use server::{
    ids,
    store::{PreviousSecret, ProviderConnection},
};

use super::{tenant, Subject};

fn connection(tenant_id: &app::models::TenantId, provider: Provider) -> ProviderConnection {
    let now = ids::now();
    ProviderConnection {
        tenant_id: tenant_id.clone(),
        provider,
        enabled: true,
        secret_sealed: "v2.sealed-secret".into(),
        previous_secret: None,
        shop_domain: None,
        low_stock_threshold: 10,
        last_delivery_at: None,
        version: 1,
        created_at: now,
        updated_at: now,
    }
}

pub async fn a_provider_connection_is_saved_over_the_version_it_read(s: Subject) {
    let (a, b) = (tenant("prov-a"), tenant("prov-b"));
    for t in [&a, &b] {
        s.store.insert_tenant(t).await.unwrap();
    }
    assert_eq!(s.store.get_connection(&a.id, Provider::Stripe).await.unwrap(), None);
    let stripe = connection(&a.id, Provider::Stripe);
    assert!(s.store.save_connection(&stripe, None).await.unwrap());
    assert!(!s.store.save_connection(&stripe, None).await.unwrap(), "one first save");
    assert_eq!(s.store.get_connection(&a.id, Provider::Stripe).await.unwrap().as_ref(), Some(&stripe));
    assert_eq!(s.store.get_connection(&b.id, Provider::Stripe).await.unwrap(), None, "scoped by tenant");
    assert_eq!(s.store.get_connection(&a.id, Provider::Shopify).await.unwrap(), None);

    let shopify = ProviderConnection {
        shop_domain: Some("acme.myshopify.com".into()),
        previous_secret: Some(PreviousSecret {
            sealed: "v2.old".into(),
            valid_until: ids::now() + Duration::from_secs(60),
        }),
        low_stock_threshold: 3,
        ..connection(&a.id, Provider::Shopify)
    };
    assert!(s.store.save_connection(&shopify, None).await.unwrap());
    let listed = s.store.list_connections(&a.id).await.unwrap();
    assert_eq!(listed, [shopify.clone(), stripe.clone()], "by provider name");
    assert!(s.store.list_connections(&b.id).await.unwrap().is_empty());

    // Eight changes at the same instant over version 1: exactly one is saved.
    let store = s.store.clone();
    let barrier = Arc::new(tokio::sync::Barrier::new(8));
    let tasks: Vec<_> = (0..8u32)
        .map(|i| {
            let (store, barrier) = (store.clone(), barrier.clone());
            let change = ProviderConnection { low_stock_threshold: 100 + i, version: 2, ..shopify.clone() };
            tokio::spawn(async move {
                barrier.wait().await;
                store.save_connection(&change, Some(1)).await.unwrap()
            })
        })
        .collect();
    let mut saved = 0;
    for task in tasks {
        saved += usize::from(task.await.unwrap());
    }
    assert_eq!(saved, 1);
    let now = s.store.get_connection(&a.id, Provider::Shopify).await.unwrap().unwrap();
    assert_eq!(now.version, 2);
    assert!((100..108).contains(&now.low_stock_threshold));
    assert!(
        !s.store.save_connection(&ProviderConnection { version: 3, ..now.clone() }, Some(1)).await.unwrap(),
        "stale"
    );

    // Deliveries move the last delivery forward only; a change keeps it.
    let (t1, t0) = (ids::now() + Duration::from_secs(5), ids::now());
    s.store.touch_connection(&a.id, Provider::Shopify, t1).await.unwrap();
    s.store.touch_connection(&a.id, Provider::Shopify, t0).await.unwrap();
    s.store.touch_connection(&b.id, Provider::Shopify, t1).await.unwrap();
    let touched = s.store.get_connection(&a.id, Provider::Shopify).await.unwrap().unwrap();
    assert_eq!(touched.last_delivery_at, Some(t1));
    let change = ProviderConnection { enabled: false, version: 3, last_delivery_at: None, ..touched.clone() };
    assert!(s.store.save_connection(&change, Some(2)).await.unwrap());
    let changed = s.store.get_connection(&a.id, Provider::Shopify).await.unwrap().unwrap();
    assert_eq!((changed.enabled, changed.last_delivery_at, changed.created_at), (false, Some(t1), shopify.created_at));

    assert!(s.store.delete_connection(&a.id, Provider::Shopify).await.unwrap());
    assert!(!s.store.delete_connection(&a.id, Provider::Shopify).await.unwrap());
    assert_eq!(s.store.list_connections(&a.id).await.unwrap(), [stripe]);
}
