//! Shipments over HTTP: staff keep stock at a location, a guest's order is
//! reserved there at checkout, staff ship it in two parts and deliver it, the
//! order follows; the guest tracks its shipments, nobody else sees them.

use serde_json::{Value, json};

use super::{ADMIN_TOKEN, Fixture, admin_get, code, fixture, new_guest, put_in, shipping};

/// The provider authorizes and captures `payment`'s whole amount.
pub(super) fn provider_pays(f: &Fixture, payment: &Value) {
    let (id, due) = (payment["id"].as_i64().unwrap(), &payment["due"]["amount"]);
    for (kind, event) in [("authorize", "auth"), ("capture", "capture")] {
        let (status, out) = f.report(
            &format!("evt-{event}-{id}"),
            id,
            json!({ "type": kind, "amount": due }),
        );
        assert_eq!(status, 200, "{out}");
    }
}

/// The back office's id of the order whose reference `order` answered, in
/// `status`.
pub(super) fn order_id(f: &Fixture, order: &Value, status: &str) -> i64 {
    let (code, listed) = admin_get(f, &format!("/admin/orders?status={status}"));
    assert_eq!(code, 200, "{listed}");
    listed["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["reference"] == order["id"])
        .unwrap_or_else(|| panic!("{} is not {status}: {listed}", order["id"]))["id"]
        .as_i64()
        .unwrap()
}

/// A shipment's event by staff; the shipment's and the order's status.
fn move_on(f: &Fixture, shipment: i64, event: &str) -> (String, String) {
    let (status, out) = f.admin_post(
        &format!("/admin/shipments/{shipment}/events"),
        None,
        json!({ "event": event }),
    );
    assert_eq!(status, 200, "{out}");
    (
        out["shipment"]["status"].as_str().unwrap().to_owned(),
        out["order_status"].as_str().unwrap().to_owned(),
    )
}

#[test]
fn staff_ship_an_order_in_parts_and_its_customer_tracks_them() {
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
        json!({ "variant_id": sencha, "kind": "receipt", "quantity": 4, "reason": "delivery 7" }),
    );
    assert_eq!(status, 200, "{level}");
    assert_eq!(
        (level["on_hand"].as_u64(), level["available"].as_u64()),
        (Some(4), Some(4))
    );
    let (_, listed) = admin_get(&f, "/admin/stock-locations");
    assert_eq!(listed["locations"][0]["name"], "Berlin warehouse");

    // Sencha is line 1 and matcha line 2: lines go in variant order. The sencha
    // is kept at Berlin and reserved there; the matcha is counted.
    let (token, cart) = new_guest(&f);
    put_in(&f, &token, &cart, sencha, 3);
    put_in(&f, &token, &cart, matcha, 1);
    let body = json!({ "cart": cart, "email": "ada@example.com", "shipping": shipping() });
    let (status, placed) = f.call_as(
        Some(&token),
        "POST",
        "/checkout",
        Some("ship-1"),
        Some(&body.to_string()),
    );
    assert_eq!(status, 201, "{placed}");
    let order = &placed;
    let reference = order["id"].as_str().unwrap().to_owned();
    let pending = order_id(&f, order, "pending_payment");
    let early = f.admin_post(
        &format!("/admin/orders/{pending}/shipments"),
        Some("too-early"),
        json!({ "location_id": location, "lines": [{ "line_no": 1, "quantity": 1 }] }),
    );
    assert_eq!(code(early), (409, "shipment_conflict".to_owned()));
    provider_pays(&f, &placed["payments"][0]);
    let id = order_id(&f, order, "paid");
    let path = format!("/admin/orders/{id}/shipments");
    let keyless = f.call_as(
        Some(ADMIN_TOKEN),
        "POST",
        &path,
        None,
        Some(
            &json!({ "location_id": location, "lines": [{ "line_no": 1, "quantity": 1 }] })
                .to_string(),
        ),
    );
    assert_eq!(code(keyless), (400, "idempotency_key_required".to_owned()));
    for (what, body, status, expected) in [
        (
            "more than reserved there",
            json!({ "location_id": location, "lines": [{ "line_no": 1, "quantity": 4 }] }),
            409,
            "shipment_conflict",
        ),
        (
            "no line 3",
            json!({ "location_id": location, "lines": [{ "line_no": 3, "quantity": 1 }] }),
            422,
            "invalid_shipment",
        ),
        (
            "nothing",
            json!({ "location_id": location, "lines": [] }),
            422,
            "invalid_shipment",
        ),
        (
            "a line twice",
            json!({ "location_id": location, "lines": [{ "line_no": 2, "quantity": 1 }, { "line_no": 2, "quantity": 1 }] }),
            422,
            "invalid_shipment",
        ),
        (
            "no units",
            json!({ "location_id": location, "lines": [{ "line_no": 1, "quantity": 0 }] }),
            422,
            "invalid",
        ),
        (
            "an http URL",
            json!({ "location_id": location, "lines": [{ "line_no": 1, "quantity": 1 }], "tracking_url": "http://track.example.com/1" }),
            422,
            "invalid",
        ),
        (
            "no such location",
            json!({ "location_id": 9999, "lines": [{ "line_no": 1, "quantity": 1 }] }),
            404,
            "not_found",
        ),
    ] {
        let answer = f.admin_post(&path, Some(&what.replace(' ', "-")), body);
        assert_eq!(code(answer), (status, expected.to_owned()), "{what}");
    }

    // The sencha from Berlin, tracked; then the matcha (kept as one count).
    let pick = json!({ "location_id": location, "lines": [{ "line_no": 1, "quantity": 3 }],
            "carrier": "DHL", "tracking_number": "00340434",
            "tracking_url": "https://track.example.com/00340434" });
    let (status, first) = f.admin_post(&path, Some("pick-sencha"), pick.clone());
    assert_eq!(status, 201, "{first}");
    assert_eq!(first["status"], "pending");
    // A retry (the answer was lost) is the same shipment, not a second parcel;
    // the same key for other units is refused.
    let (status, retried) = f.admin_post(&path, Some("pick-sencha"), pick);
    assert_eq!(status, 200, "{retried}");
    assert_eq!(retried["id"], first["id"]);
    let other = f.admin_post(
        &path,
        Some("pick-sencha"),
        json!({ "location_id": location, "lines": [{ "line_no": 2, "quantity": 1 }] }),
    );
    assert_eq!(code(other), (409, "idempotency_conflict".to_owned()));
    let first = first["id"].as_i64().unwrap();
    assert_eq!(move_on(&f, first, "pack"), ("packed".into(), "paid".into()));
    assert_eq!(
        move_on(&f, first, "ship"),
        ("shipped".into(), "partially_shipped".into())
    );
    let whole = f.admin_post(
        &format!("/admin/orders/{id}/events"),
        None,
        json!({ "event": "ship" }),
    );
    assert_eq!(code(whole), (409, "shipment_conflict".to_owned()));
    let again = f.admin_post(
        &format!("/admin/shipments/{first}/events"),
        None,
        json!({ "event": "ship" }),
    );
    assert_eq!(code(again), (409, "shipment_conflict".to_owned()));

    let (status, second) = f.admin_post(
        &path,
        Some("pick-matcha"),
        json!({ "location_id": location, "lines": [{ "line_no": 2, "quantity": 1 }] }),
    );
    assert_eq!(status, 201, "{second}");
    let second = second["id"].as_i64().unwrap();
    let (status, tracked) = f.admin_put(
        &format!("/admin/shipments/{second}/tracking"),
        json!({ "carrier": "UPS", "tracking_number": "1Z999" }),
    );
    assert_eq!(status, 200, "{tracked}");
    assert_eq!(tracked["carrier"], "UPS");
    assert_eq!(
        move_on(&f, second, "ship"),
        ("shipped".into(), "shipped".into())
    );
    assert_eq!(
        move_on(&f, first, "deliver"),
        ("delivered".into(), "partially_delivered".into())
    );
    assert_eq!(
        move_on(&f, second, "deliver"),
        ("delivered".into(), "delivered".into())
    );
    let closed = f.call_as(
        Some(ADMIN_TOKEN),
        "PUT",
        &format!("/admin/shipments/{first}/tracking"),
        None,
        Some(&json!({ "carrier": "GLS" }).to_string()),
    );
    assert_eq!(code(closed), (409, "shipment_conflict".to_owned()));

    // The level: the three shipped sencha left Berlin, on hand and reserved.
    let (_, level) = f.admin_post(
        &format!("/admin/stock-locations/{location}/stock"),
        None,
        json!({ "variant_id": sencha, "kind": "receipt", "quantity": 1 }),
    );
    assert_eq!(
        (level["on_hand"].as_u64(), level["reserved"].as_u64()),
        (Some(2), Some(0))
    );

    // The customer tracks both; another guest finds no such order.
    let mine = format!("/orders/{reference}/shipments");
    let (status, tracked) = f.call_as(Some(&token), "GET", &mine, None, None);
    assert_eq!(status, 200, "{tracked}");
    let shipments = tracked["shipments"].as_array().unwrap();
    assert_eq!(shipments.len(), 2);
    assert_eq!(
        shipments[0]["tracking_url"],
        "https://track.example.com/00340434"
    );
    assert_eq!(
        shipments[0]["lines"],
        json!([{ "line_no": 1, "quantity": 3 }])
    );
    assert_eq!(shipments[1]["status"], "delivered");
    let (stranger, _) = new_guest(&f);
    let theirs = f.call_as(Some(&stranger), "GET", &mine, None, None);
    assert_eq!(code(theirs), (404, "not_found".to_owned()));
    let (status, admin_view) = admin_get(&f, &path);
    assert_eq!(status, 200, "{admin_view}");
    assert_eq!(admin_view["shipments"], tracked["shipments"]);
}
