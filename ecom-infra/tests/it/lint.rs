//! Every preset's template passes AWS's CloudFormation linter, warnings included.

use std::process::{Command, Stdio};

use ecom_infra::{Preset, template};

use crate::support::{REGION, py_bin, workspace_root};

#[test]
fn every_preset_template_passes_cfn_lint() {
    // Each preset, and each with the parts no preset has (an RDS Proxy).
    let specs = Preset::ALL.iter().flat_map(|preset| {
        let plain = preset.spec(REGION);
        let mut proxied = plain.clone();
        proxied.proxy = Some(ecom_infra::spec::ProxySpec::default());
        [
            (preset.name().to_owned(), plain),
            (format!("{}-proxy", preset.name()), proxied),
        ]
    });
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
        let text = template::render_string(&preset.spec(REGION)).unwrap();
        assert!(
            !text.contains("\"MasterUserPassword\""),
            "{}",
            preset.name()
        );
        assert!(text.contains("\"ManageMasterUserPassword\": true"));
    }
}
