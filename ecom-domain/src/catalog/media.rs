//! A product's images: ordered, each with alt text and, optionally, the option value
//! it shows (the red shirt's photos go with Colour: Red).

use std::collections::hash_map::{Entry, HashMap};

use serde::{Deserialize, Serialize};

use super::variant::{OptionChoice, OptionError, ProductOptions};
use crate::values::{AltText, MediaUrl};

/// What the media rules refuse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MediaError {
    /// More images than [`MAX_IMAGES`].
    #[error("{count} images, at most {max} are allowed")]
    TooManyImages {
        /// How many were given.
        count: usize,
        /// The limit.
        max: usize,
    },
    /// One URL twice in a product's images.
    #[error("images {first} and {second} are both {url}")]
    DuplicateUrl {
        /// The URL.
        url: MediaUrl,
        /// The position of the first, counted from 0.
        first: usize,
        /// The position of the second.
        second: usize,
    },
    /// An image tied to an option value the product doesn't have.
    #[error(transparent)]
    Option(#[from] OptionError),
}

/// The most images one product has.
pub const MAX_IMAGES: usize = 50;

/// One image of a product.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ProductImage {
    /// Where the file is served from.
    pub url: MediaUrl,
    /// What it shows, in words.
    pub alt: AltText,
    /// The option value it shows, so that choosing Colour: Red shows the red
    /// photos; `None` for an image of the product as a whole.
    pub option: Option<OptionChoice>,
}

/// Checks a product's images, in display order: at most [`MAX_IMAGES`], no URL twice,
/// each tie to an option value one of the product's (ignoring case). Returns them with
/// the ties in the product's spelling. When a product's options change, its images
/// are checked again: a tie to a removed value is refused, not silently dropped.
pub fn check_images(
    options: &ProductOptions,
    images: Vec<ProductImage>,
) -> Result<Vec<ProductImage>, MediaError> {
    if images.len() > MAX_IMAGES {
        return Err(MediaError::TooManyImages {
            count: images.len(),
            max: MAX_IMAGES,
        });
    }
    let mut seen: HashMap<&MediaUrl, usize> = HashMap::with_capacity(images.len());
    for (second, image) in images.iter().enumerate() {
        match seen.entry(&image.url) {
            Entry::Occupied(first) => {
                return Err(MediaError::DuplicateUrl {
                    url: image.url.clone(),
                    first: *first.get(),
                    second,
                });
            }
            Entry::Vacant(slot) => {
                slot.insert(second);
            }
        }
    }
    images
        .into_iter()
        .map(|image| {
            let option = image
                .option
                .map(|choice| options.resolve_choice(&choice))
                .transpose()?;
            Ok(ProductImage { option, ..image })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::variant::tests::{choice, name, shirt, value};
    use proptest::prelude::*;

    fn image(path: &str, option: Option<OptionChoice>) -> ProductImage {
        ProductImage {
            url: MediaUrl::parse(&format!("https://cdn.example.com/{path}")).unwrap(),
            alt: AltText::parse("A T-shirt").unwrap(),
            option,
        }
    }

    #[test]
    fn images_keep_their_order_and_tie_to_the_product_s_values() {
        let images = vec![
            image("front.jpg", None),
            image("red.jpg", Some(choice("colour", "RED"))),
            image("blue.jpg", Some(choice("Colour", "Blue"))),
        ];
        let checked = check_images(&shirt(), images).unwrap();
        let paths: Vec<&str> = checked.iter().map(|i| i.url.as_str()).collect();
        assert_eq!(
            paths,
            [
                "https://cdn.example.com/front.jpg",
                "https://cdn.example.com/red.jpg",
                "https://cdn.example.com/blue.jpg"
            ]
        );
        assert_eq!(checked[1].option, Some(choice("Colour", "Red")));
    }

    #[test]
    fn a_tie_to_a_value_the_product_lacks_is_refused() {
        assert_eq!(
            check_images(
                &shirt(),
                vec![image("a.jpg", Some(choice("Colour", "Pink")))]
            ),
            Err(MediaError::Option(OptionError::UnknownValue {
                option: name("Colour"),
                value: value("Pink")
            }))
        );
        assert_eq!(
            check_images(
                &ProductOptions::none(),
                vec![image("a.jpg", Some(choice("Colour", "Red")))]
            ),
            Err(MediaError::Option(OptionError::UnknownOption {
                option: name("Colour")
            }))
        );
    }

    #[test]
    fn images_are_bounded_and_never_repeated() {
        let twice = vec![
            image("a.jpg", None),
            image("b.jpg", None),
            image("a.jpg", Some(choice("Colour", "Red"))),
        ];
        assert_eq!(
            check_images(&shirt(), twice),
            Err(MediaError::DuplicateUrl {
                url: MediaUrl::parse("https://cdn.example.com/a.jpg").unwrap(),
                first: 0,
                second: 2
            })
        );
        let many = (0..=MAX_IMAGES)
            .map(|i| image(&format!("{i}.jpg"), None))
            .collect();
        assert_eq!(
            check_images(&shirt(), many),
            Err(MediaError::TooManyImages { count: 51, max: 50 })
        );
        let image = image("red.jpg", Some(choice("Colour", "Red")));
        let json = serde_json::to_string(&image).unwrap();
        assert_eq!(serde_json::from_str::<ProductImage>(&json).unwrap(), image);
    }

    proptest! {
        #[test]
        fn checked_images_are_distinct_bounded_and_tied_to_real_values(
            raw in proptest::collection::vec(
                ("[a-z]{1,8}", proptest::option::of(("(?i)colou?r|size|fit", "(?i)red|blue|pink|s|xl"))),
                0..55,
            ),
        ) {
            let options = shirt();
            let images: Vec<ProductImage> = raw
                .iter()
                .map(|(path, tie)| image(path, tie.as_ref().map(|(o, v)| choice(o, v))))
                .collect();
            if let Ok(checked) = check_images(&options, images.clone()) {
                prop_assert!(checked.len() <= MAX_IMAGES);
                prop_assert_eq!(checked.len(), images.len());
                let urls: std::collections::HashSet<_> = checked.iter().map(|i| &i.url).collect();
                prop_assert_eq!(urls.len(), checked.len());
                for (got, given) in checked.iter().zip(&images) {
                    prop_assert_eq!(&got.url, &given.url);
                    if let Some(tie) = &got.option {
                        let t = options.get(tie.option.as_str()).unwrap();
                        prop_assert_eq!(t.name(), &tie.option);
                        prop_assert!(t.values().contains(&tie.value));
                    }
                }
            }
        }
    }
}
