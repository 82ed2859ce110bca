//! The token generator against vectors computed by botocore (tests/vectors/iam_token_vectors.py).

use chrono::{TimeZone, Utc};
use ecom_infra::iam_token::{Credentials, TokenTarget, database_url, generate_auth_token};

use crate::support::ca_bundle;

fn target() -> TokenTarget {
    TokenTarget {
        hostname: "mydb.abc123.eu-west-1.rds.amazonaws.com".into(),
        port: 5432,
        username: "iam_user".into(),
        region: "eu-west-1".into(),
    }
}

fn credentials(session_token: Option<&str>) -> Credentials {
    Credentials {
        access_key_id: "AKIDEXAMPLE".into(),
        secret_access_key: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY".into(),
        session_token: session_token.map(str::to_owned),
    }
}

fn signed_at() -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2024, 1, 2, 3, 4, 5).unwrap()
}

#[test]
fn token_matches_the_issue_vector_computed_by_botocore() {
    assert_eq!(
        generate_auth_token(&target(), &credentials(None), signed_at()),
        "mydb.abc123.eu-west-1.rds.amazonaws.com:5432/?Action=connect&DBUser=iam_user\
         &X-Amz-Algorithm=AWS4-HMAC-SHA256\
         &X-Amz-Credential=AKIDEXAMPLE%2F20240102%2Feu-west-1%2Frds-db%2Faws4_request\
         &X-Amz-Date=20240102T030405Z&X-Amz-Expires=900&X-Amz-SignedHeaders=host\
         &X-Amz-Signature=2dc4d86d12079e180aad978ed4ebf7475c924d07b308b279925c48e315d44411"
    );
}

#[test]
fn token_with_a_session_token_signs_it_as_botocore_does() {
    assert_eq!(
        generate_auth_token(
            &target(),
            &credentials(Some("FQoGZXIvYXdzEJr//////////wEaDEXAMPLE+session/token=")),
            signed_at()
        ),
        "mydb.abc123.eu-west-1.rds.amazonaws.com:5432/?Action=connect&DBUser=iam_user\
         &X-Amz-Algorithm=AWS4-HMAC-SHA256\
         &X-Amz-Credential=AKIDEXAMPLE%2F20240102%2Feu-west-1%2Frds-db%2Faws4_request\
         &X-Amz-Date=20240102T030405Z&X-Amz-Expires=900&X-Amz-SignedHeaders=host\
         &X-Amz-Security-Token=FQoGZXIvYXdzEJr%2F%2F%2F%2F%2F%2F%2F%2F%2F%2FwEaDEXAMPLE%2Bsession%2Ftoken%3D\
         &X-Amz-Signature=f75b3cb6be4df339fa7aa56208dd191f3353cad0eb99d2a496fd89323c72d37f"
    );
}

#[test]
fn database_url_carries_the_token_encoded_and_verifies_the_server() {
    let token = generate_auth_token(&target(), &credentials(None), signed_at());
    let ca = ca_bundle();
    let url = database_url(&target(), "ecom", &token, &ca);
    assert!(url.starts_with("postgres://iam_user:mydb.abc123.eu-west-1.rds.amazonaws.com%3A5432%2F%3FAction%3Dconnect%26"), "{url}");
    assert!(
        url.ends_with(&format!(
            "@mydb.abc123.eu-west-1.rds.amazonaws.com:5432/ecom?sslmode=verify-full&sslrootcert={}",
            ca.path().display()
        )),
        "{url}"
    );
    ecom_store::pool::require_verified_tls(&url, None, None).unwrap();
    // The password part holds no character that would end it early.
    let password = url
        .trim_start_matches("postgres://iam_user:")
        .split('@')
        .next()
        .unwrap();
    assert!(!password.contains([':', '/', '?', '&', '=']), "{password}");
}

#[test]
fn cli_db_auth_token_prints_a_token_for_the_standard_chain_credentials() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_ecom-infra"))
        .args([
            "db-auth-token",
            "--hostname",
            "mydb.example",
            "--port",
            "5432",
            "--username",
            "app",
            "--region",
            "eu-west-1",
        ])
        .env("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
        .env("AWS_SECRET_ACCESS_KEY", "secret")
        .env("AWS_SESSION_TOKEN", "session")
        .env("AWS_CONFIG_FILE", "/nonexistent")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
        .env_remove("AWS_PROFILE")
        .output()
        .expect("run ecom-infra");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let token = String::from_utf8(out.stdout).unwrap();
    assert!(token.starts_with("mydb.example:5432/?Action=connect&DBUser=app&X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIDEXAMPLE%2F"), "{token}");
    assert!(
        token.contains("%2Feu-west-1%2Frds-db%2Faws4_request&"),
        "{token}"
    );
    assert!(token.contains("&X-Amz-Expires=900&X-Amz-SignedHeaders=host&X-Amz-Security-Token=session&X-Amz-Signature="), "{token}");
    assert_eq!(token.trim_end().rsplit('=').next().unwrap().len(), 64);
}

#[test]
fn an_ecom_store_pool_takes_a_fresh_token_for_each_new_connection() {
    use ecom_store::PasswordSource;

    let source =
        ecom_infra::iam_token::IamTokenSource::new(target(), credentials(Some("session/token+=")));
    let token = source.password().unwrap();
    assert!(token.starts_with(
        "mydb.abc123.eu-west-1.rds.amazonaws.com:5432/?Action=connect&DBUser=iam_user&"
    ));
    assert!(token.contains("X-Amz-Security-Token="));
    assert!(!format!("{source:?}").contains("EXAMPLEKEY"));

    // A real pool opens connections with the token as their password (the private
    // cluster trusts local connections, so this proves the token survives the trip
    // through the connection URL, not that PostgreSQL checked it).
    let db = ecom_store::testing::TestDb::new();
    let config = ecom_store::StoreConfig {
        pool_max_size: 2,
        pool_min_idle: 0,
        ..ecom_store::StoreConfig::new(db.url())
    };
    let pool = ecom_store::build_pool_with(&config, Some(std::sync::Arc::new(source))).unwrap();
    assert!(ecom_store::get_conn(&pool).is_ok());
}
