#![doc = include_str!("../README.md")]

pub mod account;
pub mod cart;
pub mod catalog;
pub mod error;
pub mod fulfillment;
pub mod gift_card;
pub mod ids;
pub mod inventory;
pub mod memory;
pub mod money;
pub mod order;
pub mod password;
pub mod payment;
pub mod pricing;
pub mod promotion;
pub mod repo;
pub mod returns;
pub mod rules;
pub mod values;
pub mod webhook;

/// An enum that is stored and shown as fixed lower-case text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{value:?} is not a valid {type_name}")]
pub struct UnknownVariant {
    /// The enum's name.
    pub type_name: &'static str,
    /// The text given.
    pub value: String,
}

/// Gives an enum `ALL`, `as_str`, `Display` and `FromStr` over fixed names.
macro_rules! text_enum {
    ($ty:ident { $($variant:ident = $text:literal),+ $(,)? }) => {
        impl $ty {
            /// Every variant, in declaration order.
            pub const ALL: &'static [$ty] = &[$($ty::$variant),+];

            /// The stored name.
            pub const fn as_str(self) -> &'static str {
                match self { $($ty::$variant => $text),+ }
            }
        }

        impl std::fmt::Display for $ty {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl std::str::FromStr for $ty {
            type Err = $crate::UnknownVariant;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s {
                    $($text => Ok($ty::$variant),)+
                    _ => Err($crate::UnknownVariant { type_name: stringify!($ty), value: s.to_owned() }),
                }
            }
        }
    };
}
pub(crate) use text_enum;

/// Everything a caller usually needs, in one import.
pub mod prelude {
    pub use crate::account::{Address, AddressKind, NewAddress, NewUser, ProfileUpdate, User};
    pub use crate::cart::{Cart, CartError, CartLine, CartOwner, CartStatus};
    pub use crate::catalog::Shortage;
    pub use crate::catalog::{
        Attribute, AttributeChoices, AttributeDefinition, AttributeError, AttributeKind,
        AttributeValue, Browse, BrowseCursor, BrowseError, BrowseFilter, BrowseRequest, BrowseSort,
        CatalogError, Category, Collection, CollectionError, CollectionProducts, FacetCount,
        FacetFilter, FacetKey, Hit, MediaError, NewCategory, NewCollection, NewProduct, NewVariant,
        OptionChoice, OptionError, OptionSelection, OptionType, Page, PageRequest, PriceRange,
        Product, ProductImage, ProductOptions, ProductStatus, ProductUpdate, SearchCursor,
        SearchLanguage, SearchQuery, SearchRequest, Sellable, Variant,
    };
    pub use crate::error::{DomainError, Taken};
    pub use crate::fulfillment::{
        Cancellation, CancellationLine, CancelledUnits, FulfillmentError, NewCancellation,
        NewShipment, Shipment, ShipmentEvent, ShipmentLine, ShipmentStatus, Tracking,
    };
    pub use crate::gift_card::{
        GiftCard, GiftCardCode, GiftCardEntry, GiftCardEntryKind, GiftCardError, IssuedGiftCard,
        NewGiftCard, RefundPriority,
    };
    pub use crate::ids::*;
    pub use crate::inventory::{
        Allocation, AllocationStrategy, InventoryEntry, InventoryError, InventoryLevel,
        InventoryMove, LocationShortage, MoveKind, NewStockLocation, Reservation,
        ReservationStrategy, StockChange, StockLocation, StockTransfer, Want,
    };
    pub use crate::money::{Currency, Money, MoneyError};
    pub use crate::order::{
        Customer, Order, OrderEvent, OrderLine, OrderStatus, OrderTransitionError, StatusChange,
    };
    pub use crate::password::{HashCost, Password, PasswordHash};
    pub use crate::payment::{
        Applied, Payment, PaymentAction, PaymentActionKind, PaymentError, PaymentEvent,
        PaymentStatus, Refund,
    };
    pub use crate::pricing::{
        AppliedRate, Destination, FlatShipping, FlatTax, Invoice, LineTax, Market, OrderDraft,
        PriceContext, PriceEntry, PriceList, PriceSource, PricedLine, Pricing, PricingError, Quote,
        QuoteLine, QuoteRequest, QuotedShipping, RegionCode, ShippingMethod, ShippingOption,
        ShippingPolicy, ShippingRate, ShippingZone, TaxClass, TaxLine, TaxPolicy, TaxRate,
        TaxRates, TaxTable, Totals, UnitPrice,
    };
    pub use crate::repo::{
        AccountRepository, AddressChoice, Caller, CartRepository, CatalogReader, CatalogRepository,
        Checkout, CheckoutRepository, CheckoutRequest, CustomerRepository, FulfillmentRepository,
        GiftCardRepository, InventoryRepository, OrderCursor, OrderDetails, OrderReader,
        OrderRefund, OrderRepository, OrderSummary, PaymentOutcome, PaymentRepository, PlaceOrder,
        PromotionRepository, RefundOf, RefundOutcome, RepoError, ReturnReceived, ReturnRepository,
        Session, SessionRepository, ShipmentChange, ShipmentCreated, UnitsCancelled,
    };
    pub use crate::returns::{
        ItemCondition, NewReturn, Return, ReturnDecision, ReturnError, ReturnLine, ReturnReason,
        ReturnReceipt, ReturnStatus,
    };
    pub use crate::values::{
        AltText, AttributeName, AttributeText, AttributeUnit, CarrierName, CategoryName,
        CollectionName, CountryCode, CouponCode, Description, Email, Gtin, GtinError, GuestToken,
        IdempotencyKey, LocationName, MediaUrl, OptionName, OptionValue, PersonName, PostalAddress,
        PriceListName, ProductName, PromotionName, ProviderName, ProviderRef, Quantity, RawAddress,
        Reason, SessionToken, ShippingMethodName, ShippingZoneName, Sku, Slug, TaxRateName,
        TokenDigest, TrackingNumber, TrackingUrl, ValidationError,
    };
}

#[cfg(test)]
mod tests {
    use crate::prelude::*;
    use proptest::prelude::*;

    /// Every stored name of every text enum, and anything else.
    fn names() -> impl Strategy<Value = String> {
        let mut known: Vec<&'static str> = Vec::new();
        known.extend(OrderStatus::ALL.iter().map(|v| v.as_str()));
        known.extend(OrderEvent::ALL.iter().map(|v| v.as_str()));
        known.extend(PaymentStatus::ALL.iter().map(|v| v.as_str()));
        known.extend(PaymentActionKind::ALL.iter().map(|v| v.as_str()));
        known.extend(CartStatus::ALL.iter().map(|v| v.as_str()));
        known.extend(ProductStatus::ALL.iter().map(|v| v.as_str()));
        known.extend(AddressKind::ALL.iter().map(|v| v.as_str()));
        known.extend(TaxClass::ALL.iter().map(|v| v.as_str()));
        known.extend(BrowseSort::ALL.iter().map(|v| v.as_str()));
        known.extend(GiftCardEntryKind::ALL.iter().map(|v| v.as_str()));
        known.extend(ShipmentStatus::ALL.iter().map(|v| v.as_str()));
        known.extend(ShipmentEvent::ALL.iter().map(|v| v.as_str()));
        known.extend(MoveKind::ALL.iter().map(|v| v.as_str()));
        known.extend(ReturnStatus::ALL.iter().map(|v| v.as_str()));
        known.extend(ReturnDecision::ALL.iter().map(|v| v.as_str()));
        known.extend(ReturnReason::ALL.iter().map(|v| v.as_str()));
        known.extend(ItemCondition::ALL.iter().map(|v| v.as_str()));
        prop_oneof![
            proptest::sample::select(known).prop_map(str::to_owned),
            any::<String>(),
            "\\PC*",
        ]
    }

    macro_rules! only_its_own_names {
        ($s:expr, $($ty:ty),+) => {$(
            match $s.parse::<$ty>() {
                Ok(v) => prop_assert_eq!(v.as_str(), $s),
                Err(err) => {
                    prop_assert!(<$ty>::ALL.iter().all(|v| v.as_str() != $s));
                    prop_assert_eq!(err.value.as_str(), $s);
                }
            }
        )+};
    }

    proptest! {
        #[test]
        fn text_enums_parse_exactly_their_stored_names(s in names()) {
            only_its_own_names!(
                s.as_str(),
                OrderStatus, OrderEvent, PaymentStatus, PaymentActionKind, CartStatus,
                ProductStatus, AddressKind, TaxClass, BrowseSort, GiftCardEntryKind, MoveKind,
                ShipmentStatus, ShipmentEvent, ReturnStatus, ReturnDecision, ReturnReason,
                ItemCondition
            );
        }
    }
}

/// The import rule of docs/architecture.md, read off the source files: values at the
/// bottom, then the aggregates (each importing only those before it), then
/// `error.rs`, then the traits and rules, then `MemoryStore`.
#[cfg(test)]
mod layers {
    use std::collections::BTreeSet;
    use std::path::Path;

    /// Bottom to top, in layers; a file imports only files listed before it.
    const LAYERS: &[&[&str]] = &[
        &["values", "ids", "money", "password", "webhook"],
        &[
            "account",
            "catalog",
            "cart",
            "promotion",
            "pricing",
            "order",
            "payment",
            "gift_card",
            "inventory",
            "fulfillment",
            "returns",
        ],
        &["error"],
        &["repo", "rules"],
        &["memory"],
    ];

    /// The modules of this crate a file names outside comments and tests.
    fn imports(file: &Path) -> BTreeSet<String> {
        let text = std::fs::read_to_string(file).unwrap();
        let code = text.split("#[cfg(test)]").next().unwrap_or_default();
        code.lines()
            .map(|line| line.split("//").next().unwrap_or_default())
            .flat_map(|line| {
                line.match_indices("crate::")
                    .map(move |(at, _)| &line[at + 7..])
            })
            .map(|rest| {
                rest.chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect()
            })
            .collect()
    }

    fn files_of(module: &str) -> Vec<std::path::PathBuf> {
        let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let file = src.join(format!("{module}.rs"));
        if file.exists() {
            return vec![file];
        }
        std::fs::read_dir(src.join(module))
            .unwrap()
            .map(|entry| entry.unwrap().path())
            .collect()
    }

    #[test]
    fn every_file_imports_only_what_lies_below_it() {
        let mut broken = Vec::new();
        for (depth, layer) in LAYERS.iter().enumerate() {
            for (position, module) in layer.iter().enumerate() {
                let mut allowed: BTreeSet<&str> = LAYERS[..depth]
                    .iter()
                    .flat_map(|l| l.iter().copied())
                    .chain(layer[..position].iter().copied())
                    .collect();
                // The crate root's macro and its error for text enums.
                allowed.extend(["text_enum", "UnknownVariant", *module]);
                for file in files_of(module) {
                    for import in imports(&file) {
                        if !allowed.contains(import.as_str()) {
                            broken.push(format!("{} imports crate::{import}", file.display()));
                        }
                    }
                }
            }
        }
        assert!(broken.is_empty(), "imports against the layers: {broken:#?}");
    }
}
