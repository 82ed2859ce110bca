//! The tables ecom-seed fills, in the order their foreign keys allow loading them.

use std::fmt;

/// A table ecom-seed writes. Every row it generates has all of the table's columns but
/// those the database derives (`products.facets` and `products.search`, kept by
/// triggers) and the invoice columns of `orders` and `order_lines` (seeded orders are
/// priced by the flat rules, which their defaults say), in the table's declared order
/// (that of the migrations and of `schema.rs`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Table {
    /// `attribute_definitions`
    AttributeDefinitions,
    /// `categories`
    Categories,
    /// `products`
    Products,
    /// `product_variants`
    ProductVariants,
    /// `collections`
    Collections,
    /// `collection_products`
    CollectionProducts,
    /// `markets`
    Markets,
    /// `tax_rates`
    TaxRates,
    /// `shipping_zones`
    ShippingZones,
    /// `shipping_zone_areas`
    ShippingZoneAreas,
    /// `shipping_methods`
    ShippingMethods,
    /// `price_lists`
    PriceLists,
    /// `price_list_entries`
    PriceListEntries,
    /// `users`
    Users,
    /// `addresses`
    Addresses,
    /// `customer_groups`
    CustomerGroups,
    /// `gift_cards`
    GiftCards,
    /// `stock_locations`
    StockLocations,
    /// `carts`
    Carts,
    /// `cart_lines`
    CartLines,
    /// `orders`
    Orders,
    /// `order_addresses`
    OrderAddresses,
    /// `order_lines`
    OrderLines,
    /// `order_status_history`
    OrderStatusHistory,
    /// `payments`
    Payments,
    /// `payment_events`
    PaymentEvents,
    /// `gift_card_entries`
    GiftCardEntries,
    /// `shipments`
    Shipments,
    /// `shipment_lines`
    ShipmentLines,
    /// `returns`
    Returns,
    /// `return_lines`
    ReturnLines,
}

impl Table {
    /// Every table, parents before children: a valid loading order.
    pub const ALL: [Table; 31] = [
        Table::AttributeDefinitions,
        Table::Categories,
        Table::Products,
        Table::ProductVariants,
        Table::Collections,
        Table::CollectionProducts,
        Table::Markets,
        Table::TaxRates,
        Table::ShippingZones,
        Table::ShippingZoneAreas,
        Table::ShippingMethods,
        Table::PriceLists,
        Table::PriceListEntries,
        Table::Users,
        Table::Addresses,
        Table::CustomerGroups,
        Table::GiftCards,
        Table::StockLocations,
        Table::Carts,
        Table::CartLines,
        Table::Orders,
        Table::OrderAddresses,
        Table::OrderLines,
        Table::OrderStatusHistory,
        Table::Payments,
        Table::PaymentEvents,
        Table::GiftCardEntries,
        Table::Shipments,
        Table::ShipmentLines,
        Table::Returns,
        Table::ReturnLines,
    ];

    /// The SQL name.
    pub const fn name(self) -> &'static str {
        match self {
            Table::AttributeDefinitions => "attribute_definitions",
            Table::Categories => "categories",
            Table::Products => "products",
            Table::ProductVariants => "product_variants",
            Table::Collections => "collections",
            Table::CollectionProducts => "collection_products",
            Table::Markets => "markets",
            Table::TaxRates => "tax_rates",
            Table::ShippingZones => "shipping_zones",
            Table::ShippingZoneAreas => "shipping_zone_areas",
            Table::ShippingMethods => "shipping_methods",
            Table::PriceLists => "price_lists",
            Table::PriceListEntries => "price_list_entries",
            Table::Users => "users",
            Table::Addresses => "addresses",
            Table::CustomerGroups => "customer_groups",
            Table::GiftCards => "gift_cards",
            Table::Carts => "carts",
            Table::CartLines => "cart_lines",
            Table::Orders => "orders",
            Table::OrderAddresses => "order_addresses",
            Table::OrderLines => "order_lines",
            Table::OrderStatusHistory => "order_status_history",
            Table::Payments => "payments",
            Table::PaymentEvents => "payment_events",
            Table::GiftCardEntries => "gift_card_entries",
            Table::StockLocations => "stock_locations",
            Table::Shipments => "shipments",
            Table::ShipmentLines => "shipment_lines",
            Table::Returns => "returns",
            Table::ReturnLines => "return_lines",
        }
    }

    /// The columns, in the order the generated rows give them.
    pub const fn columns(self) -> &'static [&'static str] {
        match self {
            Table::AttributeDefinitions => columns::ATTRIBUTE_DEFINITIONS,
            Table::Categories => columns::CATEGORIES,
            Table::Products => columns::PRODUCTS,
            Table::ProductVariants => columns::PRODUCT_VARIANTS,
            Table::Collections => columns::COLLECTIONS,
            Table::CollectionProducts => columns::COLLECTION_PRODUCTS,
            Table::Markets => columns::MARKETS,
            Table::TaxRates => columns::TAX_RATES,
            Table::ShippingZones => columns::SHIPPING_ZONES,
            Table::ShippingZoneAreas => columns::SHIPPING_ZONE_AREAS,
            Table::ShippingMethods => columns::SHIPPING_METHODS,
            Table::PriceLists => columns::PRICE_LISTS,
            Table::PriceListEntries => columns::PRICE_LIST_ENTRIES,
            Table::Users => columns::USERS,
            Table::Addresses => columns::ADDRESSES,
            Table::CustomerGroups => columns::CUSTOMER_GROUPS,
            Table::GiftCards => columns::GIFT_CARDS,
            Table::Carts => columns::CARTS,
            Table::CartLines => columns::CART_LINES,
            Table::Orders => columns::ORDERS,
            Table::OrderAddresses => columns::ORDER_ADDRESSES,
            Table::OrderLines => columns::ORDER_LINES,
            Table::OrderStatusHistory => columns::ORDER_STATUS_HISTORY,
            Table::Payments => columns::PAYMENTS,
            Table::PaymentEvents => columns::PAYMENT_EVENTS,
            Table::GiftCardEntries => columns::GIFT_CARD_ENTRIES,
            Table::StockLocations => columns::STOCK_LOCATIONS,
            Table::Shipments => columns::SHIPMENTS,
            Table::ShipmentLines => columns::SHIPMENT_LINES,
            Table::Returns => columns::RETURNS,
            Table::ReturnLines => columns::RETURN_LINES,
        }
    }

    /// True for tables whose `id` is an identity column, whose sequence must be moved
    /// past the ids the seeder chose.
    pub const fn has_identity(self) -> bool {
        !matches!(
            self,
            Table::CollectionProducts
                | Table::Markets
                | Table::PriceListEntries
                | Table::CustomerGroups
                | Table::CartLines
                | Table::OrderAddresses
                | Table::OrderLines
                | Table::ShipmentLines
                | Table::ReturnLines
        )
    }

    /// Position in [`Table::ALL`].
    pub const fn index(self) -> usize {
        self as usize
    }
}

impl fmt::Display for Table {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.name())
    }
}

/// Each table's columns, in the table's declared order, so that the CSV files read
/// like the table; `COPY` and `load.sql`'s `\copy` name them, since a table may have
/// derived columns the rows leave out. Kept out of [`Table::columns`] so that it
/// stays a short map from table to list.
mod columns {
    pub(super) const ATTRIBUTE_DEFINITIONS: &[&str] = &["id", "name", "kind", "created_at"];
    pub(super) const CATEGORIES: &[&str] = &["id", "parent_id", "slug", "name", "created_at"];
    pub(super) const PRODUCTS: &[&str] = &[
        "id",
        "name",
        "description",
        "category_id",
        "status",
        "created_at",
        "updated_at",
        "slug",
        "options",
        "attributes",
        "images",
        "tax_class",
    ];
    pub(super) const PRODUCT_VARIANTS: &[&str] = &[
        "id",
        "product_id",
        "sku",
        "options",
        "price",
        "currency",
        "stock_on_hand",
        "weight_grams",
        "gtin",
        "created_at",
        "updated_at",
        "attributes",
    ];
    pub(super) const COLLECTIONS: &[&str] = &["id", "slug", "name", "created_at", "updated_at"];
    pub(super) const COLLECTION_PRODUCTS: &[&str] = &["collection_id", "position", "product_id"];
    pub(super) const MARKETS: &[&str] = &["currency", "prices_include_tax"];
    pub(super) const TAX_RATES: &[&str] = &[
        "id",
        "name",
        "country",
        "region",
        "class",
        "rate",
        "valid_from",
        "valid_until",
    ];
    pub(super) const SHIPPING_ZONES: &[&str] = &["id", "name", "created_at"];
    pub(super) const SHIPPING_ZONE_AREAS: &[&str] = &["id", "zone_id", "country", "region"];
    pub(super) const SHIPPING_METHODS: &[&str] = &[
        "id",
        "zone_id",
        "code",
        "name",
        "currency",
        "rate",
        "free_from",
        "tax_class",
        "created_at",
    ];
    pub(super) const PRICE_LISTS: &[&str] = &[
        "id",
        "name",
        "currency",
        "customer_group",
        "starts_at",
        "ends_at",
        "created_at",
    ];
    pub(super) const PRICE_LIST_ENTRIES: &[&str] =
        &["price_list_id", "variant_id", "min_quantity", "price"];
    pub(super) const CUSTOMER_GROUPS: &[&str] = &["user_id", "customer_group"];
    pub(super) const USERS: &[&str] = &[
        "id",
        "email",
        "name",
        "password_hash",
        "created_at",
        "updated_at",
    ];
    pub(super) const ADDRESSES: &[&str] = &[
        "id",
        "user_id",
        "kind",
        "is_default",
        "recipient",
        "line1",
        "line2",
        "city",
        "region",
        "postal_code",
        "country",
        "created_at",
    ];
    pub(super) const GIFT_CARDS: &[&str] = &[
        "id",
        "code_digest",
        "last_four",
        "currency",
        "initial_value",
        "balance",
        "expires_at",
        "created_at",
        "updated_at",
    ];
    pub(super) const CARTS: &[&str] = &[
        "id",
        "user_id",
        "currency",
        "status",
        "created_at",
        "updated_at",
        "guest_token_digest",
        "public_id",
    ];
    pub(super) const CART_LINES: &[&str] = &["cart_id", "variant_id", "quantity", "added_at"];
    pub(super) const ORDERS: &[&str] = &[
        "id",
        "user_id",
        "guest_email",
        "cart_id",
        "currency",
        "subtotal",
        "shipping",
        "tax",
        "grand_total",
        "status",
        "payment_deadline",
        "created_at",
        "updated_at",
        "public_id",
        "guest_token_digest",
    ];
    pub(super) const ORDER_ADDRESSES: &[&str] = &[
        "order_id",
        "kind",
        "recipient",
        "line1",
        "line2",
        "city",
        "region",
        "postal_code",
        "country",
    ];
    pub(super) const ORDER_LINES: &[&str] = &[
        "order_id",
        "line_no",
        "variant_id",
        "sku",
        "name",
        "unit_price",
        "quantity",
        "options",
    ];
    pub(super) const ORDER_STATUS_HISTORY: &[&str] = &[
        "id",
        "order_id",
        "from_status",
        "to_status",
        "event",
        "note",
        "at",
    ];
    pub(super) const PAYMENTS: &[&str] = &[
        "id",
        "order_id",
        "provider",
        "provider_ref",
        "currency",
        "amount",
        "authorized",
        "captured",
        "refunded",
        "status",
        "created_at",
        "updated_at",
        "gift_card_id",
        "released",
    ];
    pub(super) const PAYMENT_EVENTS: &[&str] = &[
        "id",
        "payment_id",
        "kind",
        "amount",
        "idempotency_key",
        "provider_event_id",
        "reason",
        "at",
    ];
    pub(super) const GIFT_CARD_ENTRIES: &[&str] = &[
        "id",
        "gift_card_id",
        "kind",
        "amount",
        "payment_id",
        "balance_after",
        "at",
    ];
    pub(super) const STOCK_LOCATIONS: &[&str] =
        &["id", "name", "country", "priority", "created_at"];
    pub(super) const SHIPMENTS: &[&str] = &[
        "id",
        "order_id",
        "location_id",
        "status",
        "carrier",
        "tracking_number",
        "tracking_url",
        "created_at",
        "updated_at",
        "idempotency_key",
    ];
    pub(super) const SHIPMENT_LINES: &[&str] = &["shipment_id", "order_id", "line_no", "quantity"];
    pub(super) const RETURNS: &[&str] = &[
        "id",
        "order_id",
        "reason",
        "note",
        "status",
        "location_id",
        "condition",
        "refund_shipping",
        "received_at",
        "created_at",
        "updated_at",
    ];
    pub(super) const RETURN_LINES: &[&str] = &["return_id", "order_id", "line_no", "quantity"];
}
