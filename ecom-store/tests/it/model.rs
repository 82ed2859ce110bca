//! Model-based test: random sequences of shop operations by several buyers run
//! against the in-memory reference store and against PostgreSQL, step by step; the
//! outcomes and the final states must match.
//!
//! The buyers are guests with sessions and shop through the owner-scoped customer
//! API; now and then one reads another's order or changes another's cart, and both
//! stores must find nothing. Payments and fulfilment go through the back office.
//!
//! The catalog changes under the buyers: variants are added (combinations taken,
//! or not among the options, are refused alike), prices change, products go to
//! draft or archived and back, attribute values and images are set (unknown
//! attributes and values refused alike), a collection is filled. Listings with
//! facet filters, sorts and counts, searches and the collection's page are read
//! in between, and must match the reference store's brute-force answers. The price
//! book changes too (a sale list's prices and tiers, tax classes, the market's
//! gross or net prices, rates from a later day, overlaps refused), and carts are
//! quoted and offered shipping methods with it.
//!
//! Stock is received, adjusted, kept back and moved between three locations; a
//! checkout of variants stocked there reserves at them (the others take from their
//! own count), and cancellations and expiries release. Orders ship in shipments;
//! units that left are asked back by their buyers or the back office, the returns
//! approved or rejected and received, sellable or damaged. At the end every
//! order's reservations, shipments, returns and payments (never more refunded
//! than captured, nor by returns than refunded) and every level (each its
//! ledger's sum) must match.
//!
//! The two stores allocate ids differently, so entities are named by the order in
//! which the test created them, and outcomes are compared without ids.

use chrono::Utc;
use ecom_domain::gift_card::GiftCardError;
use ecom_domain::inventory::InventoryError;
use ecom_domain::memory::MemoryStore;
use ecom_domain::prelude::*;
use ecom_domain::pricing::{
    Area, ListPrice, NewPriceList, NewShippingMethod, NewShippingZone, WeightBand,
};
use ecom_domain::promotion::{CouponCodes, Discount, NewCoupons, NewPromotion, Target};
use ecom_domain::repo::PriceBookRepository;
use ecom_store::PgStore;
use ecom_store::testing::TestDb;
use proptest::prelude::*;

use crate::util::{event, request, rules};

/// Variants an operation may name: more than the test ever creates, so that some
/// name none.
const VARIANTS: usize = 8;
/// The products of [`setup`]: a shirt with options, and a mug without.
const PRODUCTS: usize = 2;
/// The gift cards setup issues, in minor units: one a checkout may empty, one it
/// rarely does.
const CARDS: [i64; 2] = [1500, 6000];

#[derive(Debug, Clone)]
enum Op {
    Add {
        buyer: u32,
        variant: usize,
        quantity: i64,
    },
    SetQuantity {
        buyer: u32,
        variant: usize,
        quantity: i64,
    },
    Remove {
        buyer: u32,
        variant: usize,
    },
    /// A buyer checks out to Berlin: by the flat rules (`method: None`), or
    /// priced from the price book by the standard or (`Some(true)`) express method.
    Checkout {
        buyer: u32,
        key: u8,
        method: Option<bool>,
        /// A code of [`CODES`] given with it.
        coupon: Option<usize>,
        /// One of the gift cards setup issued, to pay with.
        card: Option<usize>,
    },
    /// The back office refunds an order: an amount, or what was paid for a line.
    RefundOrder {
        order: usize,
        line: Option<u16>,
        minor: i64,
    },
    /// A gift card's balance and the length of its ledger.
    Balance {
        card: usize,
    },
    Authorize {
        order: usize,
    },
    Capture {
        order: usize,
        percent: i64,
    },
    Refund {
        order: usize,
        minor: i64,
    },
    Cancel {
        order: usize,
    },
    Ship {
        order: usize,
    },
    Deliver {
        order: usize,
    },
    Expire,
    Restock {
        variant: usize,
        units: u32,
    },
    /// The back office adds a variant: one of the shirt's colour and size
    /// combinations (`combination` past them: none, as the mug's default).
    AddVariant {
        product: usize,
        combination: usize,
        stock: u32,
    },
    SetPrice {
        variant: usize,
        minor: i64,
    },
    SetStatus {
        product: usize,
        status: ProductStatus,
    },
    /// A buyer reads an order by its reference: theirs, or another buyer's.
    Peek {
        buyer: u32,
        order: usize,
    },
    /// A buyer adds to another buyer's cart, named by its reference.
    Meddle {
        buyer: u32,
        victim: u32,
        variant: usize,
    },
    /// A buyer signs out; their calls are refused from then on.
    SignOut {
        buyer: u32,
    },
    /// A buyer starts over as a new guest, with a session and a cart in one step.
    NewGuest {
        buyer: u32,
    },
    /// A shopper lists the category: colours (a bit each of red, blue), a
    /// material, in stock only, a price ceiling, a sort; two pages of two.
    Browse {
        colours: u8,
        material: Option<usize>,
        in_stock: bool,
        max_minor: Option<i64>,
        sort: BrowseSort,
    },
    /// A shopper searches for one of [`QUERIES`].
    Search {
        query: usize,
    },
    /// The back office sets a product's Material (one of [`MATERIALS`], the last
    /// two refused: not a choice, not an attribute) and maybe its Weight.
    SetAttributes {
        product: usize,
        material: usize,
        weight: Option<i64>,
    },
    /// The back office marks a variant waterproof or not.
    SetVariantAttributes {
        variant: usize,
        waterproof: bool,
    },
    /// The back office sets a product's images, the second tied to Colour: Red
    /// (refused for a product without that option).
    SetImages {
        product: usize,
        tied: bool,
    },
    /// The back office fills the collection with these products, in order.
    SetCollection {
        products: Vec<usize>,
    },
    /// A shopper reads the collection's active products.
    ReadCollection,
    /// The back office prices a variant in the sale list (a tier of 1 or 3 units;
    /// minor units; 0 units is a refused tier).
    SetListPrice {
        variant: usize,
        min_quantity: u32,
        minor: i64,
    },
    /// The back office moves a product to another tax class.
    SetTaxClass {
        product: usize,
        class: TaxClass,
    },
    /// The back office says whether euro prices include tax.
    SetMarket {
        gross: bool,
    },
    /// The back office adds a German rate from `day` days on (overlaps refused).
    AddTaxRate {
        class: TaxClass,
        day: i64,
    },
    /// A buyer asks how their cart can ship to Germany or Austria.
    ShippingOptions {
        buyer: u32,
        austria: bool,
    },
    /// A buyer's cart quoted to Germany by one of the methods.
    Quote {
        buyer: u32,
        express: bool,
    },
    /// The back office receives or adjusts stock at one of the two locations
    /// (`location` 2: one that does not exist).
    ChangeStock {
        location: usize,
        variant: usize,
        adjust: bool,
        quantity: i64,
    },
    /// Units moved between the locations.
    Transfer {
        from: usize,
        to: usize,
        variant: usize,
        units: i64,
    },
    SafetyStock {
        location: usize,
        variant: usize,
        units: u32,
    },
    Levels {
        variant: usize,
    },
    /// An order's provider payment authorized and captured in full.
    PayInFull {
        order: usize,
    },
    /// A shipment of units of one of an order's lines from a location, under
    /// one of a few keys (so retries and conflicts happen).
    CreateShipment {
        order: usize,
        location: usize,
        line: u16,
        units: i64,
        key: u8,
    },
    /// One of an order's shipments moves on.
    MoveShipment {
        order: usize,
        nth: usize,
        event: ShipmentEvent,
    },
    /// A buyer asks for units of one of an order's lines back (through the
    /// customer API: another buyer's order is not found), or the back office
    /// does.
    RequestReturn {
        order: usize,
        buyer: Option<u32>,
        line: u16,
        units: i64,
    },
    /// The back office approves or rejects one of an order's returns.
    DecideReturn {
        order: usize,
        nth: usize,
        approve: bool,
    },
    /// One of an order's returns arrives at a location (`location` 2: one that
    /// does not exist), sellable or damaged, with its shipping refunded or not.
    ReceiveReturn {
        order: usize,
        nth: usize,
        location: usize,
        sellable: bool,
        shipping: bool,
    },
    /// The back office cancels units of one of an order's lines before they
    /// ship.
    CancelUnits {
        order: usize,
        line: u16,
        units: i64,
        /// Its idempotency key: the same again is a replay, or a conflict.
        key: u8,
    },
}

/// The coupon codes a checkout may give: single-use, one use per customer, and
/// one that does not exist.
const CODES: [&str; 3] = ["WELCOME-ONCE", "WELCOME-EACH", "NOT-A-CODE"];

/// What [`Op::Search`] looks for: words of names, option and attribute values,
/// prefixes, a typo, nothing.
const QUERIES: [&str; 8] = [
    "shirt", "sh", "mug", "red", "cotton m", "blue l", "mgu", "lin",
];
/// What [`Op::SetAttributes`] sets as Material.
const MATERIALS: [(&str, &str); 4] = [
    ("Material", "cotton"),
    ("Material", "Linen"),
    ("Material", "Wool"),
    ("Fabric", "Cotton"),
];

fn op() -> impl Strategy<Value = Op> {
    let buyer = 0u32..3;
    let variant = 0..VARIANTS;
    let product = 0..PRODUCTS;
    let order = 0usize..6;
    let status = prop_oneof![
        Just(ProductStatus::Draft),
        Just(ProductStatus::Active),
        Just(ProductStatus::Archived)
    ];
    prop_oneof![
        4 => (buyer.clone(), variant.clone(), 0i64..5).prop_map(|(buyer, variant, quantity)| Op::Add { buyer, variant, quantity }),
        1 => (buyer.clone(), variant.clone(), 1i64..4).prop_map(|(buyer, variant, quantity)| Op::SetQuantity { buyer, variant, quantity }),
        1 => (buyer.clone(), variant.clone()).prop_map(|(buyer, variant)| Op::Remove { buyer, variant }),
        3 => (buyer, 0u8..4, proptest::option::of(any::<bool>()), proptest::option::of(0..CODES.len()), proptest::option::of(0..CARDS.len())).prop_map(|(buyer, key, method, coupon, card)| Op::Checkout { buyer, key, method, coupon, card }),
        2 => order.clone().prop_map(|order| Op::Authorize { order }),
        2 => (order.clone(), prop_oneof![Just(50i64), Just(100)]).prop_map(|(order, percent)| Op::Capture { order, percent }),
        1 => (order.clone(), 1i64..3000).prop_map(|(order, minor)| Op::Refund { order, minor }),
        1 => order.clone().prop_map(|order| Op::Cancel { order }),
        1 => order.clone().prop_map(|order| Op::Ship { order }),
        1 => order.clone().prop_map(|order| Op::Deliver { order }),
        1 => (order, proptest::option::of(1u16..3), 1i64..3000).prop_map(|(order, line, minor)| Op::RefundOrder { order, line, minor }),
        1 => (0..CARDS.len()).prop_map(|card| Op::Balance { card }),
        1 => Just(Op::Expire),
        1 => (variant.clone(), 0u32..3).prop_map(|(variant, units)| Op::Restock { variant, units }),
        1 => (product.clone(), 0usize..5, 0u32..3).prop_map(|(product, combination, stock)| Op::AddVariant { product, combination, stock }),
        1 => (variant.clone(), 0i64..3000).prop_map(|(variant, minor)| Op::SetPrice { variant, minor }),
        1 => (product, status).prop_map(|(product, status)| Op::SetStatus { product, status }),
        1 => (0u32..3, 0usize..6).prop_map(|(buyer, order)| Op::Peek { buyer, order }),
        1 => (0u32..3, 0u32..3, variant).prop_map(|(buyer, victim, variant)| Op::Meddle { buyer, victim, variant }),
        1 => (0u32..12).prop_map(|buyer| Op::SignOut { buyer }),
        1 => (0u32..3).prop_map(|buyer| Op::NewGuest { buyer }),
        2 => (0u8..4, proptest::option::of(0usize..2), any::<bool>(), proptest::option::of(500i64..3000), prop::sample::select(BrowseSort::ALL.to_vec()))
            .prop_map(|(colours, material, in_stock, max_minor, sort)| Op::Browse { colours, material, in_stock, max_minor, sort }),
        2 => (0..QUERIES.len()).prop_map(|query| Op::Search { query }),
        1 => (0..PRODUCTS, 0..MATERIALS.len(), proptest::option::of(1i64..500)).prop_map(|(product, material, weight)| Op::SetAttributes { product, material, weight }),
        1 => (0..VARIANTS, any::<bool>()).prop_map(|(variant, waterproof)| Op::SetVariantAttributes { variant, waterproof }),
        1 => (0..PRODUCTS, any::<bool>()).prop_map(|(product, tied)| Op::SetImages { product, tied }),
        1 => proptest::collection::vec(0..PRODUCTS + 1, 0..4).prop_map(|products| Op::SetCollection { products }),
        1 => Just(Op::ReadCollection),
        1 => (0..VARIANTS, prop_oneof![Just(0u32), Just(1), Just(3)], 0i64..3000).prop_map(|(variant, min_quantity, minor)| Op::SetListPrice { variant, min_quantity, minor }),
        1 => (0..PRODUCTS, prop::sample::select(TaxClass::ALL.to_vec())).prop_map(|(product, class)| Op::SetTaxClass { product, class }),
        1 => any::<bool>().prop_map(|gross| Op::SetMarket { gross }),
        1 => (prop::sample::select(TaxClass::ALL.to_vec()), -2i64..3).prop_map(|(class, day)| Op::AddTaxRate { class, day }),
        1 => (0u32..3, any::<bool>()).prop_map(|(buyer, austria)| Op::ShippingOptions { buyer, austria }),
        2 => (0u32..3, any::<bool>()).prop_map(|(buyer, express)| Op::Quote { buyer, express }),
        2 => (0usize..3, 0..VARIANTS, any::<bool>(), -4i64..9).prop_map(|(location, variant, adjust, quantity)| Op::ChangeStock { location, variant, adjust, quantity }),
        2 => (0usize..3, 0usize..3, 0..VARIANTS, 1i64..6).prop_map(|(from, to, variant, units)| Op::Transfer { from, to, variant, units }),
        1 => (0usize..3, 0..VARIANTS, 0u32..4).prop_map(|(location, variant, units)| Op::SafetyStock { location, variant, units }),
        1 => (0..VARIANTS).prop_map(|variant| Op::Levels { variant }),
        2 => (0usize..3).prop_map(|order| Op::PayInFull { order }),
        3 => (0usize..3, 0usize..3, 1u16..4, 1i64..4, 0u8..4).prop_map(|(order, location, line, units, key)| Op::CreateShipment { order, location, line, units, key }),
        3 => (0usize..3, 0usize..3, prop::sample::select(ShipmentEvent::ALL.to_vec())).prop_map(|(order, nth, event)| Op::MoveShipment { order, nth, event }),
        1 => (0usize..3, proptest::option::of(0u32..3), 1u16..4, 1i64..3).prop_map(|(order, buyer, line, units)| Op::RequestReturn { order, buyer, line, units }),
        1 => (0usize..3, 0usize..2, any::<bool>()).prop_map(|(order, nth, approve)| Op::DecideReturn { order, nth, approve }),
        1 => (0usize..3, 0usize..2, 0usize..3, any::<bool>(), any::<bool>()).prop_map(|(order, nth, location, sellable, shipping)| Op::ReceiveReturn { order, nth, location, sellable, shipping }),
        1 => (0usize..3, 1u16..4, 1i64..3, 0u8..3).prop_map(|(order, line, units, key)| Op::CancelUnits { order, line, units, key }),
    ]
}

/// The operations of fulfillment: carts of the variants setup keeps at both
/// locations checked out, paid in full, shipped in parts and as a whole, their
/// shipments moved on, orders cancelled, stock moved meanwhile.
fn fulfillment_op() -> impl Strategy<Value = Op> {
    // One buyer, whose cart fills and is checked out often; fresh keys.
    let variant = 0..3usize;
    let order = 0usize..2;
    prop_oneof![
        4 => (variant.clone(), 1i64..3).prop_map(|(variant, quantity)| Op::Add { buyer: 0, variant, quantity }),
        3 => (0u8..200).prop_map(|key| Op::Checkout { buyer: 0, key, method: None, coupon: None, card: None }),
        3 => order.clone().prop_map(|order| Op::PayInFull { order }),
        6 => (order.clone(), 0usize..2, 1u16..3, 1i64..3, 0u8..4).prop_map(|(order, location, line, units, key)| Op::CreateShipment { order, location, line, units, key }),
        6 => (order.clone(), 0usize..3, prop::sample::select(ShipmentEvent::ALL.to_vec())).prop_map(|(order, nth, event)| Op::MoveShipment { order, nth, event }),
        1 => (0usize..3).prop_map(|order| Op::Cancel { order }),
        1 => (0usize..3).prop_map(|order| Op::Ship { order }),
        1 => (0usize..3).prop_map(|order| Op::Deliver { order }),
        1 => (0usize..2, 0usize..2, variant.clone(), 1i64..3).prop_map(|(from, to, variant, units)| Op::Transfer { from, to, variant, units }),
        1 => (0usize..2, variant, any::<bool>(), 1i64..3).prop_map(|(location, variant, adjust, quantity)| Op::ChangeStock { location, variant, adjust, quantity }),
        4 => (order.clone(), proptest::option::of(Just(0u32)), 1u16..3, 1i64..3).prop_map(|(order, buyer, line, units)| Op::RequestReturn { order, buyer, line, units }),
        4 => (order.clone(), 0usize..2, prop::bool::weighted(0.8)).prop_map(|(order, nth, approve)| Op::DecideReturn { order, nth, approve }),
        4 => (order.clone(), 0usize..2, 0usize..2, any::<bool>(), any::<bool>()).prop_map(|(order, nth, location, sellable, shipping)| Op::ReceiveReturn { order, nth, location, sellable, shipping }),
        4 => (order, 1u16..3, 1i64..3, 0u8..3).prop_map(|(order, line, units, key)| Op::CancelUnits { order, line, units, key }),
    ]
}

/// The operations of returns: orders checked out, paid, shipped whole or in
/// shipments, their units asked back by their buyer (or another, who finds
/// nothing) or the back office, approved or rejected, received at the locations
/// sellable or damaged, with and without their shipping, now and then twice;
/// refunds by hand between them.
fn returns_op() -> impl Strategy<Value = Op> {
    let variant = 0..3usize;
    let order = 0usize..2;
    let moves = prop_oneof![
        3 => Just(ShipmentEvent::Ship),
        1 => Just(ShipmentEvent::Deliver),
        1 => Just(ShipmentEvent::ReturnToSender),
        1 => Just(ShipmentEvent::Cancel),
    ];
    prop_oneof![
        4 => (variant, 1i64..3).prop_map(|(variant, quantity)| Op::Add { buyer: 0, variant, quantity }),
        3 => (0u8..200).prop_map(|key| Op::Checkout { buyer: 0, key, method: None, coupon: None, card: None }),
        3 => order.clone().prop_map(|order| Op::PayInFull { order }),
        2 => order.clone().prop_map(|order| Op::Ship { order }),
        1 => order.clone().prop_map(|order| Op::Deliver { order }),
        2 => (order.clone(), 0usize..2, 1u16..3, 1i64..3, 0u8..4).prop_map(|(order, location, line, units, key)| Op::CreateShipment { order, location, line, units, key }),
        3 => (order.clone(), 0usize..2, moves).prop_map(|(order, nth, event)| Op::MoveShipment { order, nth, event }),
        5 => (order.clone(), prop_oneof![4 => Just(Some(0u32)), 1 => Just(Some(1)), 2 => Just(None)], 1u16..3, 1i64..3).prop_map(|(order, buyer, line, units)| Op::RequestReturn { order, buyer, line, units }),
        4 => (order.clone(), 0usize..2, prop::bool::weighted(0.8)).prop_map(|(order, nth, approve)| Op::DecideReturn { order, nth, approve }),
        5 => (order.clone(), 0usize..2, prop_oneof![4 => Just(0usize), 1 => Just(1), 1 => Just(2)], any::<bool>(), any::<bool>()).prop_map(|(order, nth, location, sellable, shipping)| Op::ReceiveReturn { order, nth, location, sellable, shipping }),
        1 => (order.clone(), 1i64..3000).prop_map(|(order, minor)| Op::Refund { order, minor }),
        3 => (order, 1u16..3, 1i64..3, 0u8..3).prop_map(|(order, line, units, key)| Op::CancelUnits { order, line, units, key }),
    ]
}

/// What every run of [`returns_op`] starts from: two orders paid, the older
/// shipped whole with a unit asked back and approved, the newer partly in a
/// shipment.
fn returns_prelude() -> Vec<Op> {
    vec![
        Op::Add {
            buyer: 0,
            variant: 0,
            quantity: 2,
        },
        Op::Add {
            buyer: 0,
            variant: 1,
            quantity: 1,
        },
        Op::Checkout {
            buyer: 0,
            key: 250,
            method: None,
            coupon: None,
            card: None,
        },
        Op::PayInFull { order: 0 },
        Op::Ship { order: 0 },
        Op::Add {
            buyer: 0,
            variant: 1,
            quantity: 2,
        },
        Op::Add {
            buyer: 0,
            variant: 2,
            quantity: 1,
        },
        Op::Checkout {
            buyer: 0,
            key: 251,
            method: None,
            coupon: None,
            card: None,
        },
        Op::PayInFull { order: 0 },
        Op::CreateShipment {
            order: 0,
            location: 0,
            line: 1,
            units: 1,
            key: 0,
        },
        Op::MoveShipment {
            order: 0,
            nth: 0,
            event: ShipmentEvent::Ship,
        },
        Op::RequestReturn {
            order: 1,
            buyer: Some(0),
            line: 1,
            units: 1,
        },
        Op::DecideReturn {
            order: 1,
            nth: 0,
            approve: true,
        },
    ]
}

/// The operations around money: carts filled and checked out (by the flat rules
/// or from the price book), the price book changed between checkouts, payments.
/// [`op`] draws from every operation, so few of its checkouts find a full cart;
/// these find one often.
fn money_op() -> impl Strategy<Value = Op> {
    let buyer = 0u32..3;
    // The variants setup creates.
    let variant = 0..3usize;
    let order = 0usize..6;
    prop_oneof![
        6 => (buyer.clone(), variant.clone(), 1i64..3).prop_map(|(buyer, variant, quantity)| Op::Add { buyer, variant, quantity }),
        1 => (buyer.clone(), variant.clone(), 1i64..4).prop_map(|(buyer, variant, quantity)| Op::SetQuantity { buyer, variant, quantity }),
        4 => (buyer, 0u8..4, proptest::option::of(any::<bool>()), proptest::option::of(0..CODES.len()), proptest::option::of(0..CARDS.len())).prop_map(|(buyer, key, method, coupon, card)| Op::Checkout { buyer, key, method, coupon, card }),
        1 => order.clone().prop_map(|order| Op::Authorize { order }),
        1 => (order.clone(), prop_oneof![Just(50i64), Just(100)]).prop_map(|(order, percent)| Op::Capture { order, percent }),
        1 => order.clone().prop_map(|order| Op::Cancel { order }),
        1 => (order.clone(), 1i64..3000).prop_map(|(order, minor)| Op::Refund { order, minor }),
        2 => (order.clone(), proptest::option::of(1u16..3), 1i64..3000).prop_map(|(order, line, minor)| Op::RefundOrder { order, line, minor }),
        1 => (0..CARDS.len()).prop_map(|card| Op::Balance { card }),
        3 => (variant.clone(), 1u32..6).prop_map(|(variant, units)| Op::Restock { variant, units }),
        1 => (variant.clone(), 0i64..3000).prop_map(|(variant, minor)| Op::SetPrice { variant, minor }),
        2 => (variant, prop_oneof![Just(1u32), Just(3)], 0i64..3000).prop_map(|(variant, min_quantity, minor)| Op::SetListPrice { variant, min_quantity, minor }),
        1 => (0..PRODUCTS, prop::sample::select(TaxClass::ALL.to_vec())).prop_map(|(product, class)| Op::SetTaxClass { product, class }),
        1 => any::<bool>().prop_map(|gross| Op::SetMarket { gross }),
        1 => (prop::sample::select(TaxClass::ALL.to_vec()), -2i64..3).prop_map(|(class, day)| Op::AddTaxRate { class, day }),
        2 => (0usize..3).prop_map(|order| Op::PayInFull { order }),
        2 => (order.clone(), 0usize..2, 1u16..3, 1i64..3, 0u8..4).prop_map(|(order, location, line, units, key)| Op::CreateShipment { order, location, line, units, key }),
        2 => (order.clone(), 0usize..2, prop::sample::select(ShipmentEvent::ALL.to_vec())).prop_map(|(order, nth, event)| Op::MoveShipment { order, nth, event }),
        1 => (order.clone(), proptest::option::of(0u32..3), 1u16..3, 1i64..3).prop_map(|(order, buyer, line, units)| Op::RequestReturn { order, buyer, line, units }),
        1 => (order.clone(), 0usize..2, prop::bool::weighted(0.8)).prop_map(|(order, nth, approve)| Op::DecideReturn { order, nth, approve }),
        2 => (order.clone(), 0usize..2, 0usize..2, any::<bool>(), any::<bool>()).prop_map(|(order, nth, location, sellable, shipping)| Op::ReceiveReturn { order, nth, location, sellable, shipping }),
        4 => (order, 1u16..3, 1i64..3, 0u8..3).prop_map(|(order, line, units, key)| Op::CancelUnits { order, line, units, key }),
    ]
}

/// An order placed: its id, its provider's payment and amount, its reference.
type PlacedOrder = (OrderId, Option<(PaymentId, Money)>, OrderRef);

/// One store under test and the ids it gave to what the test created.
struct Subject<S> {
    store: S,
    products: Vec<ProductId>,
    /// Every variant, in the order created.
    variants: Vec<VariantId>,
    /// Each order placed, with its provider's payment and amount (none when gift
    /// cards paid it all).
    orders: Vec<PlacedOrder>,
    /// The codes of the gift cards of [`CARDS`].
    cards: Vec<GiftCardCode>,
    /// Each buyer's session.
    buyers: Vec<SessionToken>,
    category: CategoryId,
    collection: CollectionId,
    sale: PriceListId,
    /// The two stock locations: a German warehouse, then a French one.
    locations: Vec<StockLocationId>,
}

/// What an operation returned, without ids.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Outcome {
    Cart(Vec<(usize, u32)>),
    Order {
        status: OrderStatus,
        grand_total: Money,
        lines: Vec<(String, String, u32, Money)>,
        replayed: bool,
        /// Its invoice as placed and as read back: each line's tax, the invoice.
        invoice: [String; 2],
        /// Its payments: provider, amount, captured, status.
        tenders: Vec<String>,
    },
    /// A refund: whether it was new, the order's status, its payments after it.
    Refunded(bool, OrderStatus, Vec<String>),
    /// A gift card's balance and how many entries its ledger has.
    Card(Money, usize),
    Payment {
        status: PaymentStatus,
        authorized: Money,
        captured: Money,
        refunded: Money,
        order: OrderStatus,
        applied: bool,
    },
    Status(OrderStatus),
    Variant(String, Money, u32),
    Price(Money),
    ProductStatus(ProductStatus),
    Expired(usize),
    Stock(u32),
    Seen(OrderStatus, usize),
    /// Two pages of a listing (products by index), the total and the facet counts.
    Listing(Vec<Vec<usize>>, u64, Vec<(String, String, u64)>),
    /// The products a search found, by index, in id order (stores rank alike only
    /// in what they match: PostgreSQL's ts_rank is its own).
    Hits(Vec<usize>),
    Attributes(Vec<String>),
    Images(Vec<String>),
    Collection(Vec<usize>),
    /// A quote's lines (variant index, unit, net, tax), shipping, tax lines and totals.
    Quoted(
        Vec<(usize, String, String, String)>,
        String,
        Vec<String>,
        [String; 4],
    ),
    Options(Vec<(String, String)>),
    /// A level: on hand, reserved, safety stock.
    Level(u32, u32, u32),
    /// A shipment created: its location by index, lines, and whether it is new.
    Shipment(usize, Vec<(u16, u32)>, bool),
    /// A shipment moved: its status and its order's.
    ShipmentMoved(ShipmentStatus, OrderStatus),
    /// A variant's levels, by location (its index), with what they count.
    Levels(Vec<(usize, u32, u32, u32)>),
    /// A return requested or decided: its status and lines.
    Return(ReturnStatus, Vec<(u16, u32)>),
    /// A return received: what it refunded, whether anything changed, its
    /// order's status and payments after it.
    Received(Option<Money>, bool, OrderStatus, Vec<String>),
    /// Units cancelled: (line, location by index, units), what it refunded,
    /// whether anything changed, the order's status and payments after it.
    Cancelled(
        Vec<(u16, Option<usize>, u32)>,
        Money,
        bool,
        OrderStatus,
        Vec<String>,
    ),
    Done,
    Error(String),
}

/// A domain error without the ids in it.
fn describe(err: &DomainError) -> String {
    match err {
        DomainError::NotFound { entity, .. } => format!("not found: {entity}"),
        DomainError::OutOfStock(short) => {
            let parts: Vec<String> = short
                .iter()
                .map(|s| format!("{} {}/{}", s.sku, s.requested, s.available))
                .collect();
            format!("out of stock: {}", parts.join(", "))
        }
        DomainError::CartNotOpen { status, .. } => format!("cart not open: {status}"),
        DomainError::NotInCart { .. } => "not in cart".into(),
        DomainError::NotOnSale(_) => "not on sale".into(),
        DomainError::OrderNotPayable { status, .. } => format!("order not payable: {status}"),
        DomainError::CategoryCycle { .. } => "category cycle".into(),
        DomainError::NoRefundableLine { line_no, .. } => format!("no line {line_no} to refund"),
        // The cards' codes are random: their last letters differ between stores.
        DomainError::GiftCard(GiftCardError::Empty { .. }) => "gift card empty".into(),
        DomainError::GiftCardPayment(_) => "a gift card's payment".into(),
        DomainError::ConcurrentUpdate { entity, .. } => format!("concurrent update: {entity}"),
        DomainError::Inventory(InventoryError::Refused {
            kind,
            quantity,
            reason,
            ..
        }) => format!("{kind} of {quantity} refused: {reason}"),
        DomainError::Inventory(InventoryError::SameLocation(_)) => "same location".into(),
        DomainError::Fulfillment(err) => match err {
            FulfillmentError::NotShippable { status, .. } => format!("not shippable: {status}"),
            FulfillmentError::UnknownLine { line_no, .. } => format!("no line {line_no}"),
            FulfillmentError::TooMany {
                line_no,
                asked,
                left,
                ..
            } => format!("line {line_no}: {asked} asked, {left} left"),
            FulfillmentError::Closed { status, .. } => format!("shipment closed: {status}"),
            FulfillmentError::HasShipments(_) => "has shipments".into(),
            FulfillmentError::NotCancellable { status, .. } => format!("not cancellable: {status}"),
            FulfillmentError::WholeOrder(_) => "every unit".into(),
            other => other.to_string(),
        },
        DomainError::Return(err) => match err {
            ReturnError::NotReturnable { status, .. } => format!("not returnable: {status}"),
            ReturnError::UnknownLine { line_no, .. } => format!("no line {line_no}"),
            ReturnError::Step { status, step, .. } => format!("return {status}: not {step}"),
            ReturnError::ReceivedDifferently(_) => "received differently".into(),
            other => other.to_string(),
        },
        other => other.to_string(),
    }
}

fn run<S>(s: &mut Subject<S>, op: &Op, step: usize) -> Outcome
where
    S: CatalogRepository
        + CartRepository
        + CheckoutRepository
        + OrderRepository
        + PaymentRepository
        + SessionRepository
        + CustomerRepository
        + PriceBookRepository
        + PromotionRepository
        + GiftCardRepository
        + InventoryRepository
        + FulfillmentRepository
        + ReturnRepository,
    <S as CatalogReader>::Error: RepoError,
{
    let result: Result<Outcome, DomainError> = (|| {
        let who = |s: &Subject<S>, buyer: u32| s.buyers[buyer as usize].clone();
        let cart_of = |s: &Subject<S>, buyer: u32| -> Result<Cart, DomainError> {
            s.store
                .my_cart(&who(s, buyer), Currency::EUR)
                .map_err(|e| domain(&e))
        };
        let cart_outcome = |s: &Subject<S>, cart: Cart| {
            Outcome::Cart(
                cart.lines
                    .iter()
                    .map(|l| {
                        (
                            s.variants.iter().position(|v| *v == l.variant_id).unwrap(),
                            l.quantity.get(),
                        )
                    })
                    .collect(),
            )
        };
        // A variant the test has not created is one no store has.
        let variant = |s: &Subject<S>, i: usize| {
            s.variants
                .get(i)
                .copied()
                .unwrap_or(VariantId::new(i64::MAX - i as i64))
        };
        let location_of = |s: &Subject<S>, i: usize| {
            s.locations
                .get(i)
                .copied()
                .unwrap_or(StockLocationId::new(i64::MAX - i as i64))
        };
        let order = |s: &Subject<S>, i: usize| {
            s.orders
                .get(i)
                .copied()
                .ok_or(DomainError::not_found("order", i))
        };
        // The fulfillment operations count back from the newest order: there are
        // few, and the newest are the ones not yet fulfilled.
        let recent = |s: &Subject<S>, i: usize| {
            s.orders
                .iter()
                .rev()
                .nth(i)
                .copied()
                .ok_or(DomainError::not_found("order", i))
        };
        Ok(match *op {
            Op::Add {
                buyer,
                variant: v,
                quantity,
            } => {
                let cart = cart_of(s, buyer)?;
                let cart = s
                    .store
                    .add_to_cart(
                        &who(s, buyer),
                        cart.reference,
                        variant(s, v),
                        Quantity::new(quantity)?,
                    )
                    .map_err(|e| domain(&e))?;
                cart_outcome(s, cart)
            }
            Op::SetQuantity {
                buyer,
                variant: v,
                quantity,
            } => {
                let cart = cart_of(s, buyer)?;
                let cart = s
                    .store
                    .set_cart_quantity(
                        &who(s, buyer),
                        cart.reference,
                        variant(s, v),
                        Quantity::new(quantity)?,
                    )
                    .map_err(|e| domain(&e))?;
                cart_outcome(s, cart)
            }
            Op::Remove { buyer, variant: v } => {
                let cart = cart_of(s, buyer)?;
                let cart = s
                    .store
                    .remove_from_cart(&who(s, buyer), cart.reference, variant(s, v))
                    .map_err(|e| domain(&e))?;
                cart_outcome(s, cart)
            }
            Op::Checkout {
                buyer,
                key,
                method,
                coupon,
                card,
            } => {
                let cart = cart_of(s, buyer)?;
                let method = method.map(|express| {
                    Slug::parse(if express { "express" } else { "standard" }).unwrap()
                });
                let base = request(cart.id, &format!("k{key}"));
                let done = s
                    .store
                    .place_order(
                        &who(s, buyer),
                        &PlaceOrder {
                            cart: cart.reference,
                            shipping: base.shipping,
                            billing: base.billing,
                            guest_email: base.guest_email,
                            provider: base.provider,
                            shipping_method: method,
                            coupon_codes: coupon
                                .map(|i| CouponCode::parse(CODES[i]).unwrap())
                                .into_iter()
                                .collect(),
                            gift_cards: card.map(|i| s.cards[i].clone()).into_iter().collect(),
                            idempotency_key: base.idempotency_key,
                        },
                    )
                    .map_err(|e| domain(&e))?;
                if !done.replayed {
                    s.orders.push((
                        done.order.id,
                        done.payment.as_ref().map(|p| (p.id, p.amount)),
                        done.order.reference,
                    ));
                }
                Outcome::Order {
                    status: done.order.status,
                    grand_total: done.order.totals.grand_total,
                    lines: done
                        .order
                        .lines
                        .iter()
                        .map(|l| {
                            (
                                l.sku.as_str().to_owned(),
                                l.selection.to_string(),
                                l.quantity.get(),
                                l.unit_price,
                            )
                        })
                        .collect(),
                    replayed: done.replayed,
                    invoice: {
                        // Ids and the moment aside: the lines' tax and the invoice.
                        let invoice = |o: &Order| {
                            let taxes: Vec<_> = o.lines.iter().map(|l| &l.tax).collect();
                            let mut invoice = o.invoice.clone();
                            // Promotions and variants by the test's own numbers.
                            for p in invoice.iter_mut().flat_map(|i| &mut i.promotions) {
                                p.promotion = None;
                                for (v, _) in &mut p.lines {
                                    let at = s.variants.iter().position(|x| x == v);
                                    *v = VariantId::new(at.map_or(-1, |i| i as i64));
                                }
                            }
                            format!("{taxes:?} {invoice:?}")
                        };
                        let stored = s
                            .store
                            .order_of(&who(s, buyer), done.order.reference)
                            .map_err(|e| domain(&e))?;
                        [invoice(&done.order), invoice(&stored.order)]
                    },
                    tenders: tenders(&done.payments()),
                }
            }
            Op::RefundOrder {
                order: i,
                line,
                minor,
            } => {
                let (id, _, _) = order(s, i)?;
                let of = match line {
                    Some(line) => RefundOf::Line(line),
                    None => RefundOf::Amount(Money::from_minor(minor, Currency::EUR)),
                };
                // Reuse a key now and then: the same refund again, or another amount.
                let key = IdempotencyKey::parse(&format!("r{}-{}", i, step % 3))?;
                let out = s
                    .store
                    .refund(
                        id,
                        OrderRefund {
                            of,
                            reason: None,
                            key,
                        },
                    )
                    .map_err(|e| domain(&e))?;
                Outcome::Refunded(
                    out.applied == Applied::Changed,
                    out.order_status,
                    tenders(&out.payments),
                )
            }
            Op::Balance { card } => {
                let found = s.store.gift_card(&s.cards[card]).map_err(|e| domain(&e))?;
                let ledger = s.store.gift_card_ledger(found.id).map_err(|e| domain(&e))?;
                Outcome::Card(found.balance, ledger.len())
            }
            Op::Authorize { order: i }
            | Op::Capture { order: i, .. }
            | Op::Refund { order: i, .. } => {
                let (_, provider, _) = order(s, i)?;
                let (payment, _) = provider.ok_or(DomainError::not_found("provider payment", i))?;
                // What is due now: a cancellation before payment lowers it.
                let amount = s.store.payment(payment).map_err(|e| domain(&e))?.due();
                let action = match *op {
                    Op::Authorize { .. } => PaymentAction::Authorize {
                        amount,
                        provider_ref: None,
                    },
                    Op::Capture { percent, .. } => PaymentAction::Capture {
                        amount: Money::from_minor(
                            amount.to_minor()? * percent / 100,
                            Currency::EUR,
                        ),
                    },
                    Op::Refund { minor, .. } => PaymentAction::Refund {
                        amount: Money::from_minor(minor, Currency::EUR),
                        reason: None,
                    },
                    _ => unreachable!(),
                };
                // Reuse a key now and then, to exercise duplicate detection.
                let key = format!("p{}-{}", i, step % 5);
                let out = s
                    .store
                    .record_payment_event(payment, event(&key, action))
                    .map_err(|e| domain(&e))?;
                Outcome::Payment {
                    status: out.payment.status,
                    authorized: out.payment.authorized,
                    captured: out.payment.captured,
                    refunded: out.payment.refunded,
                    order: out.order_status,
                    applied: out.applied == Applied::Changed,
                }
            }
            Op::Cancel { order: i } | Op::Ship { order: i } | Op::Deliver { order: i } => {
                let (id, _, _) = order(s, i)?;
                let e = match op {
                    Op::Cancel { .. } => OrderEvent::Cancel,
                    Op::Ship { .. } => OrderEvent::Ship,
                    _ => OrderEvent::Deliver,
                };
                Outcome::Status(
                    s.store
                        .transition(id, e, None)
                        .map_err(|e| domain(&e))?
                        .status,
                )
            }
            Op::Expire => Outcome::Expired(
                s.store
                    .expire_unpaid_orders(Utc::now() + chrono::Duration::hours(2))
                    .map_err(|e| domain(&e))?
                    .len(),
            ),
            Op::ChangeStock {
                location,
                variant: v,
                adjust,
                quantity,
            } => {
                let kind = if adjust {
                    MoveKind::Adjustment
                } else {
                    MoveKind::Receipt
                };
                let level = s
                    .store
                    .change_stock(StockChange {
                        location: location_of(s, location),
                        variant: variant(s, v),
                        movement: InventoryMove { kind, quantity },
                        reason: None,
                    })
                    .map_err(|e| domain(&e))?;
                Outcome::Level(level.on_hand, level.reserved, level.safety_stock)
            }
            Op::Transfer {
                from,
                to,
                variant: v,
                units,
            } => {
                let (from, to) = s
                    .store
                    .transfer_stock(StockTransfer {
                        from: location_of(s, from),
                        to: location_of(s, to),
                        variant: variant(s, v),
                        quantity: Quantity::new(units)?,
                        reason: None,
                    })
                    .map_err(|e| domain(&e))?;
                Outcome::Levels(
                    [from, to]
                        .iter()
                        .map(|l| {
                            let at = s.locations.iter().position(|x| *x == l.location).unwrap();
                            (at, l.on_hand, l.reserved, l.safety_stock)
                        })
                        .collect(),
                )
            }
            Op::SafetyStock {
                location,
                variant: v,
                units,
            } => {
                let level = s
                    .store
                    .set_safety_stock(location_of(s, location), variant(s, v), units)
                    .map_err(|e| domain(&e))?;
                Outcome::Level(level.on_hand, level.reserved, level.safety_stock)
            }
            Op::Levels { variant: v } => Outcome::Levels(levels_of(s, variant(s, v))?),
            Op::PayInFull { order: i } => {
                let (_, provider, _) = recent(s, i)?;
                let (payment, _) = provider.ok_or(DomainError::not_found("provider payment", i))?;
                let amount = s.store.payment(payment).map_err(|e| domain(&e))?.due();
                let authorize = PaymentAction::Authorize {
                    amount,
                    provider_ref: None,
                };
                s.store
                    .record_payment_event(payment, event(&format!("full-a{i}-{step}"), authorize))
                    .map_err(|e| domain(&e))?;
                let capture = PaymentAction::Capture { amount };
                let out = s
                    .store
                    .record_payment_event(payment, event(&format!("full-c{i}-{step}"), capture))
                    .map_err(|e| domain(&e))?;
                Outcome::Status(out.order_status)
            }
            Op::CreateShipment {
                order: i,
                location,
                line,
                units,
                key,
            } => {
                let (id, _, _) = recent(s, i)?;
                let created = s
                    .store
                    .create_shipment(NewShipment {
                        order: id,
                        key: IdempotencyKey::parse(&format!("parcel-{key}"))?,
                        location: location_of(s, location),
                        lines: vec![ShipmentLine {
                            line_no: line,
                            quantity: Quantity::new(units)?,
                        }],
                        tracking: Tracking::default(),
                    })
                    .map_err(|e| domain(&e))?;
                let shipment = &created.shipment;
                Outcome::Shipment(
                    s.locations
                        .iter()
                        .position(|x| *x == shipment.location)
                        .unwrap(),
                    shipment
                        .lines
                        .iter()
                        .map(|l| (l.line_no, l.quantity.get()))
                        .collect(),
                    created.applied == Applied::Changed,
                )
            }
            Op::MoveShipment {
                order: i,
                nth,
                event,
            } => {
                let (id, _, _) = recent(s, i)?;
                let shipments = s.store.order_shipments(id).map_err(|e| domain(&e))?;
                let shipment = shipments
                    .get(nth)
                    .ok_or(DomainError::not_found("shipment", nth))?;
                let moved = s
                    .store
                    .change_shipment(shipment.id, event)
                    .map_err(|e| domain(&e))?;
                Outcome::ShipmentMoved(moved.shipment.status, moved.order_status)
            }
            Op::RequestReturn {
                order: i,
                buyer,
                line,
                units,
            } => {
                let (id, _, reference) = recent(s, i)?;
                let lines = vec![ReturnLine {
                    line_no: line,
                    quantity: Quantity::new(units)?,
                }];
                let reason = ReturnReason::DoesNotFit;
                let ret = match buyer {
                    Some(buyer) => s
                        .store
                        .request_return_of(&who(s, buyer), reference, lines, reason, None)
                        .map_err(|e| domain(&e))?,
                    None => s
                        .store
                        .request_return(NewReturn {
                            order: id,
                            lines,
                            reason,
                            note: None,
                        })
                        .map_err(|e| domain(&e))?,
                };
                return_outcome(&ret)
            }
            Op::DecideReturn {
                order: i,
                nth,
                approve,
            } => {
                let (id, _, _) = recent(s, i)?;
                let returns = s.store.order_returns(id).map_err(|e| domain(&e))?;
                let ret = returns
                    .get(nth)
                    .ok_or(DomainError::not_found("return", nth))?;
                let decision = if approve {
                    ReturnDecision::Approve
                } else {
                    ReturnDecision::Reject
                };
                let decided = s
                    .store
                    .decide_return(ret.id, decision)
                    .map_err(|e| domain(&e))?;
                return_outcome(&decided)
            }
            Op::ReceiveReturn {
                order: i,
                nth,
                location,
                sellable,
                shipping,
            } => {
                let (id, _, _) = recent(s, i)?;
                let returns = s.store.order_returns(id).map_err(|e| domain(&e))?;
                let ret = returns
                    .get(nth)
                    .ok_or(DomainError::not_found("return", nth))?;
                let receipt = ReturnReceipt {
                    location: location_of(s, location),
                    condition: if sellable {
                        ItemCondition::Sellable
                    } else {
                        ItemCondition::Damaged
                    },
                    refund_shipping: shipping,
                };
                let received = s
                    .store
                    .receive_return(ret.id, receipt)
                    .map_err(|e| domain(&e))?;
                Outcome::Received(
                    received.ret.refunded,
                    received.applied == Applied::Changed,
                    received.order_status,
                    tenders(&received.payments),
                )
            }
            Op::CancelUnits {
                order: i,
                line,
                units,
                key,
            } => {
                let (id, _, _) = recent(s, i)?;
                let cancelled = s
                    .store
                    .cancel_units(NewCancellation {
                        order: id,
                        key: IdempotencyKey::parse(&format!("cancel-{key}"))?,
                        lines: vec![CancellationLine {
                            line_no: line,
                            quantity: Quantity::new(units)?,
                        }],
                        reason: None,
                    })
                    .map_err(|e| domain(&e))?;
                Outcome::Cancelled(
                    cancellation_shape(s, &cancelled.cancellation).0,
                    cancelled.cancellation.refunded,
                    cancelled.applied == Applied::Changed,
                    cancelled.order_status,
                    tenders(&cancelled.payments),
                )
            }
            Op::Restock { variant: v, units } => Outcome::Stock(
                s.store
                    .restock(variant(s, v), units)
                    .map_err(|e| domain(&e))?
                    .stock_on_hand,
            ),
            Op::AddVariant {
                product,
                combination,
                stock,
            } => {
                let new = NewVariant {
                    selection: shirt_selection(combination),
                    ..NewVariant::default_of(
                        Sku::parse(&format!("V-{product}-{combination}-{step}")).unwrap(),
                        Money::from_minor(1500, Currency::EUR),
                        stock,
                    )
                };
                let added = s
                    .store
                    .add_variant(s.products[product], new)
                    .map_err(|e| domain(&e))?;
                s.variants.push(added.id);
                Outcome::Variant(
                    added.selection.to_string(),
                    added.price,
                    added.stock_on_hand,
                )
            }
            Op::SetPrice { variant: v, minor } => Outcome::Price(
                s.store
                    .set_price(variant(s, v), Money::from_minor(minor, Currency::EUR))
                    .map_err(|e| domain(&e))?
                    .price,
            ),
            Op::SetStatus { product, status } => Outcome::ProductStatus(
                s.store
                    .set_product_status(s.products[product], status)
                    .map_err(|e| domain(&e))?
                    .status,
            ),
            Op::Peek { buyer, order: i } => {
                let (_, _, reference) = order(s, i)?;
                let seen = s
                    .store
                    .order_of(&who(s, buyer), reference)
                    .map_err(|e| domain(&e))?;
                Outcome::Seen(seen.order.status, seen.order.lines.len())
            }
            Op::Meddle {
                buyer,
                victim,
                variant: v,
            } => {
                let theirs = cart_of(s, victim)?;
                let cart = s
                    .store
                    .add_to_cart(
                        &who(s, buyer),
                        theirs.reference,
                        variant(s, v),
                        Quantity::new(1)?,
                    )
                    .map_err(|e| domain(&e))?;
                cart_outcome(s, cart)
            }
            Op::SignOut { buyer } => {
                // Rarely a real buyer: most draws sign out nobody.
                if let Some(token) = s.buyers.get(buyer as usize) {
                    s.store.end_session(token).map_err(|e| domain(&e))?;
                }
                Outcome::Done
            }
            Op::NewGuest { buyer } => {
                let (session, cart) = s
                    .store
                    .open_guest_cart(Currency::EUR)
                    .map_err(|e| domain(&e))?;
                s.buyers[buyer as usize] = session.token;
                cart_outcome(s, cart)
            }
            Op::Browse {
                colours,
                material,
                in_stock,
                max_minor,
                sort,
            } => listing(s, colours, material, in_stock, max_minor, sort)?,
            Op::Search { query } => {
                let found = s
                    .store
                    .search(SearchRequest {
                        query: SearchQuery::parse(QUERIES[query])?,
                        page: PageRequest::first(50),
                    })
                    .map_err(|e| domain(&e))?;
                let mut hits: Vec<usize> = found
                    .items
                    .iter()
                    .map(|h| product_index(s, h.product.id))
                    .collect();
                hits.sort_unstable();
                Outcome::Hits(hits)
            }
            Op::SetAttributes {
                product,
                material,
                weight,
            } => {
                let (name, value) = MATERIALS[material];
                let mut attributes = vec![Attribute {
                    name: AttributeName::parse(name)?,
                    value: AttributeValue::Choice(AttributeText::parse(value)?),
                }];
                if let Some(grams) = weight {
                    attributes.push(Attribute {
                        name: AttributeName::parse("weight")?,
                        value: AttributeValue::Number(rust_decimal::Decimal::new(grams * 10, 1)),
                    });
                }
                let product = s
                    .store
                    .set_product_attributes(s.products[product], attributes)
                    .map_err(|e| domain(&e))?;
                Outcome::Attributes(
                    product
                        .attributes
                        .iter()
                        .map(|a| format!("{}={}", a.name, a.value))
                        .collect(),
                )
            }
            Op::SetVariantAttributes {
                variant: v,
                waterproof,
            } => {
                let attributes = vec![Attribute {
                    name: AttributeName::parse("Waterproof")?,
                    value: AttributeValue::Boolean(waterproof),
                }];
                let variant = s
                    .store
                    .set_variant_attributes(variant(s, v), attributes)
                    .map_err(|e| domain(&e))?;
                Outcome::Attributes(
                    variant
                        .attributes
                        .iter()
                        .map(|a| format!("{}={}", a.name, a.value))
                        .collect(),
                )
            }
            Op::SetImages { product, tied } => {
                let image = |n: usize, option: Option<OptionChoice>| ProductImage {
                    url: MediaUrl::parse(&format!("https://cdn.example.com/{product}/{n}.jpg"))
                        .unwrap(),
                    alt: AltText::parse("A photo").unwrap(),
                    option,
                };
                let red = tied.then(|| OptionChoice {
                    option: OptionName::parse("colour").unwrap(),
                    value: OptionValue::parse("RED").unwrap(),
                });
                let product = s
                    .store
                    .set_images(s.products[product], vec![image(1, None), image(2, red)])
                    .map_err(|e| domain(&e))?;
                Outcome::Images(
                    product
                        .images
                        .iter()
                        .map(|i| {
                            format!(
                                "{} {:?}",
                                i.url,
                                i.option.as_ref().map(|o| o.value.as_str())
                            )
                        })
                        .collect(),
                )
            }
            Op::SetCollection { ref products } => {
                // Past the products: one no store has.
                let ids = products
                    .iter()
                    .map(|&i| {
                        s.products
                            .get(i)
                            .copied()
                            .unwrap_or(ProductId::new(i64::MAX))
                    })
                    .collect();
                let Ok(list) = CollectionProducts::new(ids) else {
                    return Ok(Outcome::Error("a product twice".into()));
                };
                let collection = s
                    .store
                    .set_collection_products(s.collection, list)
                    .map_err(|e| domain(&e))?;
                Outcome::Collection(
                    collection
                        .products
                        .as_slice()
                        .iter()
                        .map(|id| product_index(s, *id))
                        .collect(),
                )
            }
            Op::SetListPrice {
                variant: v,
                min_quantity,
                minor,
            } => {
                let entries = s
                    .store
                    .set_list_prices(
                        s.sale,
                        vec![ListPrice {
                            variant: variant(s, v),
                            min_quantity,
                            price: Money::from_minor(minor, Currency::EUR),
                        }],
                    )
                    .map_err(|e| domain(&e))?;
                Outcome::Stock(entries.len() as u32)
            }
            Op::SetTaxClass { product, class } => {
                s.store
                    .set_tax_class(s.products[product], class)
                    .map_err(|e| domain(&e))?;
                Outcome::Done
            }
            Op::SetMarket { gross } => {
                s.store
                    .set_market(Market {
                        currency: Currency::EUR,
                        prices_include_tax: gross,
                    })
                    .map_err(|e| domain(&e))?;
                Outcome::Done
            }
            Op::AddTaxRate { class, day } => {
                let added = s
                    .store
                    .add_tax_rate(TaxRate {
                        name: TaxRateName::parse(&format!("{class} from day {day}")).unwrap(),
                        country: CountryCode::parse("DE").unwrap(),
                        region: None,
                        class,
                        rate: rust_decimal::Decimal::new(7 + day.rem_euclid(3), 2),
                        valid_from: Utc::now() + chrono::Duration::days(day),
                        valid_until: None,
                    })
                    .map_err(|e| domain(&e))?;
                Outcome::Attributes(vec![added.rate.to_string()])
            }
            Op::ShippingOptions { buyer, austria } => {
                let cart = cart_of(s, buyer)?;
                let to = Destination::country(
                    CountryCode::parse(if austria { "AT" } else { "DE" }).unwrap(),
                );
                let options = s
                    .store
                    .shipping_options(cart.id, &to)
                    .map_err(|e| domain(&e))?;
                Outcome::Options(
                    options
                        .iter()
                        .map(|o| (o.method.code.to_string(), o.price.to_string()))
                        .collect(),
                )
            }
            Op::Quote { buyer, express } => {
                let cart = cart_of(s, buyer)?;
                let to = Destination::country(CountryCode::parse("DE").unwrap());
                let code = Slug::parse(if express { "express" } else { "standard" }).unwrap();
                let q = s
                    .store
                    .quote_cart(cart.id, &to, &code)
                    .map_err(|e| domain(&e))?;
                let m = |m: Money| m.to_string();
                Outcome::Quoted(
                    q.lines
                        .iter()
                        .map(|l| {
                            let i = s.variants.iter().position(|v| *v == l.variant_id).unwrap();
                            (i, m(l.unit_price), m(l.net), m(l.tax))
                        })
                        .collect(),
                    format!(
                        "{} {} {}",
                        q.shipping.code,
                        m(q.shipping.amount),
                        m(q.shipping.tax)
                    ),
                    q.tax_lines
                        .iter()
                        .map(|t| format!("{} {} {}", t.rate.name, m(t.taxable), m(t.tax)))
                        .collect(),
                    [
                        q.totals.subtotal,
                        q.totals.shipping,
                        q.totals.tax,
                        q.totals.grand_total,
                    ]
                    .map(m),
                )
            }
            Op::ReadCollection => {
                let page = s
                    .store
                    .collection_products(s.collection, PageRequest::first(10))
                    .map_err(|e| domain(&e))?;
                Outcome::Collection(page.items.iter().map(|p| product_index(s, p.id)).collect())
            }
        })
    })();
    result.unwrap_or_else(|e| Outcome::Error(describe(&e)))
}

/// The domain error inside any store's error; a store failure is a test failure.
fn domain<E: RepoError>(err: &E) -> DomainError {
    match err.domain() {
        Some(d) => d.clone(),
        None => panic!("store failure, not a domain outcome: {err}"),
    }
}

/// The index of a product the test created.
fn product_index<S>(s: &Subject<S>, id: ProductId) -> usize {
    s.products.iter().position(|p| *p == id).unwrap()
}

/// Two pages of two of a listing of the category, with its total and counts.
fn listing<S: CatalogReader>(
    s: &Subject<S>,
    colours: u8,
    material: Option<usize>,
    in_stock: bool,
    max_minor: Option<i64>,
    sort: BrowseSort,
) -> Result<Outcome, DomainError> {
    let mut facets = Vec::new();
    let picked: Vec<&str> = ["red", "Blue"]
        .into_iter()
        .enumerate()
        .filter(|(i, _)| colours & (1 << i) != 0)
        .map(|(_, c)| c)
        .collect();
    if !picked.is_empty() {
        facets.push(FacetFilter::new("Colour", &picked)?);
    }
    if let Some(m) = material {
        facets.push(FacetFilter::new("material", &[MATERIALS[m].1])?);
    }
    let price = PriceRange::new(None, max_minor.map(|m| Money::from_minor(m, Currency::EUR)))?;
    let mut request = BrowseRequest {
        category: s.category,
        filter: BrowseFilter {
            facets,
            price,
            in_stock,
        },
        sort,
        page: PageRequest::first(2),
    };
    let mut pages = Vec::new();
    let mut last = None;
    for _ in 0..2 {
        let browse = s.store.browse(request.clone()).map_err(|e| domain(&e))?;
        pages.push(
            browse
                .page
                .items
                .iter()
                .map(|p| product_index(s, p.id))
                .collect(),
        );
        let counts = browse
            .facets
            .iter()
            .map(|c| (c.key.name.clone(), c.key.value.clone(), c.products))
            .collect();
        last = Some((browse.total, counts));
        match browse.page.next {
            Some(next) => request.page.after = Some(next),
            None => break,
        }
    }
    let (total, counts) = last.expect("one page at least");
    Ok(Outcome::Listing(pages, total, counts))
}

fn setup<
    S: CatalogRepository
        + SessionRepository
        + PriceBookRepository
        + PromotionRepository
        + GiftCardRepository
        + InventoryRepository,
>(
    store: S,
) -> Subject<S> {
    let category = store
        .create_category(NewCategory {
            parent_id: None,
            slug: Slug::parse("all").unwrap(),
            name: CategoryName::parse("All").unwrap(),
        })
        .unwrap_or_else(|e| panic!("{e}"));
    let shirt = store
        .create_product(NewProduct {
            slug: Slug::parse("shirt").unwrap(),
            name: ProductName::parse("Shirt").unwrap(),
            description: Description::default(),
            category_id: category.id,
            status: ProductStatus::Active,
            options: ProductOptions::new(vec![
                option("Colour", &["Red", "Blue"]),
                option("Size", &["M", "L"]),
            ])
            .unwrap(),
            // Two of the four combinations; AddVariant may add the others.
            variants: (0..2)
                .map(|i| NewVariant {
                    selection: shirt_selection(i),
                    ..NewVariant::default_of(
                        Sku::parse(&format!("SHIRT-{i}")).unwrap(),
                        Money::from_minor(999 + i as i64 * 1000, Currency::EUR),
                        3,
                    )
                })
                .collect(),
        })
        .unwrap_or_else(|e| panic!("{e}"));
    let mug = store
        .create_product(NewProduct::single(
            Slug::parse("mug").unwrap(),
            ProductName::parse("Mug").unwrap(),
            category.id,
            Sku::parse("MUG").unwrap(),
            Money::from_minor(2999, Currency::EUR),
            3,
        ))
        .unwrap_or_else(|e| panic!("{e}"));
    let variants = shirt
        .variants
        .iter()
        .chain(&mug.variants)
        .map(|v| v.id)
        .collect();
    let products = vec![shirt.id, mug.id];
    let kind = |choices: Option<&[&str]>| match choices {
        Some(list) => AttributeKind::OneOf {
            choices: AttributeChoices::new(
                list.iter()
                    .map(|c| AttributeText::parse(c).unwrap())
                    .collect(),
            )
            .unwrap(),
        },
        None => AttributeKind::Boolean,
    };
    for (name, kind) in [
        ("Material", kind(Some(&["Cotton", "Linen"]))),
        ("Waterproof", kind(None)),
        (
            "Weight",
            AttributeKind::Number {
                unit: Some(AttributeUnit::parse("g").unwrap()),
            },
        ),
    ] {
        store
            .define_attribute(AttributeDefinition {
                name: AttributeName::parse(name).unwrap(),
                kind,
            })
            .unwrap_or_else(|e| panic!("{e}"));
    }
    // Prices, tax and shipping as data: a sale list, German rates, EU methods.
    let sale = store
        .create_price_list(NewPriceList {
            name: PriceListName::parse("Sale").unwrap(),
            currency: Currency::EUR,
            group: None,
            starts_at: None,
            ends_at: None,
        })
        .unwrap_or_else(|e| panic!("{e}"))
        .id;
    for (name, class, rate) in [
        ("MwSt 19 %", TaxClass::Standard, 19),
        ("MwSt 7 %", TaxClass::Reduced, 7),
    ] {
        store
            .add_tax_rate(TaxRate {
                name: TaxRateName::parse(name).unwrap(),
                country: CountryCode::parse("DE").unwrap(),
                region: None,
                class,
                rate: rust_decimal::Decimal::new(rate, 2),
                valid_from: Utc::now() - chrono::Duration::days(30),
                valid_until: Some(Utc::now() + chrono::Duration::days(1)),
            })
            .unwrap_or_else(|e| panic!("{e}"));
    }
    let zone = store
        .create_shipping_zone(NewShippingZone {
            name: ShippingZoneName::parse("Germany").unwrap(),
            areas: vec![Area {
                country: CountryCode::parse("DE").unwrap(),
                region: None,
            }],
        })
        .unwrap_or_else(|e| panic!("{e}"))
        .id;
    let eur = |minor| Money::from_minor(minor, Currency::EUR);
    for (code, rate, free) in [
        (
            "standard",
            ShippingRate::ByWeight {
                bands: vec![WeightBand {
                    up_to_grams: 10,
                    price: eur(490),
                }],
            },
            Some(eur(5000)),
        ),
        ("express", ShippingRate::Flat { price: eur(1490) }, None),
    ] {
        store
            .create_shipping_method(NewShippingMethod {
                zone,
                code: Slug::parse(code).unwrap(),
                name: ShippingMethodName::parse(code).unwrap(),
                currency: Currency::EUR,
                rate,
                free_from: free,
                tax_class: TaxClass::Standard,
            })
            .unwrap_or_else(|e| panic!("{e}"));
    }
    // Promotions: 5 % off carts of 30.00 or more, automatic; 1.00 off with a code,
    // one single-use and one once per customer.
    let spring = NewPromotion {
        name: PromotionName::parse("Spring").unwrap(),
        discount: Discount::Percent {
            rate: rust_decimal::Decimal::new(5, 2),
        },
        target: Target::Order,
        currency: Some(Currency::EUR),
        min_subtotal: Some(eur(3000)),
        min_quantity: None,
        group: None,
        starts_at: None,
        ends_at: None,
        coupon_only: false,
        exclusive: false,
        priority: 1,
    };
    store
        .create_promotion(spring.clone())
        .unwrap_or_else(|e| panic!("{e}"));
    let welcome = store
        .create_promotion(NewPromotion {
            name: PromotionName::parse("Welcome").unwrap(),
            discount: Discount::Fixed { amount: eur(100) },
            min_subtotal: None,
            coupon_only: true,
            priority: 2,
            ..spring
        })
        .unwrap_or_else(|e| panic!("{e}"));
    for (code, max_uses, per_customer) in [(CODES[0], Some(1), None), (CODES[1], None, Some(1))] {
        store
            .create_coupons(NewCoupons {
                promotion: welcome.id,
                codes: CouponCodes::Given(vec![CouponCode::parse(code).unwrap()]),
                max_uses,
                per_customer,
            })
            .unwrap_or_else(|e| panic!("{e}"));
    }
    // No stemming: the reference store matches words as they are.
    store
        .set_search_language(SearchLanguage::parse("simple").unwrap())
        .unwrap_or_else(|e| panic!("{e}"));
    let collection = store
        .create_collection(NewCollection {
            slug: Slug::parse("picks").unwrap(),
            name: CollectionName::parse("Picks").unwrap(),
        })
        .unwrap_or_else(|e| panic!("{e}"))
        .id;
    let buyers = (0..3)
        .map(|_| {
            store
                .start_guest_session()
                .unwrap_or_else(|e| panic!("{e}"))
                .token
        })
        .collect();
    let cards = CARDS
        .iter()
        .map(|minor| {
            store
                .issue_gift_card(NewGiftCard {
                    value: Money::from_minor(*minor, Currency::EUR),
                    expires_at: None,
                })
                .unwrap_or_else(|e| panic!("{e}"))
                .code
        })
        .collect();
    let locations = [("Berlin", "DE", 1), ("Lyon", "FR", 2)]
        .iter()
        .map(|(name, country, priority)| {
            store
                .add_stock_location(NewStockLocation {
                    name: LocationName::parse(name).unwrap(),
                    country: CountryCode::parse(country).unwrap(),
                    priority: *priority,
                })
                .unwrap_or_else(|e| panic!("{e}"))
                .id
        })
        .collect::<Vec<_>>();
    // The mug is kept at both locations, two units each: its checkouts reserve
    // there, split when they must (its own count of 3 is not sold from).
    for at in &locations {
        store
            .change_stock(StockChange {
                location: *at,
                variant: mug.variants[0].id,
                movement: InventoryMove {
                    kind: MoveKind::Receipt,
                    quantity: 2,
                },
                reason: None,
            })
            .unwrap_or_else(|e| panic!("{e}"));
    }
    Subject {
        store,
        products,
        variants,
        orders: Vec::new(),
        cards,
        buyers,
        category: category.id,
        collection,
        sale,
        locations,
    }
}

fn option(name: &str, values: &[&str]) -> OptionType {
    let values = values
        .iter()
        .map(|v| OptionValue::parse(v).unwrap())
        .collect();
    OptionType::new(OptionName::parse(name).unwrap(), values).unwrap()
}

/// The shirt's colour and size combination `i` (of four); past them, the empty
/// selection of a default variant. Spelled in lower case: the stores store the
/// product's spelling.
fn shirt_selection(i: usize) -> OptionSelection {
    if i >= 4 {
        return OptionSelection::none();
    }
    let choice = |option: &str, value: &str| OptionChoice {
        option: OptionName::parse(option).unwrap(),
        value: OptionValue::parse(value).unwrap(),
    };
    OptionSelection::new(vec![
        choice("colour", ["red", "blue"][i % 2]),
        choice("size", ["m", "l"][i / 2]),
    ])
    .unwrap()
}

/// An order's payments, ids aside: provider, amount, released, authorized,
/// captured, refunded, status.
fn tenders(payments: &[Payment]) -> Vec<String> {
    payments
        .iter()
        .map(|p| {
            format!(
                "{} {} {} {} {} {} {}",
                p.provider, p.amount, p.released, p.authorized, p.captured, p.refunded, p.status
            )
        })
        .collect()
}

/// One order at the end of a run: its status, its history and its payments.
/// An order's status, history, tenders and where its units were reserved (line,
/// location by index, units).
type OrderShape = (
    OrderStatus,
    Vec<StatusChangeShape>,
    Vec<String>,
    Vec<(u16, usize, u32)>,
    Vec<ShipmentShape>,
    Vec<ReturnShape>,
    Vec<CancellationShape>,
);

/// A cancellation's units (line, location by index, units), what it refunded
/// and what it took off the amount due.
type CancellationShape = (Vec<(u16, Option<usize>, u32)>, Money, Money);

fn cancellation_shape<S>(s: &Subject<S>, c: &Cancellation) -> CancellationShape {
    let units = c
        .units
        .iter()
        .map(|u| {
            let at = u
                .location
                .map(|l| s.locations.iter().position(|x| *x == l).unwrap());
            (u.line_no, at, u.quantity.get())
        })
        .collect();
    (units, c.refunded, c.released)
}

/// A return's status, lines (line, units) and what it refunded.
type ReturnShape = (ReturnStatus, Vec<(u16, u32)>, Option<Money>);

/// A shipment's location by index, status and lines (line, units).
type ShipmentShape = (usize, ShipmentStatus, Vec<(u16, u32)>);

/// Everything that must agree at the end: stock, each order with its payments,
/// the codes' uses, and each gift card's balance (which its ledger sums to).
fn final_state<S>(s: &Subject<S>) -> FinalState
where
    S: CatalogRepository
        + OrderRepository
        + PromotionRepository
        + GiftCardRepository
        + InventoryRepository
        + FulfillmentRepository
        + ReturnRepository,
{
    let balances = s
        .cards
        .iter()
        .map(|code| {
            let card = s.store.gift_card(code).unwrap_or_else(|e| panic!("{e}"));
            let ledger = s
                .store
                .gift_card_ledger(card.id)
                .unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(
                ecom_domain::gift_card::ledger_balance(&ledger, Currency::EUR).unwrap(),
                card.balance,
                "a card's balance is its ledger's sum"
            );
            card.balance
        })
        .collect();
    // Each code's uses: the orders that took it and were not cancelled or expired.
    let uses = CODES[..2]
        .iter()
        .map(|c| {
            s.store
                .coupon(&CouponCode::parse(c).unwrap())
                .unwrap_or_else(|e| panic!("{e}"))
                .uses
        })
        .collect();
    let stock = s
        .variants
        .iter()
        .map(|v| {
            s.store
                .variant(*v)
                .unwrap_or_else(|e| panic!("{e}"))
                .variant
                .stock_on_hand
        })
        .collect();
    let orders = s
        .orders
        .iter()
        .map(|(id, _, _)| {
            let d = s.store.order(*id).unwrap_or_else(|e| panic!("{e}"));
            let paid = Money::sum(Currency::EUR, d.payments.iter().map(|p| &p.amount));
            assert_eq!(
                paid,
                Ok(d.order.totals.grand_total),
                "payments sum to the total"
            );
            let history = d
                .order
                .history
                .iter()
                .map(|h| (h.from, h.to, h.event))
                .collect();
            let held = s
                .store
                .order_reservations(*id)
                .unwrap_or_else(|e| panic!("{e}"))
                .iter()
                .map(|r| {
                    let at = s.locations.iter().position(|x| *x == r.location).unwrap();
                    (r.line_no, at, r.quantity)
                })
                .collect();
            let shipments = s
                .store
                .order_shipments(*id)
                .unwrap_or_else(|e| panic!("{e}"))
                .iter()
                .map(|sh| {
                    let at = s.locations.iter().position(|x| *x == sh.location).unwrap();
                    let lines = sh
                        .lines
                        .iter()
                        .map(|l| (l.line_no, l.quantity.get()))
                        .collect();
                    (at, sh.status, lines)
                })
                .collect();
            let returns = s
                .store
                .order_returns(*id)
                .unwrap_or_else(|e| panic!("{e}"))
                .iter()
                .map(|r| {
                    let lines = r
                        .lines
                        .iter()
                        .map(|l| (l.line_no, l.quantity.get()))
                        .collect();
                    (r.status, lines, r.refunded)
                })
                .collect::<Vec<ReturnShape>>();
            let cancellations = s
                .store
                .order_cancellations(*id)
                .unwrap_or_else(|e| panic!("{e}"))
                .iter()
                .map(|c| cancellation_shape(s, c))
                .collect::<Vec<CancellationShape>>();
            // Money kept: what was captured less what went back, never less than
            // nothing; what returns and cancellations refunded is part of what
            // went back.
            let captured = Money::sum(Currency::EUR, d.payments.iter().map(|p| &p.captured));
            let refunded = Money::sum(Currency::EUR, d.payments.iter().map(|p| &p.refunded));
            let by_returns = Money::sum(
                Currency::EUR,
                returns
                    .iter()
                    .filter_map(|r| r.2.as_ref())
                    .chain(cancellations.iter().map(|c| &c.1)),
            );
            let (captured, refunded, by_returns) =
                (captured.unwrap(), refunded.unwrap(), by_returns.unwrap());
            assert!(
                refunded.try_cmp(&captured).unwrap().is_le(),
                "refunded ≤ captured"
            );
            assert!(
                by_returns.try_cmp(&refunded).unwrap().is_le(),
                "returns and cancellations ≤ refunded"
            );
            // What cancellations took off the amount due is what the payments
            // count as released.
            assert_eq!(
                Money::sum(Currency::EUR, cancellations.iter().map(|c| &c.2)),
                Money::sum(Currency::EUR, d.payments.iter().map(|p| &p.released)),
                "cancellations' reductions = payments' released"
            );
            (
                d.order.status,
                history,
                tenders(&d.payments),
                held,
                shipments,
                returns,
                cancellations,
            )
        })
        .collect();
    // Each variant's levels, each the sum of its ledger.
    let levels = s
        .variants
        .iter()
        .map(|v| {
            let levels = levels_of(s, *v).unwrap_or_else(|e| panic!("{e}"));
            for (at, on_hand, reserved, safety) in &levels {
                let ledger = s
                    .store
                    .inventory_ledger(s.locations[*at], *v)
                    .unwrap_or_else(|e| panic!("{e}"));
                let summed = InventoryLevel::from_moves(
                    s.locations[*at],
                    *v,
                    *safety,
                    ledger.iter().map(|e| e.movement),
                )
                .unwrap_or_else(|e| panic!("{e}"));
                assert_eq!(
                    (summed.on_hand, summed.reserved),
                    (*on_hand, *reserved),
                    "a level is its ledger's sum"
                );
            }
            levels
        })
        .collect();
    (stock, orders, uses, balances, levels)
}

/// What [`final_state`] compares: stock, orders, the codes' uses, the cards'
/// balances, and each variant's levels per location.
type FinalState = (
    Vec<u32>,
    Vec<OrderShape>,
    Vec<u32>,
    Vec<Money>,
    Vec<Vec<(usize, u32, u32, u32)>>,
);

/// A return as an outcome, without ids.
fn return_outcome(ret: &Return) -> Outcome {
    Outcome::Return(
        ret.status,
        ret.lines
            .iter()
            .map(|l| (l.line_no, l.quantity.get()))
            .collect(),
    )
}

/// A variant's levels, by the index of their location.
fn levels_of<S: InventoryRepository>(
    s: &Subject<S>,
    variant: VariantId,
) -> Result<Vec<(usize, u32, u32, u32)>, DomainError> {
    Ok(s.store
        .inventory_levels(variant)
        .map_err(|e| domain(&e))?
        .iter()
        .map(|l| {
            let at = s.locations.iter().position(|x| *x == l.location).unwrap();
            (at, l.on_hand, l.reserved, l.safety_stock)
        })
        .collect())
}

type StatusChangeShape = (Option<OrderStatus>, OrderStatus, Option<OrderEvent>);

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, max_shrink_iters: 200, ..ProptestConfig::default() })]

    #[test]
    fn postgres_behaves_like_the_reference_store(ops in proptest::collection::vec(op(), 1..40)) {
        let db = TestDb::new();
        let mut model = setup(MemoryStore::with_rules(rules()));
        let mut real = setup(PgStore::with_rules(db.pool().clone(), rules()));
        for (step, op) in ops.iter().enumerate() {
            let expected = run(&mut model, op, step);
            let actual = run(&mut real, op, step);
            prop_assert_eq!(&actual, &expected, "step {}: {:?}", step, op);
        }
        prop_assert_eq!(final_state(&real), final_state(&model));
    }

    #[test]
    fn checkouts_on_the_price_book_match_the_reference_store(ops in proptest::collection::vec(money_op(), 1..40)) {
        let db = TestDb::new();
        let mut model = setup(MemoryStore::with_rules(rules()));
        let mut real = setup(PgStore::with_rules(db.pool().clone(), rules()));
        for (step, op) in ops.iter().enumerate() {
            let expected = run(&mut model, op, step);
            let actual = run(&mut real, op, step);
            prop_assert_eq!(&actual, &expected, "step {}: {:?}", step, op);
        }
        prop_assert_eq!(final_state(&real), final_state(&model));
    }

    #[test]
    fn returns_match_the_reference_store(ops in proptest::collection::vec(returns_op(), 1..50)) {
        let db = TestDb::new();
        let mut model = setup(MemoryStore::with_rules(rules()));
        let mut real = setup(PgStore::with_rules(db.pool().clone(), rules()));
        let ops: Vec<Op> = returns_prelude().into_iter().chain(ops).collect();
        for (step, op) in ops.iter().enumerate() {
            let expected = run(&mut model, op, step);
            let actual = run(&mut real, op, step);
            prop_assert_eq!(&actual, &expected, "step {}: {:?}", step, op);
        }
        prop_assert_eq!(final_state(&real), final_state(&model));
    }

    #[test]
    fn shipments_match_the_reference_store(ops in proptest::collection::vec(fulfillment_op(), 1..60)) {
        let db = TestDb::new();
        let mut model = setup(MemoryStore::with_rules(rules()));
        let mut real = setup(PgStore::with_rules(db.pool().clone(), rules()));
        for (step, op) in ops.iter().enumerate() {
            let expected = run(&mut model, op, step);
            let actual = run(&mut real, op, step);
            prop_assert_eq!(&actual, &expected, "step {}: {:?}", step, op);
        }
        prop_assert_eq!(final_state(&real), final_state(&model));
    }
}
