//! Where a product's images live: URLs checked by hand, strictly.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::check::{ValidationError, single_line};

const FIELD: &str = "media url";

/// The address of a product image (or other media file) on a web server or CDN.
///
/// The store keeps the address only; the file is stored elsewhere. The rules are
/// strict because these URLs end up in every shop page and in anything that fetches
/// them (a thumbnailer, a feed for a marketplace):
///
/// - **`https` only.** Shop pages are served over https; browsers block or flag
///   plain-http images on them, and a plain-http URL tells every network on the way
///   which products a customer looks at. There is no switch to allow `http`: a
///   development server can serve its images over https too.
/// - **A DNS host name** of at least two labels (`cdn.example.com`); no IP address,
///   no bare `localhost`, no user name or password. This keeps the obvious internal
///   addresses out, but it is not a defence against server-side request forgery: a
///   name can resolve to anything, so a fetcher must still check where it connects.
/// - **ASCII only**, at most [`MediaUrl::MAX_LEN`] characters, no whitespace or control
///   characters: a path or query holds only the characters RFC 3986 allows, other
///   characters percent-encoded (`%20`), and an international host name is written
///   in punycode (`xn--...`).
/// - An optional port (1 to 65535), path, query and fragment.
///
/// Surrounding whitespace is trimmed and the scheme and host are lower-cased; the
/// rest is kept as given, since paths are case-sensitive. The `url` crate is not a
/// dependency of this crate; a hand check of this narrow shape is short.
///
/// ```
/// use ecom_domain::values::MediaUrl;
///
/// let url = MediaUrl::parse(" HTTPS://CDN.Example.com/img/Red%20Shirt.jpg?w=800 ").unwrap();
/// assert_eq!(url.as_str(), "https://cdn.example.com/img/Red%20Shirt.jpg?w=800");
/// assert_eq!(url.host(), "cdn.example.com");
/// assert!(MediaUrl::parse("http://cdn.example.com/a.jpg").is_err());
/// assert!(MediaUrl::parse("https://cdn.example.com/red shirt.jpg").is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct MediaUrl(String);

const SCHEME: &str = "https://";

impl MediaUrl {
    /// The longest URL accepted, in characters.
    pub const MAX_LEN: usize = 2048;

    /// Trims and validates; see the type's documentation for the rules.
    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        https_url(FIELD, raw).map(Self)
    }

    /// The whole URL.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The host name, lower-case (`cdn.example.com`): what an allow-list of image
    /// hosts checks.
    pub fn host(&self) -> &str {
        let rest = &self.0[SCHEME.len()..];
        let end = rest.find([':', '/', '?', '#']).unwrap_or(rest.len());
        &rest[..end]
    }
}

/// An https URL of at most [`MediaUrl::MAX_LEN`] characters, as [`MediaUrl`]
/// documents them, normalized; refused as `field`.
fn https_url(field: &'static str, raw: &str) -> Result<String, ValidationError> {
    {
        let value = single_line(field, raw, 1, MediaUrl::MAX_LEN)?;
        let malformed = |rule| ValidationError::Malformed {
            field,
            value: raw.to_owned(),
            rule,
        };
        if !value.is_ascii() {
            return Err(malformed(
                "ASCII only: percent-encode other characters, write an international host in punycode",
            ));
        }
        let rest = match value.split_once("://") {
            Some((scheme, rest)) if scheme.eq_ignore_ascii_case("https") => rest,
            _ => return Err(malformed("an https URL (https://host/path)")),
        };
        let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
        let (authority, tail) = rest.split_at(authority_end);
        if authority.contains('@') {
            return Err(malformed("no user name or password in the URL"));
        }
        let (host, port) = match authority.split_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (authority, None),
        };
        if !is_host_name(host) {
            return Err(malformed(
                "the host is a DNS name of two or more labels of a-z, 0-9 and '-', not an IP address",
            ));
        }
        if port.is_some_and(|port| !is_port(port)) {
            return Err(malformed("a port is a number from 1 to 65535"));
        }
        if !is_path_query_fragment(tail) {
            return Err(malformed(
                "path, query and fragment hold only RFC 3986 characters, others percent-encoded (%20)",
            ));
        }
        let mut url = String::with_capacity(value.len());
        url.push_str(SCHEME);
        url.push_str(&host.to_ascii_lowercase());
        if let Some(port) = port {
            url.push(':');
            url.push_str(port);
        }
        url.push_str(tail);
        Ok(url)
    }
}

/// Where a customer follows a parcel: an https URL, checked and normalized as a
/// [`MediaUrl`] is.
///
/// ```
/// use ecom_domain::values::TrackingUrl;
///
/// let url = TrackingUrl::parse("https://Track.Example.com/parcel/00340434").unwrap();
/// assert_eq!(url.as_str(), "https://track.example.com/parcel/00340434");
/// assert!(TrackingUrl::parse("javascript:alert(1)").is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct TrackingUrl(String);

impl TrackingUrl {
    /// Trims and validates; see the type's documentation for the rules.
    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        https_url("tracking url", raw).map(Self)
    }

    /// The whole URL.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for TrackingUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for TrackingUrl {
    type Error = ValidationError;
    fn try_from(raw: String) -> Result<Self, Self::Error> {
        Self::parse(&raw)
    }
}

impl From<TrackingUrl> for String {
    fn from(url: TrackingUrl) -> String {
        url.0
    }
}

/// A DNS name of two or more labels, each 1 to 63 of `A-Z a-z 0-9 -` not starting or
/// ending with `-`, the last holding a letter (top-level domains do; an IPv4 address
/// does not).
fn is_host_name(host: &str) -> bool {
    let label_ok = |label: &str| {
        (1..=63).contains(&label.len())
            && label
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-')
            && !label.starts_with('-')
            && !label.ends_with('-')
    };
    host.len() <= 253
        && host.split('.').count() >= 2
        && host.split('.').all(label_ok)
        && host
            .rsplit('.')
            .next()
            .is_some_and(|tld| tld.bytes().any(|b| b.is_ascii_alphabetic()))
}

/// 1 to 65535, in at most five digits.
fn is_port(port: &str) -> bool {
    (1..=5).contains(&port.len())
        && port.bytes().all(|b| b.is_ascii_digit())
        && port.parse::<u32>().is_ok_and(|p| (1..=65535).contains(&p))
}

/// Empty, or starting with `/`, `?` or `#`; only RFC 3986's unreserved and reserved
/// characters, `%` only before two hex digits, at most one `#` (the fragment's start).
fn is_path_query_fragment(tail: &str) -> bool {
    let allowed = |b: u8| b.is_ascii_alphanumeric() || b"-._~!$&'()*+,;=:@/?#".contains(&b);
    let bytes = tail.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = |j: usize| bytes.get(j).is_some_and(u8::is_ascii_hexdigit);
            if !(hex(i + 1) && hex(i + 2)) {
                return false;
            }
            i += 3;
        } else if allowed(bytes[i]) {
            i += 1;
        } else {
            return false;
        }
    }
    tail.bytes().filter(|&b| b == b'#').count() <= 1
}

impl AsRef<str> for MediaUrl {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for MediaUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(&self.0)
    }
}

/// Validates like [`MediaUrl::parse`].
impl TryFrom<String> for MediaUrl {
    type Error = ValidationError;
    fn try_from(raw: String) -> Result<Self, Self::Error> {
        Self::parse(&raw)
    }
}

impl From<MediaUrl> for String {
    fn from(value: MediaUrl) -> String {
        value.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn https_urls_to_a_named_host_are_kept_with_their_path_case() {
        for (raw, kept) in [
            (
                "https://cdn.example.com/a/B.jpg",
                "https://cdn.example.com/a/B.jpg",
            ),
            (
                "HTTPS://Images.Example.CO.UK:8443/x.png?w=800&h=600#zoom",
                "https://images.example.co.uk:8443/x.png?w=800&h=600#zoom",
            ),
            (
                "https://xn--bcher-kva.example",
                "https://xn--bcher-kva.example",
            ),
            (
                "https://cdn.example.com/caf%C3%A9;v=2/(1)~x_y.jpg",
                "https://cdn.example.com/caf%C3%A9;v=2/(1)~x_y.jpg",
            ),
        ] {
            let url = MediaUrl::parse(raw).unwrap();
            assert_eq!(url.as_str(), kept, "{raw}");
        }
        assert_eq!(
            MediaUrl::parse("https://Images.Example.CO.UK:8443/x.png")
                .unwrap()
                .host(),
            "images.example.co.uk"
        );
    }

    #[test]
    fn everything_else_is_refused_with_the_rule_it_breaks() {
        let rule = |raw: &str| match MediaUrl::parse(raw) {
            Err(ValidationError::Malformed {
                field: "media url",
                rule,
                ..
            }) => rule,
            other => panic!("{raw}: {other:?}"),
        };
        for raw in [
            "http://cdn.example.com/a.jpg",
            "ftp://cdn.example.com/a.jpg",
            "//cdn.example.com/a.jpg",
            "cdn.example.com/a.jpg",
            "javascript:alert(1)",
            "data:image/png;base64,AAAA",
        ] {
            assert!(rule(raw).starts_with("an https URL"), "{raw}");
        }
        for raw in [
            "https://localhost/a.jpg",
            "https://127.0.0.1/a.jpg",
            "https://[::1]/a.jpg",
            "https:///a.jpg",
            "https://-cdn.example.com/",
            "https://cdn..example.com/",
            "https://cdn.example.com./",
            "https://cdn_1.example.com/",
        ] {
            assert!(rule(raw).starts_with("the host"), "{raw}");
        }
        assert!(rule("https://user:pw@cdn.example.com/").starts_with("no user"));
        for raw in [
            "https://cdn.example.com:0/",
            "https://cdn.example.com:65536/",
            "https://cdn.example.com:/",
            "https://cdn.example.com:443x/",
        ] {
            assert!(rule(raw).starts_with("a port"), "{raw}");
        }
        for raw in [
            "https://cdn.example.com/red shirt.jpg",
            "https://cdn.example.com/a\"b",
            "https://cdn.example.com/<script>",
            "https://cdn.example.com/100%",
            "https://cdn.example.com/%zz",
            "https://cdn.example.com/a#b#c",
            "https://cdn.example.com/a\\b",
        ] {
            assert!(rule(raw).starts_with("path"), "{raw}");
        }
        assert!(rule("https://cdn.example.com/café.jpg").starts_with("ASCII"));
        assert!(rule("https://bücher.example/").starts_with("ASCII"));
        assert!(matches!(
            MediaUrl::parse("https://cdn.example.com/a\nb"),
            Err(ValidationError::ControlCharacter { .. })
        ));
        assert!(matches!(
            MediaUrl::parse(" "),
            Err(ValidationError::Empty { .. })
        ));
        let long = format!("https://cdn.example.com/{}", "a".repeat(2048));
        assert!(matches!(
            MediaUrl::parse(&long),
            Err(ValidationError::TooLong { max: 2048, .. })
        ));
    }

    #[test]
    fn serde_round_trips_and_validates() {
        let url = MediaUrl::parse("https://cdn.example.com/a.jpg").unwrap();
        let json = serde_json::to_string(&url).unwrap();
        assert_eq!(serde_json::from_str::<MediaUrl>(&json).unwrap(), url);
        assert!(serde_json::from_str::<MediaUrl>("\"http://cdn.example.com/a.jpg\"").is_err());
    }

    /// Mostly well-formed https URLs, each part sometimes broken.
    fn url_like() -> impl Strategy<Value = String> {
        (
            prop_oneof![4 => "https|HTTPS|HttpS", 1 => "http|ftp|"],
            prop_oneof![4 => Just("://"), 1 => Just(":/"), 1 => Just("")],
            prop_oneof![
                4 => "[a-zA-Z0-9]{1,8}(\\.[a-zA-Z0-9-]{0,6}[a-zA-Z]){1,3}(:[0-9]{1,6})?",
                1 => "[a-zA-Z0-9.@\\[\\]:_-]{0,24}",
            ],
            prop_oneof![
                4 => "[a-zA-Z0-9._~!$&'()*+,;=:@/?-]{0,30}(%[0-9a-fA-F]{2})?(#[a-z]{0,5})?",
                1 => "[a-zA-Z0-9%._~!$&'()*+,;=:@/?# \"<>\\\\é-]{0,40}",
            ],
        )
            .prop_map(|(scheme, sep, host, tail)| format!("{scheme}{sep}{host}/{tail}"))
    }

    proptest! {
        #[test]
        fn parse_never_panics_and_accepted_urls_are_https_ascii_and_stable(
            s in prop_oneof![any::<String>(), "\\PC*", url_like()],
        ) {
            if let Ok(url) = MediaUrl::parse(&s) {
                let text = url.as_str();
                prop_assert!(text.starts_with("https://"));
                prop_assert!(text.len() <= MediaUrl::MAX_LEN);
                prop_assert!(text.bytes().all(|b| b.is_ascii_graphic()));
                prop_assert!(!url.host().is_empty());
                prop_assert_eq!(url.host(), url.host().to_ascii_lowercase());
                prop_assert_eq!(MediaUrl::parse(text)?, url.clone());
                prop_assert_eq!(MediaUrl::try_from(String::from(url.clone()))?, url);
            }
        }
    }
}
