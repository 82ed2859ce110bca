//! Typed identifiers: a `ProductId` can never be passed where an `OrderId` is meant.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::values::ValidationError;

macro_rules! typed_ids {
    ($($(#[$doc:meta])* $name:ident;)+) => {$(
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(i64);

        impl $name {
            /// Wraps a raw database id.
            pub const fn new(raw: i64) -> Self {
                Self(raw)
            }

            /// The raw database id.
            pub const fn get(self) -> i64 {
                self.0
            }
        }

        impl From<i64> for $name {
            fn from(raw: i64) -> Self {
                Self(raw)
            }
        }

        impl From<$name> for i64 {
            fn from(id: $name) -> i64 {
                id.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }
    )+};
}

typed_ids! {
    /// Identifies a [`Category`](crate::catalog::Category).
    CategoryId;
    /// Identifies a [`Product`](crate::catalog::Product).
    ProductId;
    /// Identifies a [`Variant`](crate::catalog::Variant): what carts, orders and
    /// stock count.
    VariantId;
    /// Identifies a [`Collection`](crate::catalog::Collection).
    CollectionId;
    /// Identifies a [`PriceList`](crate::pricing::PriceList).
    PriceListId;
    /// Identifies a [`ShippingZone`](crate::pricing::ShippingZone).
    ShippingZoneId;
    /// Identifies a [`ShippingMethod`](crate::pricing::ShippingMethod).
    ShippingMethodId;
    /// Identifies a [`Promotion`](crate::promotion::Promotion).
    PromotionId;
    /// Identifies a [`User`](crate::account::User).
    UserId;
    /// Identifies an [`Address`](crate::account::Address).
    AddressId;
    /// Identifies a [`Cart`](crate::cart::Cart).
    CartId;
    /// Identifies an [`Order`](crate::order::Order).
    OrderId;
    /// Identifies a [`Payment`](crate::payment::Payment).
    PaymentId;
    /// Identifies a [`GiftCard`](crate::gift_card::GiftCard).
    GiftCardId;
    /// Identifies a [`StockLocation`](crate::inventory::StockLocation).
    StockLocationId;
    /// Identifies a [`Shipment`](crate::fulfillment::Shipment).
    ShipmentId;
    /// Identifies a [`Return`](crate::returns::Return).
    ReturnId;
    /// Identifies a [`Cancellation`](crate::fulfillment::Cancellation).
    CancellationId;
    /// Identifies a recorded [`PaymentEvent`](crate::payment::PaymentEvent).
    PaymentEventId;
}

macro_rules! public_refs {
    ($($(#[$doc:meta])* $name:ident;)+) => {$(
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(u128);

        impl $name {
            /// Wraps the 128 bits of a stored reference (a UUID).
            pub const fn new(bits: u128) -> Self {
                Self(bits)
            }

            /// The 128 bits.
            pub const fn get(self) -> u128 {
                self.0
            }

            /// A new random reference (a version 4 UUID), for stores without a
            /// database to make one.
            pub fn generate() -> Self {
                use argon2::password_hash::rand_core::{OsRng, RngCore};
                let mut bytes = [0u8; 16];
                OsRng.fill_bytes(&mut bytes);
                bytes[6] = (bytes[6] & 0x0f) | 0x40;
                bytes[8] = (bytes[8] & 0x3f) | 0x80;
                Self(u128::from_be_bytes(bytes))
            }

            /// Parses the UUID text form (`8-4-4-4-12` hex digits, either case).
            pub fn parse(raw: &str) -> Result<Self, ValidationError> {
                parse_uuid(raw).map(Self).ok_or_else(|| ValidationError::Malformed {
                    field: stringify!($name),
                    value: raw.chars().take(40).collect(),
                    rule: "a UUID such as 67e55044-10b1-426f-9247-bb680e5fe0c8",
                })
            }
        }

        /// The UUID text form, lower case.
        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                let hex = format!("{:032x}", self.0);
                write!(f, "{}-{}-{}-{}-{}", &hex[..8], &hex[8..12], &hex[12..16], &hex[16..20], &hex[20..])
            }
        }

        impl Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.collect_str(self)
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let raw = String::deserialize(d)?;
                Self::parse(&raw).map_err(serde::de::Error::custom)
            }
        }
    )+};
}

/// The bits of a UUID in text form, if it is one.
fn parse_uuid(raw: &str) -> Option<u128> {
    let bytes = raw.as_bytes();
    if bytes.len() != 36 || [8, 13, 18, 23].iter().any(|&i| bytes[i] != b'-') {
        return None;
    }
    let mut bits = 0u128;
    for (i, &b) in bytes.iter().enumerate() {
        if [8, 13, 18, 23].contains(&i) {
            continue;
        }
        let digit = char::from(b).to_digit(16)?;
        bits = (bits << 4) | u128::from(digit);
    }
    Some(bits)
}

public_refs! {
    /// How a customer names a [`Cart`](crate::cart::Cart) (in URLs and JSON): random,
    /// so one cart's reference tells nothing of another's.
    CartRef;
    /// How a customer names an [`Order`](crate::order::Order): random, unlike its id.
    OrderRef;
}

#[cfg(test)]
mod ref_tests {
    use super::*;

    #[test]
    fn references_round_trip_as_uuids_and_refuse_anything_else() {
        let r = CartRef::parse("67E55044-10b1-426f-9247-bb680e5fe0c8").unwrap();
        assert_eq!(r.to_string(), "67e55044-10b1-426f-9247-bb680e5fe0c8");
        assert_eq!(CartRef::parse(&r.to_string()), Ok(r));
        let g = OrderRef::generate();
        assert_eq!(OrderRef::parse(&g.to_string()), Ok(g));
        assert_ne!(g, OrderRef::generate());
        assert_eq!(&g.to_string()[14..15], "4", "version 4");
        for bad in [
            "",
            "1",
            "67e55044-10b1-426f-9247-bb680e5fe0c",
            "67e55044x10b1-426f-9247-bb680e5fe0c8",
            "g7e55044-10b1-426f-9247-bb680e5fe0c8",
            "67e55044-10b1-426f-9247-bb680e5fe0é",
        ] {
            assert!(CartRef::parse(bad).is_err(), "{bad}");
        }
    }
}
