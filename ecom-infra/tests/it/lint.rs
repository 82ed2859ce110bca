//! Every preset's template passes AWS's CloudFormation linter, warnings included.

use std::process::{Command, Stdio};

use ecom_infra::spec::{AuroraSpec, AuroraStorage, EngineKind};
use ecom_infra::{Preset, template};

use crate::support::{REGION, py_bin, workspace_root};

#[test]
fn every_preset_template_passes_cfn_lint() {
    // Each preset on each engine, with and without an RDS Proxy, and Aurora I/O-Optimized.
    let specs = Preset::ALL.iter().flat_map(|preset| {
        EngineKind::ALL.iter().flat_map(move |engine| {
            let plain = preset.spec_on(REGION, *engine);
            let mut proxied = plain.clone();
            proxied.proxy = Some(ecom_infra::spec::ProxySpec::default());
            let mut unproxied = plain.clone();
            unproxied.proxy = None;
            let name = format!("{}-{}", preset.name(), engine.name());
            [
                (format!("{name}-proxy"), proxied),
                (format!("{name}-no-proxy"), unproxied),
            ]
        })
    });
    let io_optimized = Preset::Production.spec(REGION).on_aurora(AuroraSpec {
        storage: AuroraStorage::IoOptimized,
        ..AuroraSpec::default()
    });
    let specs = specs.chain([("production-aurora-io-optimized".to_owned(), io_optimized)]);
    for (name, spec) in specs {
        let path = workspace_root().join(format!("target/py/template-{name}.json"));
        std::fs::write(&path, template::render_string(&spec).unwrap()).unwrap();
        let out = Command::new(py_bin().join("cfn-lint"))
            .arg("--regions")
            .arg(REGION)
            .arg("--")
            .arg(&path)
            .stdin(Stdio::null())
            .output()
            .expect("run cfn-lint");
        assert!(
            out.status.success(),
            "cfn-lint on {name}:\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

#[test]
fn template_is_deterministic_and_the_cli_prints_it() {
    let spec = Preset::Production.spec(REGION);
    let first = template::render_string(&spec).unwrap();
    assert_eq!(first, template::render_string(&spec).unwrap());
    let out = Command::new(env!("CARGO_BIN_EXE_ecom-infra"))
        .args(["--preset", "production", "--region", REGION, "template"])
        .output()
        .unwrap();
    assert!(out.status.success());
    assert_eq!(String::from_utf8(out.stdout).unwrap(), first);
    // Keys come out sorted at every level, whatever serde_json's features are.
    let resources = first.find("\"Resources\"").unwrap();
    assert!(first.find("\"Outputs\"").unwrap() < resources);
    assert!(first.find("\"AlarmPrimaryConnections\"").unwrap() < first.find("\"Vpc\": {").unwrap());
}

#[test]
fn no_secret_in_the_template() {
    for preset in Preset::ALL {
        for engine in EngineKind::ALL {
            let text = template::render_string(&preset.spec_on(REGION, engine)).unwrap();
            assert!(
                !text.contains("\"MasterUserPassword\""),
                "{} {}",
                preset.name(),
                engine.name()
            );
            assert!(text.contains("\"ManageMasterUserPassword\": true"));
        }
    }
}

#[test]
fn the_cli_renders_a_preset_on_aurora_and_refuses_engine_with_a_spec_file() {
    let run = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_ecom-infra"))
            .args(["--region", REGION])
            .args(args)
            .output()
            .unwrap()
    };
    let out = run(&["--preset", "production", "--engine", "aurora", "template"]);
    assert!(out.status.success(), "{out:?}");
    let spec = Preset::Production.spec_on(REGION, EngineKind::Aurora);
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        template::render_string(&spec).unwrap()
    );
    let out = run(&["--spec", "/nonexistent.json", "--engine", "aurora", "spec"]);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("cannot be used with"),
        "{out:?}"
    );
}
