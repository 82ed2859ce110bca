//! The import rule of docs/architecture.md, read off the source files: `ops/` under
//! `repo/`, neither importing a sibling, the base under both, and the development
//! cluster reachable only from the code built with its feature.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// The files of `dir` (relative to `src/`), without its `mod.rs`.
fn files_in(dir: &str) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(src().join(dir))
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.file_name().is_some_and(|name| name != "mod.rs"))
        .collect();
    files.sort();
    files
}

/// The paths a file names outside comments and tests: `crate::ops::order`,
/// `super::payment`...
fn paths(file: &Path) -> BTreeSet<String> {
    let text = std::fs::read_to_string(file).unwrap();
    let code = text.split("#[cfg(test)]").next().unwrap_or_default();
    let word = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == ':';
    code.lines()
        .map(|line| line.split("//").next().unwrap_or_default())
        .flat_map(|line| {
            ["crate::", "super::"]
                .into_iter()
                .flat_map(move |root| line.match_indices(root).map(move |(at, _)| &line[at..]))
        })
        .map(|rest| rest.chars().take_while(|c| word(*c)).collect::<String>())
        .collect()
}

fn offences(files: &[PathBuf], forbidden: &[&str]) -> Vec<String> {
    files
        .iter()
        .flat_map(|file| {
            paths(file)
                .into_iter()
                .filter(|path| forbidden.iter().any(|f| path.starts_with(f)))
                .map(move |path| format!("{} names {path}", file.display()))
        })
        .collect()
}

#[test]
fn ops_import_neither_each_other_nor_the_api() {
    let broken = offences(&files_in("ops"), &["crate::ops", "crate::repo", "super::"]);
    assert!(broken.is_empty(), "{broken:#?}");
}

#[test]
fn repository_files_do_not_import_each_other() {
    let broken = offences(&files_in("repo"), &["crate::repo", "super::"]);
    assert!(broken.is_empty(), "{broken:#?}");
}

#[test]
fn the_base_imports_neither_ops_nor_the_api() {
    let mut base = files_in("rows");
    for file in ["sql.rs", "error.rs", "outbox.rs", "decode.rs", "schema.rs"] {
        base.push(src().join(file));
    }
    let broken = offences(&base, &["crate::ops", "crate::repo"]);
    assert!(broken.is_empty(), "{broken:#?}");
}

#[test]
fn only_feature_gated_code_reaches_the_development_cluster() {
    // config.rs names it only in `from_env_or_dev`, behind `#[cfg(feature = "dev")]`;
    // testing.rs is the `testing` feature, which implies `dev`.
    let gated = ["dev", "bin", "testing.rs", "config.rs", "lib.rs"];
    let mut library = Vec::new();
    for entry in std::fs::read_dir(src()).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if gated.contains(&name.as_str()) {
            continue;
        }
        if path.is_dir() {
            library.extend(files_in(&name));
        } else {
            library.push(path);
        }
    }
    assert!(library.len() > 20, "read the library's files: {library:?}");
    let broken = offences(&library, &["crate::dev"]);
    assert!(broken.is_empty(), "{broken:#?}");
}
