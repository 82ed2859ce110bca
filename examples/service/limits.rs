//! The bounds a client cannot change: a reference service sets them from the start.

/// The largest request body accepted.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// Products on a category page when the request names no `limit`. The store clamps
/// what a client asks for, so these are defaults, not bounds.
pub(super) const DEFAULT_PAGE_LIMIT: u32 = 50;

/// Hits of a name search when the request names no `limit`.
pub(super) const DEFAULT_SEARCH_LIMIT: u32 = 20;

/// The longest search query accepted, in characters: as long as the longest product
/// name. A longer one is refused rather than sent to the trigram index.
pub(super) const MAX_SEARCH_CHARS: usize = 200;

/// The most prices one `PUT /admin/price-lists/{id}/prices` replaces a list with:
/// a list is written in one transaction, and one request should not hold it for
/// long. A larger catalog's list is loaded by a batch job, not this route.
pub(super) const MAX_LIST_PRICES: usize = 1000;

/// The most areas one shipping zone names: every country of the world, with room
/// for regions.
pub(super) const MAX_ZONE_AREAS: usize = 300;

/// The most weight bands one shipping method has.
pub(super) const MAX_WEIGHT_BANDS: usize = 50;

/// The most group names one `PUT /admin/users/{id}/groups` may send, repeats
/// included: the store drops repeats and allows
/// [`MAX_GROUPS`](ecom_domain::repo::MAX_GROUPS), but a body full of repeats should
/// not cost it a quadratic pass.
pub(super) const MAX_GROUP_NAMES: usize = 100;

/// The most coupon codes one `POST /admin/promotions/{id}/coupons` may give: they
/// are counted before any is parsed, and a body of them fits the 64 KiB limit.
pub(super) const MAX_GIVEN_COUPONS: usize = 1000;

/// The most coupon codes one `POST /admin/promotions/{id}/coupons` generates: the
/// store takes up to a million in one call, but a request makes them in one
/// transaction within its timeout and answers every one. More are made by
/// calling again.
pub(super) const MAX_GENERATED_COUPONS: u32 = 100_000;
