//! The Python tools (installed on first use), a private moto server per test, and clients.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use ecom_infra::iam_token::Credentials;
use ecom_infra::tls::CaBundle;
use ecom_infra::{Aws, ConnectOptions};

pub const REGION: &str = "eu-west-1";

pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the crate sits in the workspace")
        .to_path_buf()
}

/// `target/py/bin`, after `ecom-infra/scripts/py-tools` made sure moto and cfn-lint are
/// there at their pinned versions (once per test process; quick when already installed).
pub fn py_bin() -> &'static Path {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        let root = workspace_root();
        let status = Command::new(root.join("ecom-infra/scripts/py-tools"))
            .stdin(Stdio::null())
            .status()
            .expect("run ecom-infra/scripts/py-tools (needs python3 with venv)");
        assert!(
            status.success(),
            "ecom-infra/scripts/py-tools failed: {status}"
        );
        root.join("target/py/bin")
    })
}

/// A real CA certificate standing in for AWS's RDS bundle (which cannot be downloaded
/// here): the private PostgreSQL cluster's own CA, which signed its server certificate.
pub fn ca_bundle() -> CaBundle {
    let cluster = ecom_store::dev::PrivateCluster::ensure().expect("the private cluster");
    CaBundle::open(cluster.ca_cert_path()).expect("the private cluster's CA")
}

/// A moto server on a free port of 127.0.0.1, with ecom-infra's documented patches,
/// killed when dropped. Its output goes to a log file under target/py/.
pub struct Moto {
    child: Child,
    pub endpoint: String,
    pub log: PathBuf,
}

/// What ecom_moto.py prints once its socket is bound: the port follows.
const LISTENING: &str = "ecom_moto: listening on 127.0.0.1:";

impl Moto {
    /// Starts moto on port 0 and reads the port it got from its log: no port is
    /// found free here and then raced for.
    pub fn start() -> Moto {
        Self::start_with_env(&[])
    }

    /// [`Moto::start`] with extra environment variables for the server (`MOTO_*`).
    pub fn start_with_env(env: &[(&str, &std::ffi::OsStr)]) -> Moto {
        static STARTED: AtomicUsize = AtomicUsize::new(0);
        let bin = py_bin();
        let log = workspace_root().join(format!(
            "target/py/moto-{}-{}.log",
            std::process::id(),
            STARTED.fetch_add(1, Ordering::Relaxed)
        ));
        let out = File::create(&log).expect("create the moto log");
        let child = Command::new(bin.join("python"))
            .arg(workspace_root().join("ecom-infra/tests/moto/ecom_moto.py"))
            .arg("0")
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(out.try_clone().expect("log handle"))
            .stderr(out)
            .spawn()
            .expect("start moto");
        let mut moto = Moto {
            child,
            endpoint: String::new(),
            log,
        };
        let started = Instant::now();
        let port = loop {
            let text = std::fs::read_to_string(&moto.log).unwrap_or_default();
            if let Some(port) = text.lines().find_map(|line| {
                line.strip_prefix(LISTENING)
                    .and_then(|port| port.trim().parse::<u16>().ok())
            }) {
                break port;
            }
            if let Ok(Some(status)) = moto.child.try_wait() {
                panic!("moto exited ({status}); see {}", moto.log.display());
            }
            assert!(
                started.elapsed() < Duration::from_secs(120),
                "moto did not listen within 120 s; see {}",
                moto.log.display()
            );
            std::thread::sleep(Duration::from_millis(50));
        };
        moto.endpoint = format!("http://127.0.0.1:{port}");
        moto
    }

    pub async fn aws(&self) -> Aws {
        Aws::connect(ConnectOptions {
            region: Some(REGION.into()),
            endpoint_url: Some(self.endpoint.clone()),
            credentials: Some(Credentials {
                access_key_id: "testing".into(),
                secret_access_key: "testing".into(),
                session_token: None,
            }),
            poll: Duration::from_millis(200),
            timeout: Duration::from_secs(120),
        })
        .await
        .expect("clients")
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Creates a stack from `template` directly (not through ecom-infra) and returns its final
/// status, for the tests of moto's patched behaviours.
pub async fn create_stack(aws: &Aws, name: &str, template: &serde_json::Value) -> String {
    aws.cfn
        .create_stack()
        .stack_name(name)
        .template_body(template.to_string())
        .send()
        .await
        .expect("CreateStack");
    stack_status(aws, name).await
}

pub async fn stack_status(aws: &Aws, name: &str) -> String {
    let out = aws
        .cfn
        .describe_stacks()
        .stack_name(name)
        .send()
        .await
        .expect("DescribeStacks");
    out.stacks()[0]
        .stack_status()
        .expect("a status")
        .as_str()
        .to_owned()
}

/// Tags of EC2 resources, read with boto3 from the test virtualenv: the Rust build leaves
/// out aws-sdk-ec2 (by far the largest SDK crate) on purpose.
pub fn ec2_tags(moto: &Moto, resource_ids: &[&str]) -> serde_json::Value {
    let script = r#"
import json, sys, boto3
ec2 = boto3.client("ec2", region_name=sys.argv[2], endpoint_url=sys.argv[1],
                   aws_access_key_id="testing", aws_secret_access_key="testing")
out = {}
for t in ec2.describe_tags(Filters=[{"Name": "resource-id", "Values": sys.argv[3:]}])["Tags"]:
    out.setdefault(t["ResourceId"], {})[t["Key"]] = t["Value"]
print(json.dumps(out))
"#;
    let out = Command::new(py_bin().join("python"))
        .arg("-c")
        .arg(script)
        .arg(&moto.endpoint)
        .arg(REGION)
        .args(resource_ids)
        .stdin(Stdio::null())
        .output()
        .expect("run boto3");
    assert!(
        out.status.success(),
        "boto3 describe_tags: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("JSON from boto3")
}

/// Which of these VPC, subnet and security group ids EC2 still has, read with boto3 (see
/// `ec2_tags`). Existence, not tags: moto keeps a deleted resource's tags in DescribeTags.
pub fn ec2_existing(moto: &Moto, resource_ids: &[&str]) -> Vec<String> {
    let script = r#"
import json, sys, boto3
ec2 = boto3.client("ec2", region_name=sys.argv[2], endpoint_url=sys.argv[1],
                   aws_access_key_id="testing", aws_secret_access_key="testing")
ids = set(sys.argv[3:])
found = [v["VpcId"] for v in ec2.describe_vpcs()["Vpcs"]]
found += [s["SubnetId"] for s in ec2.describe_subnets()["Subnets"]]
found += [g["GroupId"] for g in ec2.describe_security_groups()["SecurityGroups"]]
print(json.dumps(sorted(i for i in found if i in ids)))
"#;
    let out = Command::new(py_bin().join("python"))
        .arg("-c")
        .arg(script)
        .arg(&moto.endpoint)
        .arg(REGION)
        .args(resource_ids)
        .stdin(Stdio::null())
        .output()
        .expect("run boto3");
    assert!(
        out.status.success(),
        "boto3 describe: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("JSON from boto3")
}

/// Runs a boto3 script against moto (the endpoint and region are `sys.argv[1]` and
/// `sys.argv[2]`, then `args`) and parses the JSON it prints: for services whose Rust SDK
/// crates the build leaves out (EC2, IAM, CloudWatch Logs).
pub fn boto3_json(moto: &Moto, script: &str, args: &[&str]) -> serde_json::Value {
    let prelude = "import json, sys, boto3\n\
                   def client(name):\n    return boto3.client(name, region_name=sys.argv[2], endpoint_url=sys.argv[1], aws_access_key_id='testing', aws_secret_access_key='testing')\n";
    let out = Command::new(py_bin().join("python"))
        .arg("-c")
        .arg(format!("{prelude}{script}"))
        .arg(&moto.endpoint)
        .arg(REGION)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("run boto3");
    assert!(
        out.status.success(),
        "boto3: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("JSON from boto3")
}

/// Tags of an IAM role or a log group, by its physical id.
pub fn tags_via_boto3(moto: &Moto, resource_type: &str, id: &str) -> serde_json::Value {
    let script = match resource_type {
        "AWS::IAM::Role" => {
            "print(json.dumps({t['Key']: t['Value'] for t in client('iam').list_role_tags(RoleName=sys.argv[3])['Tags']}))"
        }
        "AWS::Logs::LogGroup" => {
            "print(json.dumps(client('logs').list_tags_log_group(logGroupName=sys.argv[3])['tags']))"
        }
        other => panic!("no boto3 tag reader for {other}"),
    };
    boto3_json(moto, script, &[id])
}

/// Log groups whose names start with `prefix`: name, retention and key of each.
pub fn log_groups(moto: &Moto, prefix: &str) -> serde_json::Value {
    boto3_json(
        moto,
        "groups = client('logs').describe_log_groups(logGroupNamePrefix=sys.argv[3])['logGroups']\n\
         print(json.dumps({g['logGroupName']: [g.get('retentionInDays'), g.get('kmsKeyId')] for g in groups}))",
        &[prefix],
    )
}
