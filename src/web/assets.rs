//! Static assets embedded in the binary (`assets/`: our CSS and JS plus the vendored libraries
//! that `build.rs` copies from npm), served with content types, ETags and long cache lifetimes
//! when the URL carries the asset version.

use std::sync::LazyLock;

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use sha2::{Digest, Sha256};

#[derive(rust_embed::RustEmbed)]
#[folder = "assets/"]
struct Assets;

static VERSION: LazyLock<String> = LazyLock::new(|| {
    let mut hasher = Sha256::new();
    let mut names: Vec<_> = Assets::iter().collect();
    names.sort();
    for name in names {
        if let Some(file) = Assets::get(&name) {
            hasher.update(name.as_bytes());
            hasher.update(file.metadata.sha256_hash());
        }
    }
    hex::encode(&hasher.finalize()[..6])
});

/// A short hash of all embedded assets, appended as `?v=` to asset URLs.
pub fn version() -> &'static str {
    VERSION.as_str()
}

/// Serves `/assets/{path}`.
pub async fn serve_asset(req: HttpRequest, path: web::Path<String>) -> HttpResponse {
    let path = path.into_inner();
    let Some(file) = Assets::get(&path) else {
        return HttpResponse::NotFound().finish();
    };
    let etag = format!("\"{}\"", hex::encode(&file.metadata.sha256_hash()[..8]));
    if req
        .headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v == etag)
    {
        return HttpResponse::NotModified()
            .insert_header((header::ETAG, etag))
            .finish();
    }
    let versioned = req.query_string().contains("v=");
    let cache = if versioned {
        "public, max-age=31536000, immutable"
    } else {
        "public, max-age=300"
    };
    let mime = mime_guess::from_path(&path).first_or_octet_stream();
    HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, mime.essence_str().to_string()))
        .insert_header((header::CACHE_CONTROL, cache))
        .insert_header((header::ETAG, etag))
        .body(file.data.into_owned())
}
