//! The price book as JSON: what a customer's cart costs to a destination (its
//! shipping options and its quote), the invoice an order priced from the book
//! keeps (with the promotions it applied), and what staff set in the book.
//!
//! Rates go out as decimal strings (`"0.19"` for 19 %), like money: no client
//! rounds a rate either.

use chrono::{DateTime, Utc};
use ecom_domain::prelude::*;
use ecom_domain::pricing::{Area, PriceBook};
use ecom_domain::promotion::AppliedPromotion;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa::openapi::schema::Object;

use super::{
    DiscountView, MoneyView, OptionValueJson, TotalsView, currency_schema, one_of, option_values,
    rate_text,
};

pub(in crate::service) fn tax_class_schema() -> Object {
    one_of(
        TaxClass::ALL.iter().map(|c| c.as_str()),
        "which of a country's rates applies: `standard`, `reduced`, `zero` (taxed at \
         0 %, printed) or `exempt` (no rate, no tax line)",
    )
}

/// The tax rate a line or a shipping charge was taxed at, as the order keeps it.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = AppliedRate)]
pub(in crate::service) struct AppliedRateView {
    /// What the invoice prints.
    #[schema(example = "DE standard")]
    name: String,
    /// 0.19 for 19 %.
    #[schema(example = "0.19")]
    rate: String,
    #[schema(example = "DE")]
    country: String,
    /// The region whose own rate it is; null for the country's.
    #[schema(required = true, example = "NY")]
    region: Option<String>,
    #[schema(schema_with = tax_class_schema)]
    class: &'static str,
}

impl From<&AppliedRate> for AppliedRateView {
    fn from(r: &AppliedRate) -> Self {
        Self {
            name: r.name.as_str().to_owned(),
            rate: rate_text(r.rate),
            country: r.country.as_str().to_owned(),
            region: r.region.as_ref().map(|r| r.as_str().to_owned()),
            class: r.class.as_str(),
        }
    }
}

/// A shipping method that takes the cart to the destination, with its price for it.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = ShippingOption)]
pub(in crate::service) struct ShippingOptionView {
    /// What checkout names it by (`shipping_method`).
    #[schema(example = "standard")]
    code: String,
    #[schema(example = "Standard (2-4 days)")]
    name: String,
    /// Its price for this cart, as the market shows prices (with tax where prices
    /// include it); zero when the cart ships free by it.
    price: MoneyView,
}

/// The methods a checkout of the cart may choose, cheapest first.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = ShippingOptions)]
pub(in crate::service) struct ShippingOptionsView {
    items: Vec<ShippingOptionView>,
}

impl ShippingOptionsView {
    pub(in crate::service) fn new(options: &[ShippingOption]) -> Self {
        Self {
            items: options
                .iter()
                .map(|o| ShippingOptionView {
                    code: o.method.code.as_str().to_owned(),
                    name: o.method.name.as_str().to_owned(),
                    price: o.price.into(),
                })
                .collect(),
        }
    }
}

/// A line of a quote.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = QuotedLine)]
pub(in crate::service) struct QuotedLineView {
    variant_id: i64,
    sku: String,
    /// The product's name.
    name: String,
    options: Vec<OptionValueJson>,
    /// The unit price that applies (the lowest of the variant's own and its price
    /// lists'), as the market shows it.
    unit_price: MoneyView,
    quantity: u32,
    /// `unit_price × quantity`.
    amount: MoneyView,
    /// What promotions took off it; zero when none did.
    discount: MoneyView,
    /// The amount less the discount, net of tax.
    net: MoneyView,
    /// The line's tax on the amount less the discount, rounded half-even on the
    /// line.
    tax: MoneyView,
    /// The rate it is taxed at; null for an exempt product.
    #[schema(required = true)]
    rate: Option<AppliedRateView>,
}

/// The shipping charge of a quote or an invoice.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = ShippingCharge)]
pub(in crate::service) struct ShippingChargeView {
    /// The method's code.
    #[schema(example = "standard")]
    code: String,
    /// The method's name, as it was.
    name: String,
    /// The charge, as the market shows prices.
    amount: MoneyView,
    net: MoneyView,
    tax: MoneyView,
    /// The rate it is taxed at; null when the method's class is exempt.
    #[schema(required = true)]
    rate: Option<AppliedRateView>,
}

impl From<&QuotedShipping> for ShippingChargeView {
    fn from(s: &QuotedShipping) -> Self {
        Self {
            code: s.code.as_str().to_owned(),
            name: s.name.as_str().to_owned(),
            amount: s.amount.into(),
            net: s.net.into(),
            tax: s.tax.into(),
            rate: s.rate.as_ref().map(AppliedRateView::from),
        }
    }
}

/// One line of the tax summary: what was taxed at one rate.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = TaxLine)]
pub(in crate::service) struct TaxLineView {
    rate: AppliedRateView,
    /// The net amount of the lines (and the shipping) taxed at it.
    taxable: MoneyView,
    /// The sum of their taxes.
    tax: MoneyView,
}

fn tax_lines(lines: &[TaxLine]) -> Vec<TaxLineView> {
    lines
        .iter()
        .map(|t| TaxLineView {
            rate: (&t.rate).into(),
            taxable: t.taxable.into(),
            tax: t.tax.into(),
        })
        .collect()
}

/// A cart priced for delivery to a destination by one shipping method: what its
/// checkout by that method would charge, line by line, if nothing changes first.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Quote)]
pub(in crate::service) struct QuoteView {
    #[schema(schema_with = currency_schema)]
    currency: &'static str,
    /// True when the amounts include tax: then the grand total does not add the
    /// tax, which is contained in them.
    prices_include_tax: bool,
    /// By variant id.
    lines: Vec<QuotedLineView>,
    shipping: ShippingChargeView,
    /// The tax summary, by rate.
    tax_lines: Vec<TaxLineView>,
    /// The automatic promotions that apply to the cart, in the order they apply
    /// (a quote takes no coupon codes; a checkout does).
    promotions: Vec<AppliedPromotionView>,
    totals: TotalsView,
}

impl From<&Quote> for QuoteView {
    fn from(q: &Quote) -> Self {
        Self {
            currency: q.market.currency.code(),
            prices_include_tax: q.market.prices_include_tax,
            lines: q
                .lines
                .iter()
                .map(|l| QuotedLineView {
                    variant_id: l.variant_id.get(),
                    sku: l.sku.as_str().to_owned(),
                    name: l.name.as_str().to_owned(),
                    options: option_values(&l.selection),
                    unit_price: l.unit_price.into(),
                    quantity: l.quantity.get(),
                    amount: l.amount.into(),
                    discount: l.discount.into(),
                    net: l.net.into(),
                    tax: l.tax.into(),
                    rate: l.rate.as_ref().map(AppliedRateView::from),
                })
                .collect(),
            shipping: (&q.shipping).into(),
            tax_lines: tax_lines(&q.tax_lines),
            promotions: applied_promotions(&q.promotions),
            totals: (&q.totals).into(),
        }
    }
}

/// The tax of an order line priced from the price book.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = LineTax)]
pub(in crate::service) struct LineTaxView {
    /// What promotions took off the line (`invoice.promotions` says which); zero
    /// when none did.
    discount: MoneyView,
    /// The line's amount less its discount, net of tax.
    net: MoneyView,
    tax: MoneyView,
    /// The rate it was taxed at; null for an exempt product.
    #[schema(required = true)]
    rate: Option<AppliedRateView>,
}

impl From<&LineTax> for LineTaxView {
    fn from(t: &LineTax) -> Self {
        Self {
            discount: t.discount.into(),
            net: t.net.into(),
            tax: t.tax.into(),
            rate: t.rate.as_ref().map(AppliedRateView::from),
        }
    }
}

/// What an order priced from the price book prints on its invoice, besides its
/// lines' tax: as it was at checkout, whatever the book says now.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Invoice)]
pub(in crate::service) struct InvoiceView {
    /// True when the amounts include tax.
    prices_include_tax: bool,
    /// The shipping method chosen, with its charge and tax.
    shipping: ShippingChargeView,
    /// The tax summary, by rate.
    tax_lines: Vec<TaxLineView>,
    /// The promotions applied, in the order they applied, as they were then.
    promotions: Vec<AppliedPromotionView>,
}

impl From<&Invoice> for InvoiceView {
    fn from(i: &Invoice) -> Self {
        Self {
            prices_include_tax: i.prices_include_tax,
            shipping: (&i.shipping).into(),
            tax_lines: tax_lines(&i.tax_lines),
            promotions: applied_promotions(&i.promotions),
        }
    }
}

/// What one promotion took off one line.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = PromotionLineAmount)]
pub(in crate::service) struct PromotionLineView {
    variant_id: i64,
    amount: MoneyView,
}

/// A promotion a quote or an order applied, with what it took off: as it was
/// then, whatever staff change later.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = AppliedPromotion)]
pub(in crate::service) struct AppliedPromotionView {
    /// The promotion; null once it was deleted.
    #[schema(required = true)]
    promotion_id: Option<i64>,
    /// Its name then, as the invoice prints it.
    #[schema(example = "10 % off everything")]
    name: String,
    /// The coupon code it came with; null for an automatic promotion.
    #[schema(required = true, example = "WELCOME-2")]
    code: Option<String>,
    /// Its discount then.
    discount: DiscountView,
    /// What it took off the lines together: the sum of `lines`.
    amount: MoneyView,
    /// What it took off the shipping charge.
    shipping_amount: MoneyView,
    /// What it took off each line it touched, by variant id; amounts over several
    /// lines are allocated by largest remainder, so they sum to `amount` exactly.
    lines: Vec<PromotionLineView>,
}

fn applied_promotions(promotions: &[AppliedPromotion]) -> Vec<AppliedPromotionView> {
    promotions
        .iter()
        .map(|p| AppliedPromotionView {
            promotion_id: p.promotion.map(PromotionId::get),
            name: p.name.as_str().to_owned(),
            code: p.code.as_ref().map(|c| c.as_str().to_owned()),
            discount: (&p.discount).into(),
            amount: p.amount.into(),
            shipping_amount: p.shipping.into(),
            lines: p
                .lines
                .iter()
                .map(|(variant, amount)| PromotionLineView {
                    variant_id: variant.get(),
                    amount: (*amount).into(),
                })
                .collect(),
        })
        .collect()
}

/// Whether a currency's prices include tax.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Market)]
pub(in crate::service) struct MarketView {
    #[schema(schema_with = currency_schema)]
    currency: &'static str,
    /// True: prices are gross (EU consumers); false: tax is added (US).
    prices_include_tax: bool,
}

impl From<&Market> for MarketView {
    fn from(m: &Market) -> Self {
        Self {
            currency: m.currency.code(),
            prices_include_tax: m.prices_include_tax,
        }
    }
}

/// A price list.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = PriceList)]
pub(in crate::service) struct PriceListView {
    /// The id its prices are set under.
    id: i64,
    #[schema(example = "Spring sale")]
    name: String,
    #[schema(schema_with = currency_schema)]
    currency: &'static str,
    /// The customer group it is for; null for everyone.
    #[schema(required = true, example = "b2b")]
    group: Option<String>,
    /// When it starts to apply; null: always has.
    #[schema(required = true)]
    starts_at: Option<DateTime<Utc>>,
    /// When it stops (exclusive); null: never.
    #[schema(required = true)]
    ends_at: Option<DateTime<Utc>>,
}

impl From<&PriceList> for PriceListView {
    fn from(l: &PriceList) -> Self {
        Self {
            id: l.id.get(),
            name: l.name.as_str().to_owned(),
            currency: l.currency.code(),
            group: l.group.as_ref().map(|g| g.as_str().to_owned()),
            starts_at: l.starts_at,
            ends_at: l.ends_at,
        }
    }
}

/// A price of a list: a variant's unit price from a number of units on.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = ListPrice)]
pub(in crate::service) struct PriceEntryView {
    price_list_id: i64,
    variant_id: i64,
    /// The tier: the price applies from this many units in a line.
    min_quantity: u32,
    price: MoneyView,
}

fn entries(entries: &[PriceEntry]) -> Vec<PriceEntryView> {
    entries
        .iter()
        .map(|e| PriceEntryView {
            price_list_id: e.list.get(),
            variant_id: e.variant.get(),
            min_quantity: e.min_quantity,
            price: e.price.into(),
        })
        .collect()
}

/// A price list's prices, after they were replaced.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = ListPrices)]
pub(in crate::service) struct ListPricesView {
    /// By variant, then tier.
    prices: Vec<PriceEntryView>,
}

impl ListPricesView {
    pub(in crate::service) fn new(prices: &[PriceEntry]) -> Self {
        Self {
            prices: entries(prices),
        }
    }
}

/// A tax rate of the shop.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = TaxRate)]
pub(in crate::service) struct TaxRateView {
    #[schema(example = "DE standard")]
    name: String,
    #[schema(example = "DE")]
    country: String,
    /// The region it is for; null: the whole country.
    #[schema(required = true)]
    region: Option<String>,
    #[schema(schema_with = tax_class_schema)]
    class: &'static str,
    /// 0.19 for 19 %.
    #[schema(example = "0.19")]
    rate: String,
    valid_from: DateTime<Utc>,
    /// When it stops (exclusive); null: until replaced.
    #[schema(required = true)]
    valid_until: Option<DateTime<Utc>>,
}

impl From<&TaxRate> for TaxRateView {
    fn from(r: &TaxRate) -> Self {
        Self {
            name: r.name.as_str().to_owned(),
            country: r.country.as_str().to_owned(),
            region: r.region.as_ref().map(|r| r.as_str().to_owned()),
            class: r.class.as_str(),
            rate: rate_text(r.rate),
            valid_from: r.valid_from,
            valid_until: r.valid_until,
        }
    }
}

/// A country, or one region of it.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Area)]
pub(in crate::service) struct AreaView {
    #[schema(example = "US")]
    country: String,
    /// One region of it; null: all of it.
    #[schema(required = true, example = "NY")]
    region: Option<String>,
}

impl From<&Area> for AreaView {
    fn from(a: &Area) -> Self {
        Self {
            country: a.country.as_str().to_owned(),
            region: a.region.as_ref().map(|r| r.as_str().to_owned()),
        }
    }
}

/// Where a set of shipping methods delivers.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = ShippingZone)]
pub(in crate::service) struct ShippingZoneView {
    /// The id its methods name (`zone_id`).
    id: i64,
    #[schema(example = "Germany")]
    name: String,
    areas: Vec<AreaView>,
}

impl From<&ShippingZone> for ShippingZoneView {
    fn from(z: &ShippingZone) -> Self {
        Self {
            id: z.id.get(),
            name: z.name.as_str().to_owned(),
            areas: z.areas.iter().map(AreaView::from).collect(),
        }
    }
}

/// Up to a weight (inclusive), this price.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = WeightBand)]
pub(in crate::service) struct WeightBandView {
    up_to_grams: u64,
    price: MoneyView,
}

/// How a shipping method's price is set.
#[derive(Debug, Serialize, ToSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
#[schema(as = ShippingRate)]
pub(in crate::service) enum ShippingRateView {
    /// One price whatever the cart.
    Flat { price: MoneyView },
    /// By the cart's weight: the first band it fits; a heavier cart cannot go by
    /// the method.
    ByWeight { bands: Vec<WeightBandView> },
}

impl From<&ShippingRate> for ShippingRateView {
    fn from(r: &ShippingRate) -> Self {
        match r {
            ShippingRate::Flat { price } => ShippingRateView::Flat {
                price: (*price).into(),
            },
            ShippingRate::ByWeight { bands } => ShippingRateView::ByWeight {
                bands: bands
                    .iter()
                    .map(|b| WeightBandView {
                        up_to_grams: b.up_to_grams,
                        price: b.price.into(),
                    })
                    .collect(),
            },
        }
    }
}

/// A way to ship, in one zone.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = ShippingMethod)]
pub(in crate::service) struct ShippingMethodView {
    id: i64,
    zone_id: i64,
    /// What checkout names it by, unique within its zone.
    #[schema(example = "standard")]
    code: String,
    #[schema(example = "Standard (2-4 days)")]
    name: String,
    #[schema(schema_with = currency_schema)]
    currency: &'static str,
    rate: ShippingRateView,
    /// Carts worth at least this (as priced) ship free by it; null: never free.
    #[schema(required = true)]
    free_from: Option<MoneyView>,
    /// The tax class of its charge.
    #[schema(schema_with = tax_class_schema)]
    tax_class: &'static str,
}

impl From<&ShippingMethod> for ShippingMethodView {
    fn from(m: &ShippingMethod) -> Self {
        Self {
            id: m.id.get(),
            zone_id: m.zone.get(),
            code: m.code.as_str().to_owned(),
            name: m.name.as_str().to_owned(),
            currency: m.currency.code(),
            rate: (&m.rate).into(),
            free_from: m.free_from.map(MoneyView::from),
            tax_class: m.tax_class.as_str(),
        }
    }
}

/// A user's customer groups, after they were replaced.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = CustomerGroups)]
pub(in crate::service) struct CustomerGroupsView {
    user_id: i64,
    /// In the order given, repeats dropped.
    #[schema(example = json!(["b2b"]))]
    groups: Vec<String>,
}

impl CustomerGroupsView {
    pub(in crate::service) fn new(user: UserId, groups: &[Slug]) -> Self {
        Self {
            user_id: user.get(),
            groups: groups.iter().map(|g| g.as_str().to_owned()).collect(),
        }
    }
}

/// Everything the price book holds, each kind in id order.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = PriceBook)]
pub(in crate::service) struct PriceBookView {
    /// Currencies whose prices include tax or not; one not listed has net prices.
    markets: Vec<MarketView>,
    price_lists: Vec<PriceListView>,
    /// The lists' prices.
    prices: Vec<PriceEntryView>,
    tax_rates: Vec<TaxRateView>,
    shipping_zones: Vec<ShippingZoneView>,
    shipping_methods: Vec<ShippingMethodView>,
}

impl From<&PriceBook> for PriceBookView {
    fn from(b: &PriceBook) -> Self {
        Self {
            markets: b.markets.iter().map(MarketView::from).collect(),
            price_lists: b.lists.iter().map(PriceListView::from).collect(),
            prices: entries(&b.entries),
            tax_rates: b.taxes.rates().iter().map(TaxRateView::from).collect(),
            shipping_zones: b.zones.iter().map(ShippingZoneView::from).collect(),
            shipping_methods: b.methods.iter().map(ShippingMethodView::from).collect(),
        }
    }
}
