//! The Shopify mapping against Shopify's own documented example payloads
//! (`../fixtures/`, sources in `../fixtures/README.md`), and variants of them
//! made here for the awkward cases (no customer, yen, dinars, no price).

use app::input::{FromJson, NewOrder, PaymentUpdate};
use serde_json::{json, Value};

use super::*;

fn fixture(name: &str) -> Value {
    let text = match name {
        "orders_create" => include_str!("../fixtures/shopify_orders_create.json"),
        "refunds_create" => include_str!("../fixtures/shopify_refunds_create.json"),
        "products_update" => include_str!("../fixtures/shopify_products_update.json"),
        other => panic!("no fixture {other}"),
    };
    serde_json::from_str(text).unwrap()
}

/// The order body, parsed as hookbell's own order webhook parses it.
fn order_of(payload: &Value) -> NewOrder {
    let Mapped::Order(body) = map("orders/create", payload).unwrap() else { panic!("not an order") };
    NewOrder::from_json(&body).unwrap_or_else(|e| panic!("{e:?}: {body:?}"))
}

#[test]
fn the_signature_is_the_base64_hmac_of_the_raw_body() {
    let body = br#"{"id":820982911946154508}"#;
    let header = sign("shpss_secret", body);
    assert!(verify("shpss_secret", body, &header));
    assert!(verify("shpss_secret", body, &format!(" {header} ")));
    assert!(!verify("shpss_other", body, &header));
    assert!(!verify("shpss_secret", br#"{"id":820982911946154509}"#, &header));
    assert!(!verify("shpss_secret", body, "not base64!"));
    assert!(!verify("shpss_secret", body, ""));
    assert!(!verify("shpss_secret", body, &header[..header.len() - 4]));
    // A known answer, computed independently: printf %s '{"id":820982911946154508}' | openssl dgst -sha256 -hmac shpss_secret -binary | base64
    assert_eq!(header, "jqbalbO3Z8mDmrF2/+wzM3KYvbgqzVBF969vgiIy80I=");
}

#[test]
fn an_order_from_shopify_s_example_keeps_its_number_customer_money_and_items() {
    let order = order_of(&fixture("orders_create"));
    assert_eq!(order.order_number, "#9999");
    assert_eq!(
        (order.customer_name.as_deref(), order.customer_email.as_deref()),
        (Some("John Smith"), Some("john@example.com"))
    );
    assert_eq!((order.amount_minor, order.currency.as_str()), (40_495, "USD"), "total_price 404.95, exactly");
    // Shopify's example is a cancelled, voided order.
    assert_eq!(order.status, app::models::OrderStatus::Cancelled);
    let items: Vec<(&str, u32, i64)> =
        order.items.iter().map(|i| (i.product_name.as_deref().unwrap(), i.quantity, i.price_minor)).collect();
    assert_eq!(
        items,
        [
            ("Aviator sunglasses", 1, 8_999),
            ("Lens Protection Plan (2 Year)", 1, 1_999),
            ("Premium Leather Case", 1, 2_499),
            ("Mid-century lounger", 1, 15_999),
            ("Coffee table", 1, 11_999),
        ]
    );
    assert_eq!(order.items[0].product_id.as_deref(), Some("788032119674292922"), "ids beyond 2^53 stay exact");
    assert_eq!(order.items[1].product_id, None);
    assert_eq!(order.metadata["shopifyOrderId"], "820982911946154508");
    assert_eq!(
        (order.metadata["source"].as_str(), order.metadata["financialStatus"].as_str()),
        (Some("shopify"), Some("voided"))
    );
}

#[test]
fn awkward_orders_no_customer_yen_dinars_and_states() {
    let mut p = fixture("orders_create");
    p["customer"] = Value::Null;
    p["cancelled_at"] = Value::Null;
    p["financial_status"] = json!("paid");
    let order = order_of(&p);
    assert_eq!(order.customer_name, None);
    assert_eq!(order.customer_email.as_deref(), Some("jon@example.com"), "the order's own email");
    assert_eq!(order.status, app::models::OrderStatus::Paid);

    // Yen have no decimals, dinars three: each in its own minor units.
    p["currency"] = json!("JPY");
    p["total_price"] = json!("4050");
    for item in p["line_items"].as_array_mut().unwrap() {
        item["price"] = json!("810");
    }
    let yen = order_of(&p);
    assert_eq!((yen.amount_minor, yen.currency.as_str(), yen.items[0].price_minor), (4_050, "JPY", 810));
    p["currency"] = json!("KWD");
    p["total_price"] = json!("12.345");
    p["line_items"] = json!([{"title": "Dates", "quantity": 3, "price": "4.115", "product_id": null}]);
    let dinars = order_of(&p);
    assert_eq!((dinars.amount_minor, dinars.items[0].price_minor), (12_345, 4_115));

    for (status, expected) in
        [("pending", "pending"), ("authorized", "pending"), ("partially_refunded", "paid"), ("refunded", "refunded")]
    {
        p["financial_status"] = json!(status);
        assert_eq!(order_of(&p).status.as_str(), expected, "{status}");
    }

    // An item without a quantity is left out; a title too long for hookbell is cut.
    p["line_items"] =
        json!([{"title": "x".repeat(600), "quantity": 1, "price": "1.000"}, {"title": "gift", "quantity": 0}]);
    let cut = order_of(&p);
    assert_eq!(cut.items.len(), 1);
    assert_eq!(cut.items[0].product_name.as_ref().map(|n| n.chars().count()), Some(500));
}

#[test]
fn a_malformed_order_names_what_is_missing() {
    let mut p = fixture("orders_create");
    p.as_object_mut().unwrap().remove("total_price");
    assert_eq!(map("orders/create", &p).unwrap_err().field, "total_price");
    assert_eq!(map("orders/create", &json!([1, 2])).unwrap_err().field, "body");
    // A price hookbell cannot hold exactly is refused by the order's own parsing, naming the field.
    let mut p = fixture("orders_create");
    p["total_price"] = json!("1.2345");
    let Mapped::Order(body) = map("orders/create", &p).unwrap() else { panic!() };
    let errors = NewOrder::from_json(&body).unwrap_err();
    assert_eq!(errors[0].field, "amount");
}

#[test]
fn paid_cancelled_and_refunded_are_payment_changes_with_one_payment_id_per_order() {
    let p = fixture("orders_create");
    let payment = |topic: &str, payload: &Value| {
        let Mapped::Payment(body) = map(topic, payload).unwrap() else { panic!("{topic}: not a payment") };
        body
    };
    let paid = payment("orders/paid", &p);
    let parsed = PaymentUpdate::from_json(&paid).unwrap();
    assert_eq!(parsed.order_number.as_deref(), Some("#9999"));
    assert_eq!(parsed.status, app::models::PaymentStatus::Paid);
    assert_eq!(parsed.payment_id.as_deref(), Some("shopify:820982911946154508"));
    let cancelled = PaymentUpdate::from_json(&payment("ORDERS/CANCELLED", &p)).unwrap();
    assert_eq!(cancelled.status, app::models::PaymentStatus::Failed);
    assert_eq!(cancelled.metadata["cancelReason"], "customer");
    assert_eq!(cancelled.payment_id, parsed.payment_id);

    let refund = payment("refunds/create", &fixture("refunds_create"));
    assert_eq!(refund["status"], "refunded");
    assert_eq!(refund["paymentId"], "shopify:820982911946154508", "the order's, whatever the refund");
    assert_eq!(refund["metadata"]["shopifyOrderId"], "820982911946154508");
    assert_eq!(refund["metadata"]["shopifyRefundId"], "890088186047892319");
    assert_eq!(refund["metadata"]["refundedAmounts"], json!(["75.00", "10.00"]));
    assert!(refund.get("orderNumber").is_none(), "a refund names the order by its Shopify id only");
}

#[test]
fn a_product_update_gives_each_variant_s_stock() {
    let Mapped::Stock(stock) = map("products/update", &fixture("products_update")).unwrap() else { panic!() };
    assert_eq!((stock.product_id.as_str(), stock.title.as_str()), ("788032119674292922", "Example T-Shirt"));
    let variants: Vec<(&str, &str, i64)> =
        stock.variants.iter().map(|v| (v.variant_id.as_str(), v.title.as_str(), v.inventory_quantity)).collect();
    assert_eq!(variants, [("642667041472713922", "Small", 75), ("757650484644203962", "Medium", 50)]);
}

#[test]
fn other_topics_are_ignored() {
    assert_eq!(map("customers/create", &fixture("orders_create")).unwrap(), Mapped::Ignored);
    assert_eq!(map("", &json!({})).unwrap(), Mapped::Ignored);
}
