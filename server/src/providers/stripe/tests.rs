//! The Stripe mapping against Stripe's own example objects (`../fixtures/`,
//! from stripe-mock's fixtures; sources in `../fixtures/README.md`). Those are
//! API-reference examples whose state does not match a delivered event (an
//! open, unpaid session; an intent that received nothing), so each test sets
//! the fields a real delivery of that event has, and says which.

use app::input::{FromJson, NewOrder, PaymentUpdate};
use serde_json::{json, Value};

use super::*;

fn fixture(name: &str) -> Value {
    let text = match name {
        "checkout_session_completed" => include_str!("../fixtures/stripe_checkout_session_completed.json"),
        "payment_intent_succeeded" => include_str!("../fixtures/stripe_payment_intent_succeeded.json"),
        "charge_refunded" => include_str!("../fixtures/stripe_charge_refunded.json"),
        other => panic!("no fixture {other}"),
    };
    serde_json::from_str(text).unwrap()
}

/// Stripe's example session as a completed, paid checkout of `amount` `currency`.
fn completed_session(amount: i64, currency: &str) -> Value {
    let mut e = fixture("checkout_session_completed");
    let s = &mut e["data"]["object"];
    s["status"] = json!("complete");
    s["payment_status"] = json!("paid");
    s["amount_total"] = json!(amount);
    s["amount_subtotal"] = json!(amount);
    s["currency"] = json!(currency);
    e
}

fn order_of(event: &Value) -> NewOrder {
    let (_, Mapped::Order(body)) = map(event).unwrap() else { panic!("not an order") };
    NewOrder::from_json(&body).unwrap_or_else(|e| panic!("{e:?}: {body:?}"))
}

fn payment_of(event: &Value) -> PaymentUpdate {
    let (_, Mapped::Payment(body)) = map(event).unwrap() else { panic!("not a payment") };
    PaymentUpdate::from_json(&body).unwrap_or_else(|e| panic!("{e:?}: {body:?}"))
}

#[test]
fn the_signature_is_stripe_s_and_any_v1_suffices() {
    let (secret, body, t) = ("whsec_test_secret", br#"{"id":"evt_1"}"#.as_slice(), 1_700_000_000);
    let header = sign(secret, body, t);
    // A known answer, computed independently: printf %s '1700000000.{"id":"evt_1"}' | openssl dgst -sha256 -hmac whsec_test_secret
    assert_eq!(header, "t=1700000000,v1=248a374f50f943a28b0f6ab50faf9a7e7e29b710fa26df9fb1618b9bf8ea9c9a");
    assert_eq!(verify(secret, body, &header, t), Ok(t));
    assert_eq!(verify(secret, body, &header, t + TOLERANCE_SECS), Ok(t));
    // A roll: the old secret's signature beside the new one's.
    let old = sign("whsec_old", body, t);
    let rolled = format!("{header},{}", old.split_once(',').unwrap().1);
    assert_eq!(verify("whsec_old", body, &rolled, t), Ok(t));
    assert_eq!(verify(secret, body, &rolled, t), Ok(t));
    // Other schemes and unknown parts are passed over.
    assert_eq!(verify(secret, body, &format!("v0=abc,{header},x=y"), t), Ok(t));

    assert_eq!(verify("whsec_other", body, &header, t), Err(SignatureError::NoMatch));
    assert_eq!(verify(secret, br#"{"id":"evt_2"}"#, &header, t), Err(SignatureError::NoMatch));
    let moved = header.replace("t=1700000000", "t=1700000001");
    assert_eq!(verify(secret, body, &moved, t), Err(SignatureError::NoMatch), "the timestamp is signed");
    assert_eq!(verify(secret, body, &header, t + TOLERANCE_SECS + 1), Err(SignatureError::Stale));
    assert_eq!(verify(secret, body, &header, t - TOLERANCE_SECS - 1), Err(SignatureError::Stale));
    for malformed in ["", "t=1700000000", "v1=abcd", "t=soon,v1=abcd", "garbage"] {
        assert_eq!(verify(secret, body, malformed, t), Err(SignatureError::Malformed), "{malformed}");
    }
    assert_eq!(verify(secret, body, "t=1700000000,v1=zz", t), Err(SignatureError::NoMatch));
    // Only the first 16 signatures count: a header of thousands costs no more.
    let many = format!("t={t},{}", vec!["v1=00"; 5000].join(","));
    assert_eq!(
        verify(secret, body, &format!("{many},{}", header.split_once(',').unwrap().1), t),
        Err(SignatureError::NoMatch)
    );
    assert_eq!(verify(secret, body, "t=-9223372036854775808,v1=00", i64::MAX), Err(SignatureError::NoMatch));
}

#[test]
fn stripe_s_decimal_places_and_hookbell_s() {
    assert_eq!((stripe_digits("usd"), stripe_digits("JPY"), stripe_digits("kwd")), (2, 0, 3));
    assert_eq!((stripe_digits("MGA"), minor_digits("MGA")), (0, 2), "Stripe's zero-decimal, ISO's two");
    assert_eq!((stripe_digits("ISK"), minor_digits("ISK")), (2, 0), "Stripe keeps two in its API");
}

#[test]
fn a_completed_checkout_is_an_order_with_its_amount_exact() {
    let order = order_of(&completed_session(2_198, "usd"));
    // No client_reference_id nor metadata.orderNumber in Stripe's example: the session's id.
    assert_eq!(order.order_number, "cs_test_a1dxLQ5tkn5Fp2aIM5kaYZO7DqeqWAPnDzyJriDlENN1HFSHopoSAa1SPn");
    assert_eq!((order.amount_minor, order.currency.as_str()), (2_198, "USD"));
    assert_eq!(order.status, app::models::OrderStatus::Paid);
    assert_eq!((order.customer_name, order.customer_email.as_deref()), (None, Some("example@example.com")));
    assert_eq!(order.metadata["stripePaymentIntent"], "pi_1OLE04EIcafXUJOLGuhVX5QC");

    let mut named = completed_session(2_198, "usd");
    named["data"]["object"]["metadata"] = json!({"orderNumber": "ORD-7"});
    assert_eq!(order_of(&named).order_number, "ORD-7");
    named["data"]["object"]["client_reference_id"] = json!("ORD-8");
    assert_eq!(order_of(&named).order_number, "ORD-8", "client_reference_id first");

    // Zero- and three-decimal currencies, and one Stripe counts differently from ISO.
    assert_eq!(order_of(&completed_session(1_500, "jpy")).amount_minor, 1_500);
    let kwd = order_of(&completed_session(12_340, "kwd"));
    assert_eq!((kwd.amount_minor, kwd.currency.as_str()), (12_340, "KWD"));
    assert_eq!(order_of(&completed_session(150_000, "isk")).amount_minor, 1_500);
    let refused = map(&completed_session(150_050, "isk")).unwrap_err();
    assert_eq!(refused.field, "amount_total");
    assert_eq!(order_of(&completed_session(5_000, "mga")).amount_minor, 500_000);

    // An unpaid (delayed) session is a pending order; Stripe's example as it is has no amount.
    let mut unpaid = completed_session(2_198, "usd");
    unpaid["data"]["object"]["payment_status"] = json!("unpaid");
    assert_eq!(order_of(&unpaid).status, app::models::OrderStatus::Pending);
    // Stripe's example as it is took no payment (no amount): no order, not an error Stripe would retry.
    assert_eq!(map(&fixture("checkout_session_completed")).unwrap().1, Mapped::Ignored);
    let mut no_currency = completed_session(2_198, "usd");
    no_currency["data"]["object"]["currency"] = Value::Null;
    assert_eq!(map(&no_currency).unwrap_err().field, "currency");
}

#[test]
fn payment_intents_and_refunds_move_the_order_their_metadata_names() {
    let mut e = fixture("payment_intent_succeeded");
    // As delivered: the intent received its amount, and names the order.
    e["data"]["object"]["status"] = json!("succeeded");
    e["data"]["object"]["amount_received"] = json!(1_099);
    e["data"]["object"]["metadata"] = json!({"orderNumber": "ORD-1001"});
    let (event_id, _) = map(&e).unwrap();
    assert_eq!(event_id, "evt_1OLEAXEIcafXUJOLTyH0CHQx");
    let paid = payment_of(&e);
    assert_eq!(paid.order_number.as_deref(), Some("ORD-1001"));
    assert_eq!(
        (paid.status, paid.payment_id.as_deref()),
        (app::models::PaymentStatus::Paid, Some("pi_1OLE04EIcafXUJOLGuhVX5QC"))
    );
    assert_eq!((paid.amount_minor, paid.currency.as_deref()), (Some(1_099), Some("USD")));

    e["type"] = json!("payment_intent.payment_failed");
    e["data"]["object"]["metadata"] = json!({"orderId": "507F1F77BCF86CD799439011"});
    e["data"]["object"]["last_payment_error"] = json!({"code": "card_declined", "message": "Your card was declined."});
    let failed = payment_of(&e);
    assert_eq!(
        (failed.order_id.as_deref(), failed.status),
        (Some("507f1f77bcf86cd799439011"), app::models::PaymentStatus::Failed)
    );
    assert_eq!(failed.metadata["failureMessage"], "Your card was declined.");
    assert_eq!(failed.metadata["failureCode"], "card_declined");

    let mut r = fixture("charge_refunded");
    r["data"]["object"]["refunded"] = json!(true);
    r["data"]["object"]["amount_refunded"] = json!(100);
    r["data"]["object"]["payment_intent"] = json!("pi_1OLE04EIcafXUJOLGuhVX5QC");
    r["data"]["object"]["metadata"] = json!({"orderNumber": "ORD-1001"});
    let refunded = payment_of(&r);
    assert_eq!(refunded.status, app::models::PaymentStatus::Refunded);
    assert_eq!(refunded.payment_id, paid.payment_id, "the refund follows the payment it refunds");
    assert_eq!(refunded.amount_minor, Some(100));
    r["data"]["object"]["amount_refunded"] = json!(1_000);
    r["data"]["object"]["currency"] = json!("kwd");
    assert_eq!(payment_of(&r).amount_minor, Some(1_000), "fils, in KWD's three places");
}

#[test]
fn a_payment_naming_no_order_is_unmatched_and_other_events_ignored() {
    // Stripe's examples as they are carry no metadata: nothing to match.
    for name in ["payment_intent_succeeded", "charge_refunded"] {
        let (_, mapped) = map(&fixture(name)).unwrap();
        let Mapped::Unmatched { reason } = mapped else { panic!("{name}: {mapped:?}") };
        assert!(reason.contains("metadata.orderNumber"), "{reason}");
    }
    let mut e = fixture("payment_intent_succeeded");
    e["data"]["object"]["metadata"] = json!({"orderId": "not-an-id"});
    assert!(matches!(map(&e).unwrap().1, Mapped::Unmatched { .. }));
    e["type"] = json!("customer.created");
    assert_eq!(map(&e).unwrap().1, Mapped::Ignored);
    assert_eq!(map(&json!({"type": "x"})).unwrap_err().field, "id");
    assert_eq!(map(&json!({"id": "evt_1", "type": "charge.refunded"})).unwrap_err().field, "data.object");
    assert_eq!(map(&json!([])).unwrap_err().field, "id");
}
