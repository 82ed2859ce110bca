//! Verified TLS: the CA bundle is checked before use, `database-url` refuses to print a
//! URL without one, and a pool connects with `verify-full` through the bundle.

use ecom_infra::tls::{CaBundle, CaBundleError, RDS_CA_BUNDLE_URL};

use crate::support::{ca_bundle, workspace_root};

fn scratch(name: &str, text: &str) -> std::path::PathBuf {
    let path = workspace_root().join(format!("target/py/{}-{name}", std::process::id()));
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn a_bundle_must_hold_a_certificate() {
    let missing = CaBundle::from_option(None).unwrap_err();
    assert_eq!(missing, CaBundleError::Missing);
    assert!(missing.to_string().contains(RDS_CA_BUNDLE_URL), "{missing}");
    assert!(matches!(
        CaBundle::open("/nonexistent/global-bundle.pem"),
        Err(CaBundleError::Unreadable { .. })
    ));
    for (name, text) in [
        ("empty.pem", ""),
        (
            "key.pem",
            "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
        ),
        ("cut.pem", "-----BEGIN CERTIFICATE-----\nMIIB\n"),
        (
            "hollow.pem",
            "-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n",
        ),
    ] {
        let path = scratch(name, text);
        assert!(
            matches!(CaBundle::open(&path), Err(CaBundleError::NoCertificate(_))),
            "{name}"
        );
    }
    let ca = ca_bundle();
    assert_eq!(ca.certificates(), 1);
    assert!(ca.path().is_absolute());
}

#[test]
fn url_params_verify_the_host_and_encode_the_path() {
    let pem = std::fs::read_to_string(ca_bundle().path()).unwrap();
    let spaced = scratch("rds bundle&more.pem", &pem);
    let ca = CaBundle::open(&spaced).unwrap();
    let params = ca.url_params();
    assert!(
        params.starts_with("sslmode=verify-full&sslrootcert=/"),
        "{params}"
    );
    assert!(params.ends_with("rds%20bundle%26more.pem"), "{params}");
}

#[test]
fn an_iam_token_pool_connects_with_the_server_verified_by_the_bundle() {
    use std::sync::Arc;

    use ecom_infra::iam_token::{Credentials, IamTokenSource, TokenTarget};

    let db = ecom_store::testing::TestDb::new();
    let ca = ca_bundle();
    // The private cluster's certificate names localhost: verify-full checks that too.
    let (base, _) = db.url().split_once('?').unwrap_or((db.url(), ""));
    let url = format!(
        "{}?{}",
        base.replace("@127.0.0.1:", "@localhost:"),
        ca.url_params()
    );
    let target = TokenTarget {
        hostname: "localhost".into(),
        port: 5432,
        username: "ecom_app".into(),
        region: "eu-west-1".into(),
    };
    let credentials = Credentials {
        access_key_id: "AKIDEXAMPLE".into(),
        secret_access_key: "secret".into(),
        session_token: None,
    };
    let config = ecom_store::StoreConfig {
        pool_max_size: 2,
        pool_min_idle: 0,
        ..ecom_store::StoreConfig::new(url)
    };
    let source = Arc::new(IamTokenSource::new(target, credentials.provider()).unwrap());
    let pool = ecom_store::build_pool_with(&config, Some(source)).unwrap();
    // The cluster takes TCP connections only over TLS; verify-full has checked the
    // certificate against the bundle and the host name before this succeeds.
    assert!(ecom_store::get_conn(&pool).is_ok());
}

#[test]
fn cli_database_url_refuses_without_a_bundle_before_calling_aws() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_ecom-infra"))
        // Nothing listens there: an AWS call would fail differently.
        .args(["--endpoint-url", "http://127.0.0.1:9", "database-url"])
        .env_remove("ECOM_RDS_CA_BUNDLE")
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("no CA bundle") && stderr.contains(RDS_CA_BUNDLE_URL),
        "{stderr}"
    );
}
