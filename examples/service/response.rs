//! The JSON the service answers with, as types: the handlers return them and the
//! OpenAPI document is generated from them, so the document cannot describe a field
//! the service does not send. Money goes out as a decimal string with its currency,
//! never as a float, so no client rounds a price.

mod cancellations;
mod gift_cards;
mod listing;
mod merchandise;
mod price_book;
mod promotions;
mod returns;
mod shipments;

pub(super) use cancellations::{CancellationListView, UnitsCancelledView};
pub(super) use gift_cards::{
    GiftCardBalanceView, GiftCardLedgerView, GiftCardView, IssuedGiftCardView, OrderRefundView,
};
pub(super) use listing::{BrowseView, CollectionPageView, SearchPageView};
pub(super) use merchandise::{
    AttributeDefinitionJson, AttributeJson, AttributeListView, CollectionDetailView, CollectionView,
};
pub(super) use price_book::{
    CustomerGroupsView, ListPricesView, MarketView, PriceBookView, PriceListView, QuoteView,
    ShippingMethodView, ShippingOptionsView, ShippingZoneView, TaxRateView, tax_class_schema,
};
pub(super) use promotions::{
    CouponView, CreatedCouponsView, PromotionListView, PromotionView, target_kind_schema,
};
pub(super) use returns::{
    ReturnListView, ReturnReceivedView, ReturnView, item_condition_schema, return_reason_schema,
};
pub(super) use shipments::{
    InventoryLevelView, ShipmentChangeView, ShipmentListView, ShipmentView, StockLocationListView,
    StockLocationView,
};

use chrono::{DateTime, Utc};
use ecom_domain::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa::openapi::schema::{Object, ObjectBuilder, Type};

/// A string schema that takes one of `values`: the domain's own list, so a new
/// status shows up in the document without anyone editing it.
fn one_of(values: impl IntoIterator<Item = &'static str>, description: &str) -> Object {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(values))
        .description(Some(description))
        .build()
}

pub(super) fn currency_schema() -> Object {
    one_of(
        Currency::ALL.iter().map(|c| c.code()),
        "ISO 4217 currency code",
    )
}

pub(super) fn browse_sort_schema() -> Object {
    one_of(
        BrowseSort::ALL.iter().map(|s| s.as_str()),
        "the order of a listing; ties go by product id",
    )
}

fn cart_status_schema() -> Object {
    one_of(
        CartStatus::ALL.iter().map(|s| s.as_str()),
        "the cart's state",
    )
}

pub(super) fn order_status_schema() -> Object {
    one_of(
        OrderStatus::ALL.iter().map(|s| s.as_str()),
        "the order's state",
    )
}

fn order_status_or_none_schema() -> Object {
    ObjectBuilder::from(order_status_schema())
        .schema_type(utoipa::openapi::schema::SchemaType::from_iter([
            Type::String,
            Type::Null,
        ]))
        .description(Some("the state before; null for the first entry"))
        .build()
}

pub(super) fn order_event_schema() -> Object {
    one_of(
        OrderEvent::ALL.iter().map(|e| e.as_str()),
        "what happened to the order",
    )
}

fn order_event_or_none_schema() -> Object {
    ObjectBuilder::from(order_event_schema())
        .schema_type(utoipa::openapi::schema::SchemaType::from_iter([
            Type::String,
            Type::Null,
        ]))
        .description(Some("what caused it; null for the first entry"))
        .build()
}

fn payment_status_schema() -> Object {
    one_of(
        PaymentStatus::ALL.iter().map(|s| s.as_str()),
        "the payment's state",
    )
}

/// An amount of money.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Money)]
pub(super) struct MoneyView {
    /// A decimal string at the currency's minor unit, never a float.
    #[schema(example = "8.50")]
    amount: String,
    #[schema(schema_with = currency_schema)]
    currency: &'static str,
}

impl From<Money> for MoneyView {
    fn from(m: Money) -> Self {
        Self {
            amount: m.amount().to_string(),
            currency: m.currency().code(),
        }
    }
}

/// A rate as a decimal string without trailing zeros: `0.19`, `0.08875`, `0.1`.
/// Rates go out as strings, like money: no client rounds a rate either.
fn rate_text(rate: rust_decimal::Decimal) -> String {
    rate.normalize().to_string()
}

// Here, not in `promotions`: the back office's promotions and an order's invoice
// (`price_book`) both show it.
/// What a promotion takes off: as staff set it, and as an order that applied it
/// keeps it.
#[derive(Debug, Serialize, ToSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
#[schema(as = Discount)]
pub(super) enum DiscountView {
    /// A share of the lines it targets.
    Percent {
        /// 0.1 for 10 %.
        #[schema(example = "0.1")]
        rate: String,
    },
    /// An amount off the lines it targets, together.
    Fixed { amount: MoneyView },
    /// The shipping charge.
    FreeShipping,
    /// Of every `buy + get` units it targets, `get` are free: the cheapest ones.
    BuyXGetY { buy: u32, get: u32 },
}

impl From<&ecom_domain::promotion::Discount> for DiscountView {
    fn from(d: &ecom_domain::promotion::Discount) -> Self {
        use ecom_domain::promotion::Discount as D;
        match d {
            D::Percent { rate } => DiscountView::Percent {
                rate: rate_text(*rate),
            },
            D::Fixed { amount } => DiscountView::Fixed {
                amount: (*amount).into(),
            },
            D::FreeShipping => DiscountView::FreeShipping,
            D::BuyXGetY { buy, get } => DiscountView::BuyXGetY {
                buy: *buy,
                get: *get,
            },
        }
    }
}

pub(super) fn product_status_schema() -> Object {
    one_of(
        ProductStatus::ALL.iter().map(|s| s.as_str()),
        "only `active` products are listed and sold; `draft` and `archived` ones are not",
    )
}

/// One option value of a variant or of an order line: "Size: M". In a request, both
/// are matched against the product's option types ignoring case.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = OptionValue)]
pub(super) struct OptionValueJson {
    /// The option type's name.
    #[schema(example = "Size")]
    pub(super) option: String,
    #[schema(example = "M")]
    pub(super) value: String,
}

/// `selection` as `[{option, value}]`, in its product's order; empty for a product
/// without options.
fn option_values(selection: &OptionSelection) -> Vec<OptionValueJson> {
    selection
        .choices()
        .iter()
        .map(|c| OptionValueJson {
            option: c.option.as_str().to_owned(),
            value: c.value.as_str().to_owned(),
        })
        .collect()
}

/// One of a product's option types, with its values in display order. In a request,
/// no two names of a product, and no two values of a type, may differ only in case.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = OptionType)]
pub(super) struct OptionTypeJson {
    #[schema(example = "Size")]
    pub(super) name: String,
    #[schema(example = json!(["S", "M", "L"]))]
    pub(super) values: Vec<String>,
}

/// A variant of a product: what a cart line names and an order sells, with its own
/// price and stock.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Variant)]
pub(super) struct VariantView {
    /// The id cart lines name (`variant_id`).
    id: i64,
    product_id: i64,
    sku: String,
    /// One value per option type of its product; empty for a product without options.
    options: Vec<OptionValueJson>,
    price: MoneyView,
    /// Units on hand, not counting units reserved by unpaid orders.
    stock: u32,
    /// Shipping weight; null when not known.
    #[schema(required = true)]
    weight_grams: Option<u32>,
    /// Its barcode in the 14-digit GTIN form; null when it has none.
    #[schema(required = true, example = "04006381333931")]
    gtin: Option<String>,
    /// Its own attribute values, beside its product's.
    attributes: Vec<AttributeJson>,
}

impl From<&Variant> for VariantView {
    fn from(v: &Variant) -> Self {
        Self {
            id: v.id.get(),
            product_id: v.product_id.get(),
            sku: v.sku.as_str().to_owned(),
            options: option_values(&v.selection),
            price: v.price.into(),
            stock: v.stock_on_hand,
            weight_grams: v.weight_grams,
            gtin: v.gtin.as_ref().map(|g| g.as_str().to_owned()),
            attributes: merchandise::attribute_values(&v.attributes),
        }
    }
}

/// A product of the catalog, with its variants.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Product)]
pub(super) struct ProductView {
    id: i64,
    /// Its URL key.
    #[schema(example = "sencha")]
    slug: String,
    name: String,
    #[schema(schema_with = product_status_schema)]
    status: &'static str,
    category_id: i64,
    /// Its option types (Colour, Size...); empty for a product of one variant.
    options: Vec<OptionTypeJson>,
    /// Its attribute values (Material, Weight...), in the order staff gave them.
    attributes: Vec<AttributeJson>,
    /// Its images, in display order.
    images: Vec<merchandise::ImageView>,
    /// What is sold, by id: one per combination of option values, or the one
    /// default variant of a product without options.
    variants: Vec<VariantView>,
}

impl From<&Product> for ProductView {
    fn from(p: &Product) -> Self {
        Self {
            id: p.id.get(),
            slug: p.slug.as_str().to_owned(),
            name: p.name.as_str().to_owned(),
            status: p.status.as_str(),
            category_id: p.category_id.get(),
            options: p
                .options
                .types()
                .iter()
                .map(|t| OptionTypeJson {
                    name: t.name().as_str().to_owned(),
                    values: t.values().iter().map(|v| v.as_str().to_owned()).collect(),
                })
                .collect(),
            attributes: merchandise::attribute_values(&p.attributes),
            images: p.images.iter().map(merchandise::ImageView::from).collect(),
            variants: p.variants.iter().map(VariantView::from).collect(),
        }
    }
}

/// A page of a category's products.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = ProductPage)]
pub(super) struct ProductPageView {
    items: Vec<ProductView>,
    /// Pass as `after` for the next page; null on the last page.
    #[schema(required = true)]
    next: Option<i64>,
}

impl From<&Page<Product, ProductId>> for ProductPageView {
    fn from(page: &Page<Product, ProductId>) -> Self {
        Self {
            items: page.items.iter().map(ProductView::from).collect(),
            next: page.next.map(ProductId::get),
        }
    }
}

/// Products found by name.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = ProductList)]
pub(super) struct ProductListView {
    items: Vec<ProductView>,
}

impl ProductListView {
    pub(super) fn new(products: &[Product]) -> Self {
        Self {
            items: products.iter().map(ProductView::from).collect(),
        }
    }
}

/// What `POST /users` answers, whether or not the address was already registered.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = RegistrationAccepted)]
pub(super) struct AcceptedView {
    #[schema(example = "accepted")]
    status: &'static str,
    /// What to do next.
    next: &'static str,
}

impl AcceptedView {
    pub(super) const REGISTRATION: Self = Self {
        status: "accepted",
        next: "sign in with POST /sessions",
    };
}

/// The user a session belongs to.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = SessionUser)]
pub(super) struct SessionUserView {
    id: i64,
    email: String,
}

/// A session just started. Its token is shown this once: send it as
/// `Authorization: Bearer <token>`.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Session)]
pub(super) struct SessionView {
    token: String,
    expires_at: DateTime<Utc>,
    /// The signed-in user; null for a guest.
    #[schema(required = true)]
    user: Option<SessionUserView>,
}

impl SessionView {
    pub(super) fn new(s: &Session, user: Option<&User>) -> Self {
        Self {
            token: s.token.as_str().to_owned(),
            expires_at: s.expires_at,
            user: user.map(|u| SessionUserView {
                id: u.id.get(),
                email: u.email.as_str().to_owned(),
            }),
        }
    }
}

/// A new guest's session and its cart.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = GuestCart)]
pub(super) struct GuestCartView {
    pub(super) session: SessionView,
    pub(super) cart: CartView,
}

/// A line of a cart.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = CartLine)]
pub(super) struct CartLineView {
    /// The variant (see a product's `variants`).
    variant_id: i64,
    quantity: u32,
}

/// A cart, named by its public reference.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Cart)]
pub(super) struct CartView {
    /// The cart's public reference (a UUID), used in its URLs.
    #[schema(format = "uuid")]
    id: String,
    #[schema(schema_with = cart_status_schema)]
    status: &'static str,
    #[schema(schema_with = currency_schema)]
    currency: &'static str,
    lines: Vec<CartLineView>,
}

impl From<&Cart> for CartView {
    fn from(c: &Cart) -> Self {
        Self {
            id: c.reference.to_string(),
            status: c.status.as_str(),
            currency: c.currency.code(),
            lines: c
                .lines
                .iter()
                .map(|l| CartLineView {
                    variant_id: l.variant_id.get(),
                    quantity: l.quantity.get(),
                })
                .collect(),
        }
    }
}

/// A payment of an order: the provider's, or a gift card's.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Payment)]
pub(super) struct PaymentView {
    /// The id the payment provider reports against (`payment_id` of its webhooks).
    id: i64,
    /// The gift card it was spent from, for a gift card's payment (captured at
    /// checkout; the shop books its events, no provider reports on it); null for
    /// the provider's.
    #[schema(required = true)]
    gift_card_id: Option<i64>,
    #[schema(schema_with = payment_status_schema)]
    status: &'static str,
    /// What was due at checkout.
    amount: MoneyView,
    /// Taken off it by cancellations of units before the order was paid.
    released: MoneyView,
    /// What is due now (`amount` less `released`): what to authorize and capture.
    due: MoneyView,
    authorized: MoneyView,
    captured: MoneyView,
    refunded: MoneyView,
}

impl From<&Payment> for PaymentView {
    fn from(p: &Payment) -> Self {
        Self {
            id: p.id.get(),
            gift_card_id: p.gift_card.map(GiftCardId::get),
            status: p.status.as_str(),
            amount: p.amount.into(),
            released: p.released.into(),
            due: p.due().into(),
            authorized: p.authorized.into(),
            captured: p.captured.into(),
            refunded: p.refunded.into(),
        }
    }
}

/// A line of an order, priced when the order was placed.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = OrderLine)]
pub(super) struct OrderLineView {
    line_no: u16,
    /// The variant sold (it may since have changed or gone off sale).
    variant_id: i64,
    sku: String,
    /// The product's name at checkout.
    name: String,
    /// The variant's option values at checkout; empty for a product without options.
    options: Vec<OptionValueJson>,
    unit_price: MoneyView,
    quantity: u32,
    /// The line's net, tax and rate when the order was priced from the price book
    /// (checked out with a `shipping_method`); null when the flat rules priced it.
    #[schema(required = true)]
    tax: Option<price_book::LineTaxView>,
}

/// An order's totals.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = OrderTotals)]
pub(super) struct TotalsView {
    /// The lines' amounts before promotions.
    subtotal: MoneyView,
    /// What promotions took off the lines (the sum of the lines' `discount`); zero
    /// without a promotion, and always for the flat rules. What one took off the
    /// shipping is not in it: `shipping` is the charge after it.
    discount: MoneyView,
    shipping: MoneyView,
    tax: MoneyView,
    grand_total: MoneyView,
}

impl From<&Totals> for TotalsView {
    fn from(t: &Totals) -> Self {
        Self {
            subtotal: t.subtotal.into(),
            discount: t.discount.into(),
            shipping: t.shipping.into(),
            tax: t.tax.into(),
            grand_total: t.grand_total.into(),
        }
    }
}

/// One change of an order's status.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = StatusChange)]
pub(super) struct StatusChangeView {
    #[schema(schema_with = order_status_or_none_schema, required = true)]
    from: Option<&'static str>,
    #[schema(schema_with = order_status_schema)]
    to: &'static str,
    #[schema(schema_with = order_event_or_none_schema, required = true)]
    event: Option<&'static str>,
    at: DateTime<Utc>,
}

/// An order with its lines, history and payments, named by its public reference.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Order)]
pub(super) struct OrderView {
    /// The order's public reference (a UUID), used in its URLs.
    #[schema(format = "uuid")]
    id: String,
    #[schema(schema_with = order_status_schema)]
    status: &'static str,
    #[schema(schema_with = currency_schema)]
    currency: &'static str,
    lines: Vec<OrderLineView>,
    /// With prices that include tax (`invoice.prices_include_tax`), the grand total
    /// is subtotal − discount + shipping and `tax` is the tax they contain;
    /// otherwise it is subtotal − discount + shipping + tax.
    totals: TotalsView,
    /// What the invoice is printed from when the order was priced from the price
    /// book (checked out with a `shipping_method`); null when the flat rules
    /// priced it.
    #[schema(required = true)]
    invoice: Option<price_book::InvoiceView>,
    /// An order not paid by then expires and its stock goes back.
    payment_deadline: DateTime<Utc>,
    history: Vec<StatusChangeView>,
    /// Its payments, by id: one per gift card it was paid with (each with its
    /// `gift_card_id`), and the provider's of what the cards left (none when
    /// they paid it all). Their amounts sum to the grand total.
    payments: Vec<PaymentView>,
}

impl OrderView {
    pub(super) fn new(o: &Order, payments: &[Payment]) -> Self {
        Self {
            id: o.reference.to_string(),
            status: o.status.as_str(),
            currency: o.currency.code(),
            lines: o
                .lines
                .iter()
                .map(|l| OrderLineView {
                    line_no: l.line_no,
                    variant_id: l.variant_id.get(),
                    sku: l.sku.as_str().to_owned(),
                    name: l.name.as_str().to_owned(),
                    options: option_values(&l.selection),
                    unit_price: l.unit_price.into(),
                    quantity: l.quantity.get(),
                    tax: l.tax.as_ref().map(price_book::LineTaxView::from),
                })
                .collect(),
            totals: (&o.totals).into(),
            invoice: o.invoice.as_ref().map(price_book::InvoiceView::from),
            payment_deadline: o.payment_deadline,
            history: o
                .history
                .iter()
                .map(|h| StatusChangeView {
                    from: h.from.map(OrderStatus::as_str),
                    to: h.to.as_str(),
                    event: h.event.map(OrderEvent::as_str),
                    at: h.at,
                })
                .collect(),
            payments: payments.iter().map(PaymentView::from).collect(),
        }
    }
}

/// A payment event booked: the payment after it, and its order's status.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = PaymentOutcome)]
pub(super) struct PaymentOutcomeView {
    payment: PaymentView,
    #[schema(schema_with = order_status_schema)]
    order_status: &'static str,
    /// True when this event id was booked before: nothing changed this time.
    duplicate: bool,
}

impl From<&PaymentOutcome> for PaymentOutcomeView {
    fn from(out: &PaymentOutcome) -> Self {
        Self {
            payment: (&out.payment).into(),
            order_status: out.order_status.as_str(),
            duplicate: out.applied == Applied::Duplicate,
        }
    }
}

/// A category just created.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = CreatedCategory)]
pub(super) struct CategoryView {
    id: i64,
    slug: String,
}

impl From<&Category> for CategoryView {
    fn from(c: &Category) -> Self {
        Self {
            id: c.id.get(),
            slug: c.slug.as_str().to_owned(),
        }
    }
}

/// An order as the back office lists it.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = OrderSummary)]
pub(super) struct OrderSummaryView {
    /// The order's id, which the back office's routes take.
    id: i64,
    /// Its public reference, as its customer knows it.
    #[schema(format = "uuid")]
    reference: String,
    #[schema(schema_with = order_status_schema)]
    status: &'static str,
    grand_total: MoneyView,
    line_count: u32,
    created_at: DateTime<Utc>,
}

/// Orders in one status, oldest first.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = OrderList)]
pub(super) struct OrderListView {
    items: Vec<OrderSummaryView>,
}

impl OrderListView {
    pub(super) fn new(orders: &[OrderSummary]) -> Self {
        Self {
            items: orders
                .iter()
                .map(|o| OrderSummaryView {
                    id: o.id.get(),
                    reference: o.reference.to_string(),
                    status: o.status.as_str(),
                    grand_total: o.grand_total.into(),
                    line_count: o.line_count,
                    created_at: o.created_at,
                })
                .collect(),
        }
    }
}

/// An order after a back-office event.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = OrderStatusChanged)]
pub(super) struct OrderStatusView {
    id: i64,
    #[schema(schema_with = order_status_schema)]
    status: &'static str,
}

impl From<&Order> for OrderStatusView {
    fn from(o: &Order) -> Self {
        Self {
            id: o.id.get(),
            status: o.status.as_str(),
        }
    }
}
