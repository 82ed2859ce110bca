//! The repository traits a store implements. Each method is one unit of work: a
//! PostgreSQL implementation runs it in one transaction, and it either happens whole
//! or not at all. [`crate::memory::MemoryStore`] is the reference implementation.
//!
//! Every trait has an `Error` that wraps [`DomainError`] (the business outcome) and
//! may add the store's own failures (connection lost, retry exhausted...).

use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};

use crate::account::{Address, NewAddress, NewUser, ProfileUpdate, User};
use crate::cart::{Cart, CartOwner};
use crate::catalog::{
    Attribute, AttributeDefinition, Browse, BrowseRequest, Category, Collection,
    CollectionProducts, Hit, NewCategory, NewCollection, NewProduct, NewVariant, Page, PageRequest,
    Product, ProductImage, ProductStatus, ProductUpdate, SearchCursor, SearchLanguage,
    SearchRequest, Sellable, Variant,
};
use crate::error::DomainError;
use crate::fulfillment::{
    Cancellation, CancelledUnits, NewCancellation, NewShipment, Shipment, ShipmentEvent, Tracking,
};
use crate::gift_card::{
    GiftCard, GiftCardCode, GiftCardEntry, IssuedGiftCard, NewGiftCard, RefundPriority, plan_refund,
};
use crate::ids::{
    AddressId, CancellationId, CartId, CartRef, CategoryId, CollectionId, GiftCardId, OrderId,
    OrderRef, PaymentId, PriceListId, ProductId, ReturnId, ShipmentId, StockLocationId, UserId,
    VariantId,
};
use crate::inventory::{
    InventoryEntry, InventoryLevel, NewStockLocation, Reservation, StockChange, StockLocation,
    StockTransfer,
};
use crate::money::{Currency, Money, MoneyError};
use crate::order::{Customer, Order, OrderEvent, OrderStatus};
use crate::password::Password;
use crate::payment::{
    Applied, Payment, PaymentAction, PaymentActionKind, PaymentError, PaymentEvent, order_accepts,
    other_statuses, plan_reduction,
};
use crate::pricing::{
    Destination, ListPrice, Market, NewPriceList, NewShippingMethod, NewShippingZone, OrderDraft,
    PriceBook, PriceEntry, PriceList, Quote, ShippingMethod, ShippingOption, ShippingZone,
    TaxClass, TaxRate,
};
use crate::promotion::{Coupon, NewCoupons, NewPromotion, Promotion};
use crate::returns::{NewReturn, Return, ReturnDecision, ReturnLine, ReturnReason, ReturnReceipt};
use crate::values::{
    CountryCode, CouponCode, Email, IdempotencyKey, PostalAddress, ProviderName, ProviderRef,
    Quantity, Reason, SessionToken, Sku, Slug, TokenDigest,
};

/// The error every repository method returns: a domain outcome or a store failure.
pub trait RepoError: std::error::Error + From<DomainError> + Send + Sync + 'static {
    /// The business outcome, if that is what this error is.
    fn domain(&self) -> Option<&DomainError>;
}

impl RepoError for DomainError {
    fn domain(&self) -> Option<&DomainError> {
        Some(self)
    }
}

/// Reading the catalog: everything a shop front shows. A read replica can serve it
/// (see the store's read handles), so it has no method that writes.
pub trait CatalogReader {
    /// The error type.
    type Error: RepoError;

    /// One category.
    fn category(&self, id: CategoryId) -> Result<Category, Self::Error>;
    /// The direct children of a category (or the roots for `None`), by name then id.
    fn category_children(&self, parent: Option<CategoryId>) -> Result<Vec<Category>, Self::Error>;
    /// The path from the root down to the category itself.
    fn category_path(&self, id: CategoryId) -> Result<Vec<Category>, Self::Error>;
    /// One product by id, with its variants.
    fn product(&self, id: ProductId) -> Result<Product, Self::Error>;
    /// One product by its slug, with its variants.
    fn product_by_slug(&self, slug: &Slug) -> Result<Product, Self::Error>;
    /// One variant, with what a sale needs of its product.
    fn variant(&self, id: VariantId) -> Result<Sellable, Self::Error>;
    /// One variant by SKU, with what a sale needs of its product.
    fn variant_by_sku(&self, sku: &Sku) -> Result<Sellable, Self::Error>;
    /// Active products of a category and all its subcategories, with their variants,
    /// by id, a page at a time.
    fn list_products(
        &self,
        category: CategoryId,
        page: PageRequest<ProductId>,
    ) -> Result<Page<Product, ProductId>, Self::Error>;
    /// Active products whose names resemble `query`, best match first.
    fn search_products(&self, query: &str, limit: u32) -> Result<Vec<Product>, Self::Error>;
    /// A page of a category listing with filters, a sort, the number of matching
    /// products and their facet counts ([`Browse::of`] says what it holds).
    fn browse(&self, request: BrowseRequest) -> Result<Browse, Self::Error>;
    /// Active products matching a search query, most relevant first, a page at a
    /// time. Products whose name, description or attribute and option values hold
    /// every word (the last as a prefix, each word as the shop's search language
    /// stems it) come first; when no product holds them, products whose names
    /// resemble the query (a typo) are the hits.
    fn search(&self, request: SearchRequest) -> Result<Page<Hit, SearchCursor>, Self::Error>;
    /// The attribute definitions, by name.
    fn attributes(&self) -> Result<Vec<AttributeDefinition>, Self::Error>;
    /// One collection by its slug, with its products' ids in order.
    fn collection(&self, slug: &Slug) -> Result<Collection, Self::Error>;
    /// The active products of a collection, in the collection's order, a page at a
    /// time; the key is a product's position in the collection.
    fn collection_products(
        &self,
        id: CollectionId,
        page: PageRequest<u32>,
    ) -> Result<Page<Product, u32>, Self::Error>;
}

/// Categories and products: the reads of [`CatalogReader`] and the writes.
pub trait CatalogRepository: CatalogReader {
    /// Creates a category (a root when `parent_id` is `None`).
    fn create_category(&self, new: NewCategory) -> Result<Category, Self::Error>;
    /// Moves a category (and its subtree) under another parent, refusing cycles.
    fn move_category(
        &self,
        id: CategoryId,
        new_parent: Option<CategoryId>,
    ) -> Result<Category, Self::Error>;
    /// Creates a product with its variants ([`NewProduct::checked`] rules).
    fn create_product(&self, new: NewProduct) -> Result<Product, Self::Error>;
    /// Changes descriptive fields.
    fn update_product(&self, id: ProductId, update: ProductUpdate) -> Result<Product, Self::Error>;
    /// Puts a product on or off sale (draft, active, archived).
    fn set_product_status(
        &self,
        id: ProductId,
        status: ProductStatus,
    ) -> Result<Product, Self::Error>;
    /// Adds a variant to a product: a combination of its options not taken yet,
    /// priced in the currency of its siblings.
    fn add_variant(&self, product: ProductId, new: NewVariant) -> Result<Variant, Self::Error>;
    /// Changes a variant's price (same currency; never negative).
    fn set_price(&self, id: VariantId, price: Money) -> Result<Variant, Self::Error>;
    /// Adds units to a variant's stock.
    fn restock(&self, id: VariantId, units: u32) -> Result<Variant, Self::Error>;
    /// Defines an attribute (its name unique ignoring case). Definitions are kept as
    /// defined: values already written stay valid.
    fn define_attribute(
        &self,
        definition: AttributeDefinition,
    ) -> Result<AttributeDefinition, Self::Error>;
    /// Replaces a product's attribute values, checked against the definitions.
    fn set_product_attributes(
        &self,
        id: ProductId,
        attributes: Vec<Attribute>,
    ) -> Result<Product, Self::Error>;
    /// Replaces a variant's own attribute values, checked against the definitions.
    fn set_variant_attributes(
        &self,
        id: VariantId,
        attributes: Vec<Attribute>,
    ) -> Result<Variant, Self::Error>;
    /// Replaces a product's images, checked by [`check_images`](crate::catalog::check_images).
    fn set_images(&self, id: ProductId, images: Vec<ProductImage>) -> Result<Product, Self::Error>;
    /// Creates an empty collection (its slug unique among collections).
    fn create_collection(&self, new: NewCollection) -> Result<Collection, Self::Error>;
    /// Replaces a collection's products (each must exist), in order.
    fn set_collection_products(
        &self,
        id: CollectionId,
        products: CollectionProducts,
    ) -> Result<Collection, Self::Error>;
    /// Sets the language full-text search applies, and re-indexes the catalog in it.
    fn set_search_language(&self, language: SearchLanguage) -> Result<(), Self::Error>;
}

/// Prices, tax and shipping as data: what the back office sets, and a cart priced
/// with it (its market, its price lists for its owner's groups, per-line tax, a
/// shipping method). Prices are the [`PriceBook`]'s rules, now.
pub trait PriceBookRepository {
    /// The error type.
    type Error: RepoError;

    /// Sets whether a currency's prices include tax; a currency without a market
    /// has net prices.
    fn set_market(&self, market: Market) -> Result<Market, Self::Error>;
    /// Creates a price list ([`PriceList::checked`] rules).
    fn create_price_list(&self, new: NewPriceList) -> Result<PriceList, Self::Error>;
    /// Replaces a price list's prices: each in its currency, not negative, a tier
    /// of 1 or more, once per variant and tier, for a variant that exists.
    fn set_list_prices(
        &self,
        list: PriceListId,
        prices: Vec<ListPrice>,
    ) -> Result<Vec<PriceEntry>, Self::Error>;
    /// Sets a product's tax class (standard when never set).
    fn set_tax_class(&self, product: ProductId, class: TaxClass) -> Result<(), Self::Error>;
    /// Adds a tax rate; refused when it overlaps another rate of its country,
    /// region and class.
    fn add_tax_rate(&self, rate: TaxRate) -> Result<TaxRate, Self::Error>;
    /// Creates a shipping zone.
    fn create_shipping_zone(&self, new: NewShippingZone) -> Result<ShippingZone, Self::Error>;
    /// Creates a shipping method in a zone (its code unique within the zone).
    fn create_shipping_method(&self, new: NewShippingMethod)
    -> Result<ShippingMethod, Self::Error>;
    /// Replaces a user's customer groups (at most [`MAX_GROUPS`], repeats dropped).
    fn set_customer_groups(
        &self,
        user: UserId,
        groups: Vec<Slug>,
    ) -> Result<Vec<Slug>, Self::Error>;
    /// Everything the price book holds: markets, lists with their entries, rates,
    /// zones and methods, each in id order.
    fn price_book(&self) -> Result<PriceBook, Self::Error>;
    /// The shipping methods that take the cart to `to`, with their prices for it,
    /// cheapest first.
    fn shipping_options(
        &self,
        cart: CartId,
        to: &Destination,
    ) -> Result<Vec<ShippingOption>, Self::Error>;
    /// The cart quoted for delivery to `to` by the method `code`.
    fn quote_cart(&self, cart: CartId, to: &Destination, code: &Slug)
    -> Result<Quote, Self::Error>;
}

/// Promotions and their coupon codes: the back office's.
pub trait PromotionRepository {
    /// The error type.
    type Error: RepoError;

    /// Creates a promotion ([`NewPromotion::checked`] rules).
    fn create_promotion(&self, new: NewPromotion) -> Result<Promotion, Self::Error>;
    /// Every promotion, by id.
    fn promotions(&self) -> Result<Vec<Promotion>, Self::Error>;
    /// Creates codes of a promotion: the ones given (each new), or random ones
    /// (unique); returns them, in the order given.
    fn create_coupons(&self, new: NewCoupons) -> Result<Vec<CouponCode>, Self::Error>;
    /// One code, with its uses.
    fn coupon(&self, code: &CouponCode) -> Result<Coupon, Self::Error>;
}

/// The most customer groups one user is in.
pub const MAX_GROUPS: usize = 20;

/// `groups` without repeats, in the order given; refused past [`MAX_GROUPS`].
pub fn distinct_groups(groups: Vec<Slug>) -> Result<Vec<Slug>, DomainError> {
    let mut distinct: Vec<Slug> = Vec::with_capacity(groups.len());
    for g in groups {
        if !distinct.contains(&g) {
            distinct.push(g);
        }
    }
    if distinct.len() > MAX_GROUPS {
        return Err(DomainError::TooManyGroups(distinct.len()));
    }
    Ok(distinct)
}

/// Users, credentials and address books.
pub trait AccountRepository {
    /// The error type.
    type Error: RepoError;

    /// Creates a user; the password is hashed with argon2id.
    fn register(&self, new: NewUser) -> Result<User, Self::Error>;
    /// The user with this e-mail and password; the same error, at the same cost, for
    /// an unknown e-mail and a wrong password.
    fn authenticate(&self, email: &Email, password: &Password) -> Result<User, Self::Error>;
    /// One user.
    fn user(&self, id: UserId) -> Result<User, Self::Error>;
    /// Changes e-mail or name.
    fn update_profile(&self, id: UserId, update: ProfileUpdate) -> Result<User, Self::Error>;
    /// Changes the password after checking the current one.
    fn change_password(
        &self,
        id: UserId,
        current: &Password,
        new: &Password,
    ) -> Result<(), Self::Error>;
    /// Adds an address; the first of its kind becomes the default.
    fn add_address(&self, user: UserId, new: NewAddress) -> Result<Address, Self::Error>;
    /// Replaces an address's postal fields.
    fn update_address(
        &self,
        user: UserId,
        id: AddressId,
        postal: PostalAddress,
    ) -> Result<Address, Self::Error>;
    /// Removes an address; if it was the default, the newest other of its kind takes over.
    fn remove_address(&self, user: UserId, id: AddressId) -> Result<(), Self::Error>;
    /// Makes an address the one default of its kind.
    fn set_default_address(&self, user: UserId, id: AddressId) -> Result<Address, Self::Error>;
    /// A user's addresses, by id.
    fn addresses(&self, user: UserId) -> Result<Vec<Address>, Self::Error>;
}

/// Carts.
pub trait CartRepository {
    /// The error type.
    type Error: RepoError;

    /// The owner's open cart, created empty if there is none.
    fn open_cart(&self, owner: &CartOwner, currency: Currency) -> Result<Cart, Self::Error>;
    /// One cart.
    fn cart(&self, id: CartId) -> Result<Cart, Self::Error>;
    /// Adds units of a variant (summing with its line if there is one).
    fn add_item(
        &self,
        cart: CartId,
        variant: VariantId,
        quantity: Quantity,
    ) -> Result<Cart, Self::Error>;
    /// Sets the quantity of a variant in the cart.
    fn set_quantity(
        &self,
        cart: CartId,
        variant: VariantId,
        quantity: Quantity,
    ) -> Result<Cart, Self::Error>;
    /// Removes a variant from the cart.
    fn remove_item(&self, cart: CartId, variant: VariantId) -> Result<Cart, Self::Error>;
    /// Empties the cart.
    fn clear_cart(&self, cart: CartId) -> Result<Cart, Self::Error>;
    /// Gives a guest's cart to a user. If the user already has an open cart, the
    /// guest's lines are merged into it and the guest cart is abandoned.
    fn attach_cart(&self, cart: CartId, user: UserId) -> Result<Cart, Self::Error>;
    /// The cart priced with current product data.
    fn price_cart(&self, cart: CartId, ship_to: CountryCode) -> Result<OrderDraft, Self::Error>;
}

/// Where a checkout ships or bills to.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum AddressChoice {
    /// An address from the user's book.
    Saved(AddressId),
    /// An address typed at checkout (guests).
    Given(PostalAddress),
}

/// Everything a checkout needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckoutRequest {
    /// The cart to turn into an order.
    pub cart_id: CartId,
    /// Where to ship.
    pub shipping: AddressChoice,
    /// Where to bill.
    pub billing: AddressChoice,
    /// Contact for a guest cart (ignored for a user's cart).
    pub guest_email: Option<Email>,
    /// The payment provider to create the pending payment with.
    pub provider: ProviderName,
    /// The shipping method chosen (one of the cart's shipping options): the order
    /// is priced from the price book, with per-line tax, promotions and an
    /// invoice. `None`: priced by the store's flat rules
    /// ([`StoreRules::pricing`](crate::rules::StoreRules::pricing)), no promotions.
    pub shipping_method: Option<Slug>,
    /// Coupon codes (at most [`MAX_CODES_PER_CHECKOUT`](crate::promotion::MAX_CODES_PER_CHECKOUT),
    /// distinct): each must apply, or the checkout is refused with the reason
    /// ([`CouponError`](crate::promotion::CouponError)).
    pub coupon_codes: Vec<CouponCode>,
    /// Gift cards to pay with, in this order (at most
    /// [`MAX_CARDS_PER_CHECKOUT`](crate::gift_card::MAX_CARDS_PER_CHECKOUT),
    /// distinct): each pays what its balance covers of what is still due, and the
    /// provider's payment is what they leave (none when they pay it all).
    pub gift_cards: Vec<GiftCardCode>,
    /// Repeat the call with the same key and get the same order back.
    pub idempotency_key: IdempotencyKey,
}

impl CheckoutRequest {
    /// Who the order is for: the cart's user, or a guest at the request's e-mail
    /// address (which a guest's checkout must give).
    pub fn customer(&self, owner: &CartOwner) -> Result<Customer, DomainError> {
        match owner {
            CartOwner::User(user) => Ok(Customer::User(*user)),
            CartOwner::Guest(_) => self
                .guest_email
                .clone()
                .map(Customer::Guest)
                .ok_or(DomainError::GuestEmailRequired),
        }
    }

    /// A SHA-256 over everything but the key: two calls with the same key must carry
    /// the same fingerprint, or the second is an idempotency conflict.
    pub fn fingerprint(&self) -> [u8; 32] {
        let mut h = Sha256::new();
        let mut field = |bytes: &[u8]| {
            h.update((bytes.len() as u64).to_be_bytes());
            h.update(bytes);
        };
        field(&self.cart_id.get().to_be_bytes());
        for choice in [&self.shipping, &self.billing] {
            match choice {
                AddressChoice::Saved(id) => {
                    field(b"saved");
                    field(&id.get().to_be_bytes());
                }
                AddressChoice::Given(a) => {
                    let raw = a.to_raw();
                    field(b"given");
                    for part in [
                        &raw.recipient,
                        &raw.line1,
                        &raw.line2,
                        &raw.city,
                        &raw.region,
                        &raw.postal_code,
                        &raw.country,
                    ] {
                        field(part.as_bytes());
                    }
                }
            }
        }
        field(
            self.guest_email
                .as_ref()
                .map(Email::normalized)
                .unwrap_or_default()
                .as_bytes(),
        );
        field(self.provider.as_str().as_bytes());
        // Only when chosen: a key kept before methods existed keeps its fingerprint.
        if let Some(method) = &self.shipping_method {
            field(b"method");
            field(method.as_str().as_bytes());
        }
        for code in &self.coupon_codes {
            field(b"coupon");
            field(code.as_str().as_bytes());
        }
        for card in &self.gift_cards {
            field(b"gift card");
            field(&card.digest());
        }
        h.finalize().into()
    }
}

/// A finished checkout.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkout {
    /// The order placed.
    pub order: Order,
    /// The payment the provider is to take: the grand total, less what gift cards
    /// paid. `None` when gift cards paid it all (the order is paid already).
    pub payment: Option<Payment>,
    /// The payments of the gift cards given, in their order, captured.
    pub gift_card_payments: Vec<Payment>,
    /// True when this is a replay of an earlier call with the same key.
    pub replayed: bool,
}

impl Checkout {
    /// The payment the provider takes; not found when gift cards paid it all.
    pub fn provider_payment(&self) -> Result<&Payment, DomainError> {
        self.payment
            .as_ref()
            .ok_or_else(|| DomainError::not_found("provider payment of order", self.order.id))
    }

    /// All the order's payments: the gift cards', then the provider's.
    pub fn payments(&self) -> Vec<Payment> {
        let mut all = self.gift_card_payments.clone();
        all.extend(self.payment.clone());
        all
    }
}

/// Checkout and the sweeps around it.
pub trait CheckoutRepository {
    /// The error type.
    type Error: RepoError;

    /// Turns a cart into an order, all or nothing: prices it, reserves stock (never
    /// below zero), snapshots names, prices and addresses, creates the pending
    /// payment, marks the cart converted. Idempotent by the request's key.
    fn checkout(&self, request: &CheckoutRequest) -> Result<Checkout, Self::Error>;
    /// Expires pending orders whose payment deadline is before `now`, voids their
    /// payments and puts their stock back, each exactly once; returns the orders it
    /// expired. Each order is expired on its own: one that cannot be (its change is
    /// refused) is skipped and left as it was, and the others still expire.
    fn expire_unpaid_orders(&self, now: DateTime<Utc>) -> Result<Vec<OrderId>, Self::Error>;
    /// Forgets the idempotency keys whose retention
    /// ([`IDEMPOTENCY_RETENTION`](crate::rules::IDEMPOTENCY_RETENTION)) ended before
    /// `now`; returns how many. A sweep calls it with the current time.
    fn purge_idempotency_keys(&self, now: DateTime<Utc>) -> Result<u64, Self::Error>;
}

/// A position in a listing of orders by creation time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct OrderCursor {
    /// Creation time of the last order seen.
    pub created_at: DateTime<Utc>,
    /// Its id, to break ties.
    pub id: OrderId,
}

/// An order in a listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderSummary {
    /// The order.
    pub id: OrderId,
    /// How its customer names it.
    pub reference: OrderRef,
    /// Its status.
    pub status: OrderStatus,
    /// Its grand total.
    pub grand_total: Money,
    /// How many lines it has.
    pub line_count: u32,
    /// When it was placed.
    pub created_at: DateTime<Utc>,
}

impl OrderSummary {
    /// The cursor that continues a listing after this order.
    pub fn cursor(&self) -> OrderCursor {
        OrderCursor {
            created_at: self.created_at,
            id: self.id,
        }
    }
}

/// An order with its payments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderDetails {
    /// The order, lines and history.
    pub order: Order,
    /// Its payments.
    pub payments: Vec<Payment>,
}

/// Reading orders: one order, a user's history, a fulfilment queue. A read replica can
/// serve it, so it has no method that writes.
pub trait OrderReader {
    /// The error type.
    type Error: RepoError;

    /// One order with lines, history and payments.
    fn order(&self, id: OrderId) -> Result<OrderDetails, Self::Error>;
    /// A user's orders, newest first.
    fn orders_of_user(
        &self,
        user: UserId,
        page: PageRequest<OrderCursor>,
    ) -> Result<Page<OrderSummary, OrderCursor>, Self::Error>;
    /// Orders in a status, oldest first (for fulfilment queues).
    fn orders_in_status(
        &self,
        status: OrderStatus,
        page: PageRequest<OrderCursor>,
    ) -> Result<Page<OrderSummary, OrderCursor>, Self::Error>;
}

/// Orders after checkout: the reads of [`OrderReader`] and the fulfilment events.
pub trait OrderRepository: OrderReader {
    /// Applies a fulfilment event (ship, deliver, cancel) with an optional note.
    /// Cancelling puts the stock back and voids or refunds the payment.
    fn transition(
        &self,
        id: OrderId,
        event: OrderEvent,
        note: Option<String>,
    ) -> Result<Order, Self::Error>;
    /// Gives money back on a paid, shipped or delivered order: spread over its
    /// payments (gift cards first, by default; see
    /// [`StoreRules::refund_priority`](crate::rules::StoreRules::refund_priority)),
    /// a gift card's part put back on the card. All refunded: the order is refunded.
    fn refund(&self, id: OrderId, refund: OrderRefund) -> Result<RefundOutcome, Self::Error>;
}

/// Gift cards: issuing them, and reading their balances and ledgers.
pub trait GiftCardRepository {
    /// The error type.
    type Error: RepoError;

    /// Issues a card with a new random code, returned here and never again.
    fn issue_gift_card(&self, new: NewGiftCard) -> Result<IssuedGiftCard, Self::Error>;
    /// The card with this code (its balance, for a customer who holds the code).
    fn gift_card(&self, code: &GiftCardCode) -> Result<GiftCard, Self::Error>;
    /// A card by id, for the back office.
    fn gift_card_by_id(&self, id: GiftCardId) -> Result<GiftCard, Self::Error>;
    /// A card's ledger, oldest first: its issue, redemptions and refunds.
    fn gift_card_ledger(&self, id: GiftCardId) -> Result<Vec<GiftCardEntry>, Self::Error>;
}

/// Stock per location: the locations, each variant's level at each, and the
/// ledger every change of a level is a row of. A level is made by its first
/// change; each change locks it, so concurrent changes of one level queue and each
/// sees what the one before left.
pub trait InventoryRepository {
    /// The error type.
    type Error: RepoError;

    /// Adds a stock location.
    fn add_stock_location(&self, new: NewStockLocation) -> Result<StockLocation, Self::Error>;
    /// Every stock location, by priority then id.
    fn stock_locations(&self) -> Result<Vec<StockLocation>, Self::Error>;
    /// A receipt or an adjustment ([`StockChange::checked`]) of one level, booked in
    /// its ledger; the level after it. The location and the variant must exist.
    fn change_stock(&self, change: StockChange) -> Result<InventoryLevel, Self::Error>;
    /// Units moved between two locations, out of one level and into the other,
    /// both booked, in one transaction; the levels after it (from, to).
    fn transfer_stock(
        &self,
        transfer: StockTransfer,
    ) -> Result<(InventoryLevel, InventoryLevel), Self::Error>;
    /// Sets the units a level keeps back.
    fn set_safety_stock(
        &self,
        location: StockLocationId,
        variant: VariantId,
        units: u32,
    ) -> Result<InventoryLevel, Self::Error>;
    /// A variant's levels, by location id.
    fn inventory_levels(&self, variant: VariantId) -> Result<Vec<InventoryLevel>, Self::Error>;
    /// One level's ledger, oldest first.
    fn inventory_ledger(
        &self,
        location: StockLocationId,
        variant: VariantId,
    ) -> Result<Vec<InventoryEntry>, Self::Error>;
    /// Where checkout reserved an order's units, by line number then location id;
    /// empty for an order of variants kept as one count. The reservations stay as
    /// a record once released.
    fn order_reservations(&self, order: OrderId) -> Result<Vec<Reservation>, Self::Error>;
}

/// What a change of a shipment did: the shipment after it, and its order's status
/// after the order followed it ([`order_events`](crate::fulfillment::order_events)).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShipmentChange {
    /// The shipment after the change.
    pub shipment: Shipment,
    /// Its order's status after the change.
    pub order_status: OrderStatus,
}

/// Shipments: an order's units leaving its stock locations, and the order's status
/// following them. Each change locks the order, then the shipment, then the levels
/// its units leave, so that two shipments of one order queue.
pub trait FulfillmentRepository {
    /// The error type.
    type Error: RepoError;

    /// Creates a pending shipment of a paid or partially shipped order, from one
    /// location, of units its lines may still ship from there
    /// ([`check_shipment`](crate::fulfillment::check_shipment)).
    /// The same key again is a replay ([`shipment_replay`]), checked first.
    fn create_shipment(&self, new: NewShipment) -> Result<ShipmentCreated, Self::Error>;
    /// Moves a shipment through its state machine: shipping takes its reserved
    /// units out of their levels through the ledger; the order's status follows
    /// (each of its transitions in its history and the outbox).
    fn change_shipment(
        &self,
        id: ShipmentId,
        event: ShipmentEvent,
    ) -> Result<ShipmentChange, Self::Error>;
    /// Sets a shipment's carrier and tracking (until it is delivered).
    fn track_shipment(&self, id: ShipmentId, tracking: Tracking) -> Result<Shipment, Self::Error>;
    /// A shipment.
    fn shipment(&self, id: ShipmentId) -> Result<Shipment, Self::Error>;
    /// An order's shipments, oldest first.
    fn order_shipments(&self, order: OrderId) -> Result<Vec<Shipment>, Self::Error>;
    /// Cancels units of a paid or partially shipped order before they ship
    /// ([`check_cancellation`](crate::fulfillment::check_cancellation)): their
    /// reservations are released through the ledger (or the units go back onto
    /// their variants' own counts), and their share of what was paid
    /// ([`cancellation_refund_due`](crate::returns::cancellation_refund_due), at
    /// most what the payments still hold) is refunded through the payments, as
    /// [`OrderRepository::refund`] books it, under the store's own key for the
    /// cancellation. The order's status then follows its shipments. The same
    /// key again is a replay ([`cancellation_replay`]), checked first.
    fn cancel_units(&self, new: NewCancellation) -> Result<UnitsCancelled, Self::Error>;
    /// An order's cancellations, oldest first.
    fn order_cancellations(&self, order: OrderId) -> Result<Vec<Cancellation>, Self::Error>;
}

/// What creating a shipment did: the shipment, and whether it is new (a retry
/// with the same key creates nothing).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShipmentCreated {
    /// The shipment, as it is now.
    pub shipment: Shipment,
    /// [`Applied::Duplicate`] when it was created before with its key.
    pub applied: Applied,
}

/// The shipment among an order's `shipments` that `new` asks for again (the same
/// key, location and units of the same lines), if any, whatever happened to it
/// since; the same key for another location or other units is an
/// [`DomainError::IdempotencyConflict`].
pub fn shipment_replay(
    new: &NewShipment,
    shipments: &[Shipment],
) -> Result<Option<Shipment>, DomainError> {
    let Some(done) = shipments.iter().find(|s| s.key.as_ref() == Some(&new.key)) else {
        return Ok(None);
    };
    let same = done.location == new.location
        && same_units(
            new.lines.iter().map(|l| (l.line_no, l.quantity.get())),
            done.lines.iter().map(|l| (l.line_no, l.quantity.get())),
        );
    if !same {
        return Err(DomainError::IdempotencyConflict {
            key: new.key.as_str().to_owned(),
        });
    }
    Ok(Some(done.clone()))
}

/// What cancelling units of an order did: the cancellation, the order's
/// payments and status after its refund, and whether anything changed (a retry
/// with the same key changes nothing).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnitsCancelled {
    /// The cancellation, with what it refunded.
    pub cancellation: Cancellation,
    /// The order's payments after the refund.
    pub payments: Vec<Payment>,
    /// The order's status after the refund and its shipments.
    pub order_status: OrderStatus,
    /// [`Applied::Duplicate`] when the cancellation was made before with its key.
    pub applied: Applied,
}

/// What receiving a return did: the return after it, the order's payments and
/// status after its refund, and whether anything changed (a replay of the same
/// receipt changes nothing).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReturnReceived {
    /// The return, received.
    pub ret: Return,
    /// The order's payments after the refund.
    pub payments: Vec<Payment>,
    /// The order's status after the refund.
    pub order_status: OrderStatus,
    /// [`Applied::Duplicate`] when the return was received before with this receipt.
    pub applied: Applied,
}

/// Returns (RMAs): asked for by a customer ([`CustomerRepository::request_return_of`])
/// or by the shop, decided by the shop, received at a location. Each change locks
/// the order, then the return, then the levels it restocks, so that the returns
/// of one order queue, and a return is received, restocked and refunded once.
pub trait ReturnRepository {
    /// The error type.
    type Error: RepoError;

    /// Asks for units of an order that left to come back
    /// ([`check_return`](crate::returns::check_return)).
    fn request_return(&self, new: NewReturn) -> Result<Return, Self::Error>;
    /// Approves or rejects a requested return.
    fn decide_return(&self, id: ReturnId, decision: ReturnDecision) -> Result<Return, Self::Error>;
    /// Receives an approved return's units: sellable units go back on the shelf
    /// through the inventory ledger ([`restock`](crate::returns::restock)), and
    /// their share of what was paid ([`refund_due`](crate::returns::refund_due),
    /// at most what the payments still hold) is refunded through the payments, as
    /// [`OrderRepository::refund`] books it, under the store's own key for the
    /// return. Receiving it again with the same receipt is a replay.
    fn receive_return(
        &self,
        id: ReturnId,
        receipt: ReturnReceipt,
    ) -> Result<ReturnReceived, Self::Error>;
    /// A return.
    fn find_return(&self, id: ReturnId) -> Result<Return, Self::Error>;
    /// An order's returns, oldest first.
    fn order_returns(&self, order: OrderId) -> Result<Vec<Return>, Self::Error>;
}

/// The refund a received return books, if it gives anything back: what it is
/// due, at most what the order's payments still hold, as an amount under the
/// store's own key for the return.
pub fn return_refund(
    order: &Order,
    payments: &[Payment],
    ret: &Return,
    returns: &[Return],
    cancellations: &[Cancellation],
    receipt: &ReturnReceipt,
) -> Result<Option<OrderRefund>, DomainError> {
    let due = crate::returns::refund_due(order, ret, returns, cancellations, receipt)?;
    capped_refund(
        order,
        payments,
        due,
        crate::returns::ledger_reason(ret.id),
        crate::returns::refund_key(ret.id),
    )
}

/// How a cancellation gives back its units' share of the order's price
/// ([`cancellation_refund_due`](crate::returns::cancellation_refund_due)), as
/// [`cancellation_settlement`] decides from the order's status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CancellationSettlement {
    /// The order is not paid yet: the share is taken off what its provider's
    /// payments are due, each [`PaymentAction::Reduce`] booked on its payment
    /// (none when the share is nothing).
    Reduce(Vec<(PaymentId, PaymentEvent)>),
    /// The order is paid: the share is refunded as [`OrderRepository::refund`]
    /// books it (`None` when the payments hold nothing).
    Refund(Option<OrderRefund>),
}

/// What cancellation `id` of `units` of `order` books on its `payments`: a
/// reduction of what is due while the order waits for payment (spread by
/// [`plan_reduction`], refused with [`PaymentError::OverReduce`] when it would
/// leave a payment nothing due or less than it captured), a refund once it is
/// paid (at most what the payments hold); both under the store's own key for the
/// cancellation. The one place that chooses, for every store.
pub fn cancellation_settlement(
    order: &Order,
    payments: &[Payment],
    id: CancellationId,
    units: &[CancelledUnits],
    returns: &[Return],
    cancellations: &[Cancellation],
) -> Result<CancellationSettlement, DomainError> {
    Ok(if order.status == OrderStatus::PendingPayment {
        CancellationSettlement::Reduce(cancellation_reduction(
            order,
            payments,
            id,
            units,
            returns,
            cancellations,
        )?)
    } else {
        CancellationSettlement::Refund(cancellation_refund(
            order,
            payments,
            id,
            units,
            returns,
            cancellations,
        )?)
    })
}

/// The refund cancellation `id` of `units` books, if it gives anything back:
/// their share of what was paid, at most what the order's payments still hold,
/// under the store's own key for the cancellation.
fn cancellation_refund(
    order: &Order,
    payments: &[Payment],
    id: CancellationId,
    units: &[CancelledUnits],
    returns: &[Return],
    cancellations: &[Cancellation],
) -> Result<Option<OrderRefund>, DomainError> {
    let due = crate::returns::cancellation_refund_due(order, units, returns, cancellations)?;
    capped_refund(
        order,
        payments,
        due,
        crate::fulfillment::cancellation_reason(id),
        crate::fulfillment::cancellation_refund_key(id),
    )
}

/// What cancellation `id` of `units` of an order not yet paid takes off its
/// payments' amounts due: their share of the order's price
/// ([`cancellation_refund_due`](crate::returns::cancellation_refund_due)) as
/// [`PaymentAction::Reduce`] events under the store's own key for the
/// cancellation, planned by [`plan_reduction`]. Refused
/// ([`PaymentError::OverReduce`]) when that would leave a payment nothing due, or
/// less than it captured (an order mostly paid by gift cards): such an order is
/// cancelled whole, or its units once it is paid.
fn cancellation_reduction(
    order: &Order,
    payments: &[Payment],
    id: CancellationId,
    units: &[CancelledUnits],
    returns: &[Return],
    cancellations: &[Cancellation],
) -> Result<Vec<(PaymentId, PaymentEvent)>, DomainError> {
    let due = crate::returns::cancellation_refund_due(order, units, returns, cancellations)?;
    if due.is_zero() {
        return Ok(Vec::new());
    }
    let key = crate::fulfillment::cancellation_refund_key(id);
    Ok(plan_reduction(payments, due)?
        .into_iter()
        .map(|(payment, amount)| {
            let action = PaymentAction::Reduce { amount };
            (
                payment,
                PaymentEvent {
                    key: key.clone(),
                    action,
                },
            )
        })
        .collect())
}

/// The event an order not yet paid takes after a cancellation lowered what its
/// payments are due: paid, when what is still due was captured already
/// ([`Payment::order_event`]).
pub fn reduction_order_event(payments: &[Payment], order: OrderStatus) -> Option<OrderEvent> {
    payments
        .iter()
        .find_map(|p| p.order_event(order, &other_statuses(payments, p.id)))
}

/// The cancellation among an order's `cancellations` that `new` asks for again
/// (the same key and the same units of the same lines), if any; the same key for
/// other units is an [`DomainError::IdempotencyConflict`].
pub fn cancellation_replay(
    new: &NewCancellation,
    cancellations: &[Cancellation],
) -> Result<Option<Cancellation>, DomainError> {
    let Some(done) = cancellations.iter().find(|c| c.key == new.key) else {
        return Ok(None);
    };
    let same = same_units(
        new.lines.iter().map(|l| (l.line_no, l.quantity.get())),
        done.lines().iter().map(|l| (l.line_no, l.quantity.get())),
    );
    if !same {
        return Err(DomainError::IdempotencyConflict {
            key: new.key.as_str().to_owned(),
        });
    }
    Ok(Some(done.clone()))
}

/// Whether the units `asked` (line, units; in any order) are those `done` holds
/// (by line number): a request asked for again.
fn same_units(
    asked: impl Iterator<Item = (u16, u32)>,
    done: impl Iterator<Item = (u16, u32)>,
) -> bool {
    let mut asked: Vec<(u16, u32)> = asked.collect();
    asked.sort_unstable();
    done.eq(asked)
}

/// `due`, at most what `payments` still hold, as a refund under `key`; `None`
/// when that is nothing.
fn capped_refund(
    order: &Order,
    payments: &[Payment],
    due: Money,
    reason: Option<Reason>,
    key: IdempotencyKey,
) -> Result<Option<OrderRefund>, DomainError> {
    let mut held = Money::zero(order.currency);
    for p in payments {
        held = held.checked_add(p.captured.checked_sub(p.refunded)?)?;
    }
    let amount = if due.try_cmp(&held)?.is_gt() {
        held
    } else {
        due
    };
    if amount.is_zero() || amount.is_negative() {
        return Ok(None);
    }
    Ok(Some(OrderRefund {
        of: RefundOf::Amount(amount),
        reason,
        key,
    }))
}

/// How much of an order a refund gives back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RefundOf {
    /// An amount, in the order's currency.
    Amount(Money),
    /// What the customer paid for one line ([`Order::paid_for_line`]): its amount
    /// less its discount, with its tax. A line is refunded once: asking again
    /// changes nothing.
    Line(u16),
}

/// A refund of an order, spread over its payments by the store's
/// [`RefundPriority`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderRefund {
    /// How much.
    pub of: RefundOf,
    /// Why, for the records.
    pub reason: Option<Reason>,
    /// The same key again is the same refund ([`RefundOf::Line`] refunds use the
    /// store's own key for the line instead).
    pub key: IdempotencyKey,
}

impl OrderRefund {
    /// The key each payment's refund event is booked under.
    pub fn event_key(&self) -> IdempotencyKey {
        match self.of {
            RefundOf::Amount(_) => self.key.clone(),
            RefundOf::Line(line_no) => IdempotencyKey::reserved(&format!("refund-line:{line_no}")),
        }
    }
}

/// What a refund books: nothing (the same refund was booked before), or one
/// refund event per payment that gives something back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RefundPlan {
    /// The same refund (same key, same amount) was booked before.
    Replay,
    /// The events to book, by payment.
    Book(Vec<(PaymentId, PaymentEvent)>),
}

impl OrderRefund {
    /// Decides a refund of `order` over its `payments`: the amount (a line's share,
    /// or the one given), the same refund again, or the events that book it in
    /// `priority`'s order. Refused when the order takes no refund, the line is
    /// not one to refund, the key was used for another amount, or the payments
    /// hold less than the amount.
    pub fn plan(
        &self,
        order: &Order,
        payments: &[Payment],
        priority: RefundPriority,
    ) -> Result<RefundPlan, DomainError> {
        let amount = match self.of {
            RefundOf::Amount(amount) => amount,
            RefundOf::Line(line_no) => {
                order
                    .paid_for_line(line_no)
                    .ok_or(DomainError::NoRefundableLine {
                        order_id: order.id,
                        line_no,
                    })?
            }
        };
        if amount.currency() != order.currency {
            return Err(MoneyError::CurrencyMismatch {
                left: order.currency,
                right: amount.currency(),
            }
            .into());
        }
        let key = self.event_key();
        let booked: Vec<Money> = payments
            .iter()
            .flat_map(|p| &p.events)
            .filter(|e| e.key == key)
            .filter_map(|e| e.action.amount())
            .collect();
        if !booked.is_empty() {
            let sum = Money::sum(amount.currency(), &booked)?;
            return if sum == amount {
                Ok(RefundPlan::Replay)
            } else {
                Err(PaymentError::KeyReused(key.as_str().to_owned()).into())
            };
        }
        if !order_accepts(order.status, PaymentActionKind::Refund) {
            return Err(DomainError::OrderNotPayable {
                order_id: order.id,
                status: order.status,
            });
        }
        let events = plan_refund(payments, amount, priority)?
            .into_iter()
            .map(|(payment, part)| {
                let action = PaymentAction::Refund {
                    amount: part,
                    reason: self.reason.clone(),
                };
                let key = key.clone();
                (payment, PaymentEvent { key, action })
            })
            .collect();
        Ok(RefundPlan::Book(events))
    }
}

impl RefundPlan {
    /// The event the order takes after the refund was booked, from its payments
    /// as they are then: refunded once every payment is
    /// ([`Payment::order_event`]).
    pub fn order_event(payments: &[Payment], order: OrderStatus) -> Option<OrderEvent> {
        let last = payments.last()?;
        last.order_event(order, &other_statuses(payments, last.id))
    }
}

/// What a refund did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefundOutcome {
    /// The order's payments after it.
    pub payments: Vec<Payment>,
    /// The order's status after it.
    pub order_status: OrderStatus,
    /// Whether it was new, or the same refund again.
    pub applied: Applied,
}

/// The result of recording a payment event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaymentOutcome {
    /// The payment after the event.
    pub payment: Payment,
    /// The order's status after the event.
    pub order_status: OrderStatus,
    /// Whether the event was new or a duplicate.
    pub applied: Applied,
}

/// Payments.
pub trait PaymentRepository {
    /// The error type.
    type Error: RepoError;

    /// Records a provider report; a repeat of an applied report changes nothing. The
    /// order follows: fully captured → paid, fully refunded → refunded.
    fn record_payment_event(
        &self,
        payment: PaymentId,
        event: PaymentEvent,
    ) -> Result<PaymentOutcome, Self::Error>;
    /// One payment with its events.
    fn payment(&self, id: PaymentId) -> Result<Payment, Self::Error>;
    /// The payment a provider knows by this reference.
    fn payment_by_provider_ref(
        &self,
        provider: &ProviderName,
        reference: &ProviderRef,
    ) -> Result<Payment, Self::Error>;
}

/// A session just started. Its token is in the clear here and nowhere else: the
/// store keeps its digest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    /// The bearer token to give the client.
    pub token: SessionToken,
    /// The user signed in, or none for a guest.
    pub user: Option<UserId>,
    /// When it ends unless ended before.
    pub expires_at: DateTime<Utc>,
}

/// Who holds a live session: a user, or a guest known by the session token's digest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Caller {
    /// A signed-in user.
    User(UserId),
    /// A guest.
    Guest(TokenDigest),
}

impl Caller {
    /// The owner of the carts and orders this caller may see.
    pub fn owner(self) -> CartOwner {
        match self {
            Caller::User(user) => CartOwner::User(user),
            Caller::Guest(digest) => CartOwner::Guest(digest),
        }
    }

    /// The scope of this caller's checkout idempotency keys: two customers' keys
    /// never meet.
    pub fn key_scope(self) -> String {
        match self {
            Caller::User(user) => format!("checkout:user:{user}"),
            Caller::Guest(digest) => format!("checkout:guest:{}", digest.to_hex()),
        }
    }
}

/// Sessions: how a customer proves, call after call, who they are.
pub trait SessionRepository {
    /// The error type.
    type Error: RepoError;

    /// Starts a session for a guest.
    fn start_guest_session(&self) -> Result<Session, Self::Error>;
    /// Checks the e-mail and password and starts a session for the user; an
    /// unknown e-mail costs the same work as a wrong password, and both are
    /// [`DomainError::InvalidCredentials`].
    fn login(&self, email: &Email, password: &Password) -> Result<(Session, User), Self::Error>;
    /// Who holds `token`; [`DomainError::Unauthenticated`] unless it names a live
    /// session.
    fn caller(&self, token: &SessionToken) -> Result<Caller, Self::Error>;
    /// Ends the session of `token` (logout); ending an ended session changes
    /// nothing.
    fn end_session(&self, token: &SessionToken) -> Result<(), Self::Error>;
    /// Ends every session of `user` ("sign out everywhere"); returns how many.
    fn end_sessions_of(&self, user: UserId) -> Result<u64, Self::Error>;
}

/// A checkout as a customer asks for it: their cart, by its reference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlaceOrder {
    /// The customer's cart.
    pub cart: CartRef,
    /// Where to ship.
    pub shipping: AddressChoice,
    /// Where to bill.
    pub billing: AddressChoice,
    /// Contact for a guest (ignored for a user).
    pub guest_email: Option<Email>,
    /// The payment provider.
    pub provider: ProviderName,
    /// The shipping method chosen ([`CheckoutRequest::shipping_method`]).
    pub shipping_method: Option<Slug>,
    /// Coupon codes ([`CheckoutRequest::coupon_codes`]).
    pub coupon_codes: Vec<CouponCode>,
    /// Gift cards to pay with ([`CheckoutRequest::gift_cards`]).
    pub gift_cards: Vec<GiftCardCode>,
    /// Repeat the call with the same key and get the same order back; the key is
    /// the customer's own, no other customer's key can meet it.
    pub idempotency_key: IdempotencyKey,
}

/// What a customer does with their own carts and orders. Every call takes the
/// customer's session token, and whatever is not theirs is not found, exactly as
/// what does not exist: the stores enforce it in the query that finds the row.
/// (The id-based traits are the back office's: a service gives them to staff
/// only.)
pub trait CustomerRepository {
    /// The error type.
    type Error: RepoError;

    /// The caller's open cart, created empty if there is none.
    fn my_cart(&self, who: &SessionToken, currency: Currency) -> Result<Cart, Self::Error>;
    /// A new guest's session and its empty cart, in one step: what a guest's first
    /// request needs, without a request of its own for the session.
    fn open_guest_cart(&self, currency: Currency) -> Result<(Session, Cart), Self::Error>;
    /// One of the caller's carts.
    fn cart_of(&self, who: &SessionToken, cart: CartRef) -> Result<Cart, Self::Error>;
    /// Adds units of a variant to one of the caller's carts.
    fn add_to_cart(
        &self,
        who: &SessionToken,
        cart: CartRef,
        variant: VariantId,
        quantity: Quantity,
    ) -> Result<Cart, Self::Error>;
    /// Sets the quantity of a variant in one of the caller's carts.
    fn set_cart_quantity(
        &self,
        who: &SessionToken,
        cart: CartRef,
        variant: VariantId,
        quantity: Quantity,
    ) -> Result<Cart, Self::Error>;
    /// Removes a variant from one of the caller's carts.
    fn remove_from_cart(
        &self,
        who: &SessionToken,
        cart: CartRef,
        variant: VariantId,
    ) -> Result<Cart, Self::Error>;
    /// Gives the open cart of the guest holding `guest` to the user holding
    /// `user` (at login): both tokens are needed. Merged into the user's open
    /// cart if there is one.
    fn claim_guest_cart(
        &self,
        user: &SessionToken,
        guest: &SessionToken,
    ) -> Result<Cart, Self::Error>;
    /// The shipping methods that take one of the caller's carts to `to`, with
    /// their prices for it, cheapest first: what a checkout may choose from.
    fn shipping_options_of(
        &self,
        who: &SessionToken,
        cart: CartRef,
        to: &Destination,
    ) -> Result<Vec<ShippingOption>, Self::Error>;
    /// One of the caller's carts quoted for delivery to `to` by the method `code`,
    /// with the automatic promotions and those of `coupons`: what its checkout by
    /// that method with those codes would charge, line by line. A code unknown,
    /// expired or not applicable is refused here as at checkout; whether one is
    /// used up is known only at checkout, which takes its use under a lock. A
    /// quote takes none.
    fn quote_of(
        &self,
        who: &SessionToken,
        cart: CartRef,
        to: &Destination,
        code: &Slug,
        coupons: &[CouponCode],
    ) -> Result<Quote, Self::Error>;
    /// Checks out one of the caller's carts.
    fn place_order(&self, who: &SessionToken, order: &PlaceOrder) -> Result<Checkout, Self::Error>;
    /// One of the caller's orders, with its payments.
    fn order_of(&self, who: &SessionToken, order: OrderRef) -> Result<OrderDetails, Self::Error>;
    /// The shipments of one of the caller's orders, oldest first: what they hold,
    /// where they are and how to track them.
    fn shipments_of(
        &self,
        who: &SessionToken,
        order: OrderRef,
    ) -> Result<Vec<Shipment>, Self::Error>;
    /// Asks for units of one of the caller's orders to come back.
    fn request_return_of(
        &self,
        who: &SessionToken,
        order: OrderRef,
        lines: Vec<ReturnLine>,
        reason: ReturnReason,
        note: Option<Reason>,
    ) -> Result<Return, Self::Error>;
    /// The returns of one of the caller's orders, oldest first.
    fn returns_of(&self, who: &SessionToken, order: OrderRef) -> Result<Vec<Return>, Self::Error>;
    /// The cancellations of units of one of the caller's orders, oldest first.
    fn cancellations_of(
        &self,
        who: &SessionToken,
        order: OrderRef,
    ) -> Result<Vec<Cancellation>, Self::Error>;
    /// The caller's orders, newest first.
    fn orders_of(
        &self,
        who: &SessionToken,
        page: PageRequest<OrderCursor>,
    ) -> Result<Page<OrderSummary, OrderCursor>, Self::Error>;
}
