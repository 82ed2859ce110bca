//! Typed identifiers: a `ProductId` can never be passed where an `OrderId` is meant.

use std::fmt;

use serde::{Deserialize, Serialize};

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
    /// Identifies a recorded [`PaymentEvent`](crate::payment::PaymentEvent).
    PaymentEventId;
}
