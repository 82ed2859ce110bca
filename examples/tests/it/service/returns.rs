//! Returns over HTTP: a guest's order ships, the guest asks for a unit back,
//! staff approve it and receive it at the warehouse, where it goes back on the
//! shelf, and its share of what was paid is refunded once; nobody else sees the
//! return.

use serde_json::{Value, json};

use super::shipments::{order_id, provider_pays};
use super::{Fixture, admin_get, code, fixture, new_guest, put_in, refused, shipping};

/// Staff's receipt of `ret`: status and body.
fn receive(f: &Fixture, ret: i64, body: Value) -> (u16, Value) {
    f.admin_post(&format!("/admin/returns/{ret}/receipt"), None, body)
}

#[test]
fn a_customer_sends_a_unit_back_and_staff_receive_and_refund_it_once() {
    let f = fixture();
    let (sencha, matcha) = (f.variants[0], f.variants[1]);
    let (status, berlin) = f.admin_post(
        "/admin/stock-locations",
        None,
        json!({ "name": "Berlin warehouse", "country": "DE", "priority": 1 }),
    );
    assert_eq!(status, 201, "{berlin}");
    let location = berlin["id"].as_i64().unwrap();
    let (status, level) = f.admin_post(
        &format!("/admin/stock-locations/{location}/stock"),
        None,
        json!({ "variant_id": sencha, "kind": "receipt", "quantity": 4 }),
    );
    assert_eq!(status, 200, "{level}");

    // Two sencha (line 1, reserved in Berlin) and a matcha (line 2, counted).
    let (token, cart) = new_guest(&f);
    put_in(&f, &token, &cart, sencha, 2);
    put_in(&f, &token, &cart, matcha, 1);
    let body = json!({ "cart": cart, "email": "ada@example.com", "shipping": shipping() });
    let (status, placed) = f.call_as(
        Some(&token),
        "POST",
        "/checkout",
        Some("return-1"),
        Some(&body.to_string()),
    );
    assert_eq!(status, 201, "{placed}");
    let reference = placed["id"].as_str().unwrap().to_owned();
    let mine = format!("/orders/{reference}/returns");
    let ask = |units: i64| json!({ "lines": [{ "line_no": 1, "quantity": units }], "reason": "does_not_fit", "note": "too bitter" });
    let early = f.call_as(Some(&token), "POST", &mine, None, Some(&ask(1).to_string()));
    assert_eq!(code(early), (409, "return_conflict".to_owned()));
    provider_pays(&f, &placed["payments"][0]);
    let id = order_id(&f, &placed, "paid");
    let (status, parcel) = f.admin_post(
        &format!("/admin/orders/{id}/shipments"),
        Some("pick-1"),
        json!({ "location_id": location, "lines": [{ "line_no": 1, "quantity": 2 }, { "line_no": 2, "quantity": 1 }] }),
    );
    assert_eq!(status, 201, "{parcel}");
    let (status, shipped) = f.admin_post(
        &format!("/admin/shipments/{}/events", parcel["id"]),
        None,
        json!({ "event": "ship" }),
    );
    assert_eq!(status, 200, "{shipped}");
    assert_eq!(shipped["order_status"], "shipped");

    // The guest asks; malformed asks are refused, another guest finds nothing.
    let as_guest =
        |body: &Value| f.call_as(Some(&token), "POST", &mine, None, Some(&body.to_string()));
    for (what, body, expected) in [
        ("three of two", ask(3), (409, "return_conflict")),
        ("no units", ask(0), (422, "invalid")),
        (
            "no line 3",
            json!({ "lines": [{ "line_no": 3, "quantity": 1 }], "reason": "damaged" }),
            (422, "invalid_return"),
        ),
        (
            "an unknown reason",
            json!({ "lines": [{ "line_no": 1, "quantity": 1 }], "reason": "bored" }),
            (422, "invalid"),
        ),
    ] {
        assert_eq!(
            code(as_guest(&body)),
            (expected.0, expected.1.to_owned()),
            "{what}"
        );
    }
    let (stranger, _) = new_guest(&f);
    let theirs = f.call_as(
        Some(&stranger),
        "POST",
        &mine,
        None,
        Some(&ask(1).to_string()),
    );
    assert_eq!(code(theirs), (404, "not_found".to_owned()));
    let (status, asked) = as_guest(&ask(1));
    assert_eq!(status, 201, "{asked}");
    assert_eq!(asked["status"], "requested");
    assert_eq!(asked["note"], "too bitter");
    let ret = asked["id"].as_i64().unwrap();

    // Staff: a receipt before approval is refused; approve, then receive.
    let sellable =
        json!({ "location_id": location, "condition": "sellable", "refund_shipping": true });
    let early = receive(&f, ret, sellable.clone());
    assert_eq!(code(early), (409, "return_conflict".to_owned()));
    refused(
        &f,
        "POST",
        &format!("/admin/returns/{ret}/decision"),
        vec![("maybe", json!({ "decision": "maybe" }), 422, "invalid")],
    );
    let (status, approved) = f.admin_post(
        &format!("/admin/returns/{ret}/decision"),
        None,
        json!({ "decision": "approve" }),
    );
    assert_eq!(status, 200, "{approved}");
    assert_eq!(approved["status"], "approved");
    let (status, received) = receive(&f, ret, sellable.clone());
    assert_eq!(status, 200, "{received}");
    // 41.00 + 4.90 shipping + 20 % tax = 55.08, allocated 1700:2400:490: the
    // sencha 20.40, the matcha 28.80, the shipping 5.88. One sencha of two:
    // 10.20, and its third of the shipping: 1.96.
    assert_eq!(placed["totals"]["grand_total"]["amount"], "55.08");
    assert_eq!(received["return"]["refunded"]["amount"], "12.16");
    assert_eq!(received["changed"], true);
    assert_eq!(received["return"]["status"], "received");
    // A clerk's retry changes nothing; another receipt is refused.
    let (status, again) = receive(&f, ret, sellable);
    assert_eq!(status, 200, "{again}");
    assert_eq!(again["changed"], false);
    assert_eq!(again["return"]["refunded"], received["return"]["refunded"]);
    let other = receive(
        &f,
        ret,
        json!({ "location_id": location, "condition": "damaged" }),
    );
    assert_eq!(code(other), (409, "return_conflict".to_owned()));

    // The unit is back on Berlin's shelf: 4 received, 2 shipped, 1 back (and 1
    // more received to read the level).
    let (_, level) = f.admin_post(
        &format!("/admin/stock-locations/{location}/stock"),
        None,
        json!({ "variant_id": sencha, "kind": "receipt", "quantity": 1 }),
    );
    assert_eq!(
        (level["on_hand"].as_u64(), level["reserved"].as_u64()),
        (Some(4), Some(0))
    );
    // The payment gave back what the return refunded.
    let (_, order) = f.call_as(
        Some(&token),
        "GET",
        &format!("/orders/{reference}"),
        None,
        None,
    );
    assert_eq!(order["payments"][0]["refunded"]["amount"], "12.16");
    assert_eq!(order["payments"][0]["status"], "partially_refunded");

    // The customer sees it; staff see the same.
    let (status, listed) = f.call_as(Some(&token), "GET", &mine, None, None);
    assert_eq!(status, 200, "{listed}");
    assert_eq!(listed["returns"][0]["status"], "received");
    assert_eq!(listed["returns"][0]["receipt"]["condition"], "sellable");
    let (status, staff) = admin_get(&f, &format!("/admin/orders/{id}/returns"));
    assert_eq!(status, 200, "{staff}");
    assert_eq!(staff["returns"], listed["returns"]);
    let theirs = f.call_as(Some(&stranger), "GET", &mine, None, None);
    assert_eq!(code(theirs), (404, "not_found".to_owned()));
}
