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
