//! Static assets compiled into the binary and served under content-hashed URLs, so they can be
//! cached forever and no CDN is needed.

use std::sync::LazyLock;

use sha2::{Digest, Sha256};

/// One embedded file.
pub struct Asset {
    /// File name as requested, e.g. `app.css`.
    pub name: &'static str,
    /// MIME type.
    pub content_type: &'static str,
    /// The bytes.
    pub body: &'static [u8],
    /// First 12 hex digits of the SHA-256 of `body`.
    pub hash: String,
}

impl Asset {
    fn new(name: &'static str, content_type: &'static str, body: &'static [u8]) -> Self {
        let hash = hex::encode(Sha256::digest(body))[..12].to_owned();
        Self {
            name,
            content_type,
            body,
            hash,
        }
    }

    /// The cache-busting URL of this asset.
    pub fn url(&self) -> String {
        format!("/assets/{}/{}", self.hash, self.name)
    }
}

static ASSETS: LazyLock<Vec<Asset>> = LazyLock::new(|| {
    vec![Asset::new(
        "app.css",
        "text/css; charset=utf-8",
        include_bytes!("../../assets/css/app.css"),
    )]
});

/// The asset named `name`, if embedded.
pub fn get(name: &str) -> Option<&'static Asset> {
    ASSETS.iter().find(|a| a.name == name)
}

/// The cache-busting URL of an embedded asset (empty if the name is unknown, which a test
/// rules out for every name the layout uses).
pub fn url(name: &str) -> String {
    get(name).map(Asset::url).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_stylesheet_is_embedded_with_a_hashed_url() {
        let url = super::url("app.css");
        assert!(
            url.starts_with("/assets/") && url.ends_with("/app.css"),
            "{url}"
        );
        assert_eq!(url.len(), "/assets/".len() + 12 + "/app.css".len());
    }
}
