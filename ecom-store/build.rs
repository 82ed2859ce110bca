//! Rebuilds the crate when a migration changes (`embed_migrations!` alone does not
//! notice) and exports `ECOM_MIGRATIONS_HASH`, a fingerprint of the migrations that
//! names the test template database, so that a changed migration gets a fresh one.

use std::fs;
use std::path::{Path, PathBuf};

fn main() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../migrations");
    // A directory is watched recursively by cargo.
    println!("cargo:rerun-if-changed=../migrations");

    let mut files = Vec::new();
    collect(&dir, &mut files);
    files.sort();

    // FNV-1a, 64 bit: a cache key, not a security boundary; no dependency needed.
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    let mut feed = |bytes: &[u8]| {
        for &b in bytes {
            hash ^= u64::from(b);
            hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
        }
    };
    for file in &files {
        let relative = file.strip_prefix(&dir).expect("collected under dir");
        feed(relative.to_string_lossy().as_bytes());
        feed(&[0]);
        feed(&fs::read(file).expect("migration file is readable"));
        feed(&[0]);
    }
    println!("cargo:rustc-env=ECOM_MIGRATIONS_HASH={:012x}", hash >> 16);
}

fn collect(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            collect(&path, out);
        } else if path.extension().is_some_and(|ext| ext == "sql") {
            out.push(path);
        }
    }
}
