//! A product's images: one to five, served from `cdn.example.com` under the
//! product's slug. A product offered in something one can see (colours, finishes,
//! metals) has a photo of the whole product, then one per value shown, tied to it
//! so that choosing Navy shows the navy photo; the others have views (front, side,
//! detail...). Every list goes through the domain's [`check_images`].

use ecom_domain::catalog::{OptionChoice, ProductImage, ProductOptions, check_images};
use ecom_domain::values::{AltText, MediaUrl, OptionName, OptionValue, Slug};
use rand::RngExt;

use super::Listed;
use super::axes::{COLOUR, FINISH, METAL};
use super::goods::Goods;
use crate::SeedError;
use crate::generate::rng::SeedRng;

/// The most images a product gets here (the domain allows more).
const MOST: usize = 5;

/// The images of `listed` (whose slug is `slug` and option types `options`), drawn
/// from `rng` after its attributes, checked by the domain.
pub(super) fn of_product(
    listed: &Listed,
    slug: &Slug,
    options: &ProductOptions,
    rng: &mut SeedRng,
) -> Result<Vec<ProductImage>, SeedError> {
    let name = listed.name.as_str();
    let shown = listed.offers.iter().find(|o| {
        [&COLOUR, &FINISH, &METAL]
            .iter()
            .any(|a| std::ptr::eq(o.axis, *a))
    });
    let mut images: Vec<(String, Option<OptionChoice>)> = vec![(name.to_owned(), None)];
    match shown {
        Some(offer) => {
            let option = OptionName::parse(offer.axis.name)
                .map_err(|e| SeedError::invalid("option name", e))?;
            for pick in offer.picks().take(MOST - 1) {
                let value = OptionValue::parse(pick.value)
                    .map_err(|e| SeedError::invalid("option value", e))?;
                let alt = match offer.axis.name {
                    "Colour" => format!("{name} in {}", pick.value),
                    other => format!("{name}, {} {}", pick.value, other.to_lowercase()),
                };
                images.push((
                    alt,
                    Some(OptionChoice {
                        option: option.clone(),
                        value,
                    }),
                ));
            }
        }
        None => {
            let views: &[&str] = match listed.goods {
                Goods::Books => &["back cover", "sample pages"],
                Goods::Electronics => &["side view", "back view", "ports", "in use"],
                Goods::Furniture => &["side view", "detail", "in a room"],
                _ => &["side view", "back view", "detail", "in use"],
            };
            let extra = rng.random_range(0..=views.len().min(MOST - 1));
            for view in &views[..extra] {
                images.push((format!("{name}, {view}"), None));
            }
        }
    }
    let images = images
        .into_iter()
        .enumerate()
        .map(|(n, (alt, option))| {
            Ok(ProductImage {
                url: MediaUrl::parse(&format!(
                    "https://cdn.example.com/p/{}/{}.jpg",
                    slug.as_str(),
                    n + 1
                ))
                .map_err(|e| SeedError::invalid("image url", e))?,
                alt: AltText::parse(&alt).map_err(|e| SeedError::invalid("alt text", e))?,
                option,
            })
        })
        .collect::<Result<Vec<_>, SeedError>>()?;
    check_images(options, images).map_err(|e| SeedError::invalid("images", e))
}
