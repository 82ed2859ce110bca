//! The least-privilege policies: every call `deploy`, `plan`, `status`, `database-url`
//! and `destroy` make, recorded by the emulator, is allowed by the deployer policy; the
//! service role's policy is the registry's handler permissions of the template's types.

use std::collections::BTreeSet;
use std::process::{Command, Stdio};

use ecom_infra::deployer::{self, Executor, handler_permissions::HANDLER_PERMISSIONS};
use ecom_infra::spec::{EngineKind, EnvironmentName};
use ecom_infra::{DeploymentSpec, Preset};

use crate::support::{Moto, REGION, ca_bundle, py_bin, workspace_root};

/// The test preset with an RDS Proxy: every resource type RDS has.
fn with_proxy() -> DeploymentSpec {
    let mut spec = DeploymentSpec::test(REGION);
    spec.proxy = Some(ecom_infra::spec::ProxySpec::default());
    spec
}

/// The same on Aurora, in an environment of its own: every resource type Aurora has.
fn aurora_with_proxy() -> DeploymentSpec {
    let mut spec = Preset::Test.spec_on(REGION, EngineKind::Aurora);
    spec.environment = EnvironmentName::parse("test-aurora").unwrap();
    spec.proxy = Some(ecom_infra::spec::ProxySpec::default());
    spec
}

/// Every spec whose policies are checked: each preset on each engine, and both with a
/// proxy.
fn every_spec() -> Vec<DeploymentSpec> {
    Preset::ALL
        .iter()
        .flat_map(|p| EngineKind::ALL.map(|e| p.spec_on(REGION, e)))
        .chain([with_proxy(), aurora_with_proxy()])
        .collect()
}

/// `service:Action` of every request in a moto recording (the client's own calls:
/// CloudFormation's internal work does not go through HTTP).
fn recorded_actions(recording: &std::path::Path) -> BTreeSet<String> {
    let script = r#"
import base64, json, sys, urllib.parse
out = set()
for line in open(sys.argv[1]):
    entry = json.loads(line)
    headers = {k.lower(): v for k, v in entry["headers"].items()}
    scope = headers.get("authorization", "").split("Credential=")[1].split(",")[0].split("/")
    service = {"monitoring": "cloudwatch"}.get(scope[3], scope[3])
    body = entry.get("body") or ""
    if entry.get("body_encoded"):
        body = base64.b64decode(body).decode()
    target = headers.get("x-amz-target")
    action = target.split(".")[-1] if target else urllib.parse.parse_qs(body)["Action"][0]
    out.add(f"{service}:{action}")
print(json.dumps(sorted(out)))
"#;
    let out = Command::new(py_bin().join("python"))
        .arg("-c")
        .arg(script)
        .arg(recording)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[tokio::test]
async fn every_call_of_every_command_is_in_the_deployer_policy() {
    let recording = workspace_root().join(format!(
        "target/py/moto-recording-{}.jsonl",
        std::process::id()
    ));
    let _ = std::fs::remove_file(&recording);
    let moto = Moto::start_with_env(&[
        ("MOTO_ENABLE_RECORDING", "True".as_ref()),
        ("MOTO_RECORDER_FILEPATH", recording.as_os_str()),
    ]);
    let aws = moto.aws().await;
    let ca = ca_bundle();
    for spec in [with_proxy(), aurora_with_proxy()] {
        aws.plan(&spec).await.unwrap();
        aws.deploy(&spec, &mut |_| {}).await.unwrap();
        aws.deploy(&spec, &mut |_| {}).await.unwrap(); // no changes
        aws.status(&spec).await.unwrap();
        aws.database_urls(&spec, &ca).await.unwrap();
        aws.destroy(&spec, &mut |_| {}).await.unwrap();
    }
    let spec = with_proxy();

    let called = recorded_actions(&recording);
    assert!(
        called.contains("cloudformation:ExecuteChangeSet"),
        "{called:?}"
    );
    let policy = deployer::deployer_policy(
        &spec,
        &Executor::ServiceRole {
            arn: "arn:aws:iam::123456789012:role/ecom-dms-cfn".into(),
        },
    )
    .unwrap();
    let missing: Vec<&String> = called
        .iter()
        .filter(|a| !deployer::allows(&policy, a))
        .collect();
    assert!(missing.is_empty(), "called but not allowed: {missing:?}");
    // And nothing granted that no command calls.
    let granted: BTreeSet<String> = deployer::DEPLOYER_ACTIONS
        .iter()
        .map(|(a, _)| (*a).to_owned())
        .collect();
    let unused: Vec<&String> = granted.difference(&called).collect();
    assert!(unused.is_empty(), "granted but never called: {unused:?}");
}

#[test]
fn the_table_is_the_registry_schemas() {
    let types: BTreeSet<String> = every_spec()
        .iter()
        .flat_map(|spec| deployer::resource_types(spec).unwrap())
        .collect();
    let out = Command::new(py_bin().join("python"))
        .arg(workspace_root().join("ecom-infra/tests/vectors/handler_permissions.py"))
        .arg(REGION)
        .args(&types)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let schemas: std::collections::BTreeMap<String, Vec<String>> =
        serde_json::from_slice(&out.stdout).unwrap();
    let table: std::collections::BTreeMap<String, Vec<String>> = HANDLER_PERMISSIONS
        .iter()
        .map(|(k, p)| ((*k).to_owned(), p.iter().map(|s| (*s).to_owned()).collect()))
        .collect();
    assert_eq!(table, schemas);
}

fn actions(policy: &serde_json::Value) -> BTreeSet<&str> {
    policy["Statement"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|s| match &s["Action"] {
            serde_json::Value::String(a) => vec![a.as_str()],
            serde_json::Value::Array(list) => list.iter().filter_map(|a| a.as_str()).collect(),
            _ => Vec::new(),
        })
        .collect()
}

#[test]
fn the_policies_grant_no_wildcard_action_and_cover_every_handler() {
    for spec in every_spec() {
        let role = deployer::service_role_policy(&spec).unwrap();
        let with_role = deployer::deployer_policy(
            &spec,
            &Executor::ServiceRole {
                arn: "arn:aws:iam::123456789012:role/ecom-dms-cfn".into(),
            },
        )
        .unwrap();
        let without_role = deployer::deployer_policy(&spec, &Executor::Deployer).unwrap();
        for policy in [&role, &with_role, &without_role] {
            let wildcards: Vec<&str> = actions(policy)
                .into_iter()
                .filter(|a| a.contains('*'))
                .collect();
            assert!(wildcards.is_empty(), "{wildcards:?}");
        }
        for kind in deployer::resource_types(&spec).unwrap() {
            let (_, permissions) = HANDLER_PERMISSIONS
                .iter()
                .find(|(k, _)| *k == kind)
                .unwrap_or_else(|| panic!("no handler permissions for {kind}"));
            for p in *permissions {
                assert!(deployer::allows(&role, p), "{kind}: {p}");
                assert!(deployer::allows(&without_role, p), "{kind}: {p}");
            }
        }
        // With a service role the deployer gets its own calls and PassRole, nothing more.
        let own: BTreeSet<&str> = deployer::DEPLOYER_ACTIONS
            .iter()
            .map(|(a, _)| *a)
            .chain(["iam:PassRole"])
            .collect();
        assert_eq!(actions(&with_role), own);
        assert!(deployer::allows(&with_role, "iam:PassRole"));
    }
}

#[test]
fn cli_prints_the_policies() {
    let run = |args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_ecom-infra"))
            .args(["--preset", "production", "--region", REGION])
            .args(args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap()
    };
    let deployer = run(&["iam-policy"]);
    assert!(deployer::allows(
        &deployer,
        "cloudformation:CreateChangeSet"
    ));
    assert!(deployer::allows(&deployer, "rds:CreateDBInstance"));
    let role = run(&["iam-policy", "--service-role"]);
    assert_eq!(
        role["AssumeRolePolicyDocument"],
        deployer::service_role_trust_policy()
    );
    assert!(deployer::allows(&role["PolicyDocument"], "kms:CreateKey"));
}
