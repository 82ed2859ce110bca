//! `scripts/py-tools`, which every test run needs, names each missing prerequisite:
//! Python's venv module (Debian's python3-venv) and access to the package index.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::support::workspace_root;

/// A directory of its own, removed on drop.
struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("ecom-py-tools-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("create a scratch directory");
        Self(dir)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Runs py-tools with its virtualenv in `venv` and the given environment.
fn py_tools(venv: &Path, env: &[(&str, &Path)]) -> Output {
    let mut command = Command::new(workspace_root().join("ecom-infra/scripts/py-tools"));
    command
        .env("ECOM_PY_VENV", venv)
        .env_remove("PIP_INDEX_URL");
    for (key, value) in env {
        command.env(key, value);
    }
    command.output().expect("run ecom-infra/scripts/py-tools")
}

#[test]
fn a_python_without_venv_is_named_with_the_package_to_install() {
    let scratch = Scratch::new("no-venv");
    // What Debian's python3 does without python3-venv: `-m venv` fails.
    let python = scratch.0.join("python3");
    std::fs::write(
        &python,
        "#!/bin/sh\n\
         echo 'The virtual environment was not created successfully because ensurepip is not available.' >&2\n\
         exit 1\n",
    )
    .unwrap();
    std::fs::set_permissions(&python, std::fs::Permissions::from_mode(0o755)).unwrap();
    let venv = scratch.0.join("py");

    let out = py_tools(&venv, &[("PYTHON", &python)]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{out:?}");
    assert!(
        stderr.contains("install python3-venv (Debian/Ubuntu: apt-get install python3-venv)"),
        "{stderr}"
    );
    assert!(
        stderr.contains("ensurepip is not available"),
        "Python's own message is kept: {stderr}"
    );
    assert!(
        !venv.exists(),
        "no half-made virtualenv is left to trip the next run"
    );
}

#[test]
fn an_unreachable_package_index_is_named() {
    let scratch = Scratch::new("no-index");
    let venv = scratch.0.join("py");
    // Port 1 of loopback: nothing listens there, so every request is refused at once.
    let index = Path::new("http://127.0.0.1:1/simple/");
    let out = py_tools(
        &venv,
        &[("PIP_INDEX_URL", index), ("PIP_RETRIES", Path::new("0"))],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{out:?}");
    assert!(
        stderr.contains("cannot reach the Python package index at http://127.0.0.1:1/simple/"),
        "{stderr}"
    );
    assert!(!venv.join(".installed").exists());
}
