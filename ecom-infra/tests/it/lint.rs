//! Every preset's template passes AWS's CloudFormation linter, warnings included.

use std::process::{Command, Stdio};

use ecom_infra::{Preset, template};

use crate::support::{REGION, py_bin, workspace_root};

#[test]
fn every_preset_template_passes_cfn_lint() {
    for preset in Preset::ALL {
        let path = workspace_root().join(format!("target/py/template-{}.json", preset.name()));
        std::fs::write(
            &path,
            template::render_string(&preset.spec(REGION)).unwrap(),
        )
        .unwrap();
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
            "cfn-lint on the {} preset:\n{}{}",
            preset.name(),
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
