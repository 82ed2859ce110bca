//! The token generator (aws-sdk-rds's) against vectors computed by botocore
//! (tests/vectors/iam_token_vectors.py), and a pool that keeps opening connections while
//! the credentials behind its tokens rotate.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use aws_credential_types::provider::{ProvideCredentials, SharedCredentialsProvider, future};
use chrono::{TimeZone, Utc};
use ecom_infra::iam_token::{
    Credentials, IamTokenError, IamTokenSource, TokenTarget, database_url, generate_auth_token,
};
use ecom_store::PasswordSource;

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

fn signed_at() -> SystemTime {
    Utc.with_ymd_and_hms(2024, 1, 2, 3, 4, 5).unwrap().into()
}

async fn token(credentials: &Credentials) -> String {
    generate_auth_token(&target(), credentials.provider(), signed_at())
        .await
        .unwrap()
}

#[tokio::test]
async fn token_matches_the_issue_vector_computed_by_botocore() {
    assert_eq!(
        token(&credentials(None)).await,
        "mydb.abc123.eu-west-1.rds.amazonaws.com:5432/?Action=connect&DBUser=iam_user\
         &X-Amz-Algorithm=AWS4-HMAC-SHA256\
         &X-Amz-Credential=AKIDEXAMPLE%2F20240102%2Feu-west-1%2Frds-db%2Faws4_request\
         &X-Amz-Date=20240102T030405Z&X-Amz-Expires=900&X-Amz-SignedHeaders=host\
         &X-Amz-Signature=2dc4d86d12079e180aad978ed4ebf7475c924d07b308b279925c48e315d44411"
    );
}

/// A token as the endpoint and its query parameters, sorted: RDS reads the parameters,
/// not their order.
fn parameters(token: &str) -> (&str, Vec<&str>) {
    let (endpoint, query) = token.split_once("/?").expect("host:port/?query");
    let mut params: Vec<&str> = query.split('&').collect();
    params.sort_unstable();
    (endpoint, params)
}

#[tokio::test]
async fn token_with_a_session_token_signs_it_as_botocore_does() {
    // Same parameters and the same signature as botocore; the SDK appends the session
    // token after the signature where botocore puts it before.
    let sdk = token(&credentials(Some(
        "FQoGZXIvYXdzEJr//////////wEaDEXAMPLE+session/token=",
    )))
    .await;
    assert_eq!(
        parameters(&sdk),
        parameters(
            "mydb.abc123.eu-west-1.rds.amazonaws.com:5432/?Action=connect&DBUser=iam_user\
         &X-Amz-Algorithm=AWS4-HMAC-SHA256\
         &X-Amz-Credential=AKIDEXAMPLE%2F20240102%2Feu-west-1%2Frds-db%2Faws4_request\
         &X-Amz-Date=20240102T030405Z&X-Amz-Expires=900&X-Amz-SignedHeaders=host\
         &X-Amz-Security-Token=FQoGZXIvYXdzEJr%2F%2F%2F%2F%2F%2F%2F%2F%2F%2FwEaDEXAMPLE%2Bsession%2Ftoken%3D\
         &X-Amz-Signature=f75b3cb6be4df339fa7aa56208dd191f3353cad0eb99d2a496fd89323c72d37f"
        )
    );
}

#[tokio::test]
async fn database_url_carries_the_token_encoded_and_verifies_the_server() {
    let token = token(&credentials(None)).await;
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
    let (_, params) = parameters(token.trim_end());
    for wanted in [
        "X-Amz-Expires=900",
        "X-Amz-SignedHeaders=host",
        "X-Amz-Security-Token=session",
    ] {
        assert!(params.contains(&wanted), "{token}");
    }
    let signature = params
        .iter()
        .find_map(|p| p.strip_prefix("X-Amz-Signature="))
        .expect("a signature");
    assert_eq!(signature.len(), 64, "{token}");
}

#[test]
fn an_ecom_store_pool_takes_a_fresh_token_for_each_new_connection() {
    let source =
        IamTokenSource::new(target(), credentials(Some("session/token+=")).provider()).unwrap();
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
    let pool = ecom_store::build_pool_with(&config, Some(Arc::new(source))).unwrap();
    assert!(ecom_store::get_conn(&pool).is_ok());
}

/// A role whose temporary credentials are replaced: after [`RotatingRole::rotate`] the
/// previous access key is expired, and the provider hands out the new one, as the SDK's
/// refreshing providers (assumed roles, SSO, instance roles) do.
#[derive(Debug, Default)]
struct RotatingRole {
    generation: AtomicU32,
    calls: AtomicU32,
}

impl RotatingRole {
    fn current_key(&self) -> String {
        format!("ASIAROTATING{:04}", self.generation.load(Ordering::SeqCst))
    }

    fn rotate(&self) {
        self.generation.fetch_add(1, Ordering::SeqCst);
    }
}

#[derive(Debug, Clone)]
struct RoleProvider(Arc<RotatingRole>);

impl ProvideCredentials for RoleProvider {
    fn provide_credentials<'a>(&'a self) -> future::ProvideCredentials<'a>
    where
        Self: 'a,
    {
        self.0.calls.fetch_add(1, Ordering::SeqCst);
        future::ProvideCredentials::ready(Ok(aws_credential_types::Credentials::new(
            self.0.current_key(),
            "rotating-secret",
            Some("rotating-session".into()),
            Some(SystemTime::now() + Duration::from_secs(900)),
            "rotating-role",
        )))
    }
}

/// Stands in for RDS's check of a token: only the role's current access key is accepted.
#[derive(Debug)]
struct Rds {
    tokens: Arc<dyn PasswordSource>,
    role: Arc<RotatingRole>,
    keys_seen: Mutex<Vec<String>>,
}

impl PasswordSource for Rds {
    fn password(&self) -> Result<String, String> {
        let token = self.tokens.password()?;
        let key = token
            .split("X-Amz-Credential=")
            .nth(1)
            .and_then(|rest| rest.split("%2F").next())
            .ok_or("no credential in the token")?
            .to_owned();
        self.keys_seen.lock().unwrap().push(key.clone());
        if key == self.role.current_key() {
            Ok(token)
        } else {
            Err(format!("PAM authentication failed: {key} has expired"))
        }
    }
}

fn pool_behind_rds(
    db: &ecom_store::testing::TestDb,
    tokens: Arc<dyn PasswordSource>,
    role: &Arc<RotatingRole>,
) -> (ecom_store::PgPool, Arc<Rds>) {
    let rds = Arc::new(Rds {
        tokens,
        role: Arc::clone(role),
        keys_seen: Mutex::new(Vec::new()),
    });
    let config = ecom_store::StoreConfig {
        pool_max_size: 3,
        pool_min_idle: 0,
        connection_timeout: Duration::from_secs(2),
        ..ecom_store::StoreConfig::new(db.url())
    };
    let pool = ecom_store::build_pool_with(&config, Some(rds.clone())).unwrap();
    (pool, rds)
}

#[test]
fn a_pool_keeps_opening_connections_while_its_credentials_rotate() {
    let db = ecom_store::testing::TestDb::new();
    let role = Arc::new(RotatingRole::default());
    let source = IamTokenSource::new(
        target(),
        SharedCredentialsProvider::new(RoleProvider(role.clone())),
    )
    .unwrap();
    let (pool, rds) = pool_behind_rds(&db, Arc::new(source), &role);

    let first = ecom_store::get_conn(&pool).unwrap();
    role.rotate();
    // Held connections force the pool to open new ones, each with a fresh token.
    let second = ecom_store::get_conn(&pool).expect("a connection after the rotation");
    role.rotate();
    let third = ecom_store::get_conn(&pool).expect("a connection after the second rotation");
    assert_eq!(
        *rds.keys_seen.lock().unwrap(),
        ["ASIAROTATING0000", "ASIAROTATING0001", "ASIAROTATING0002"],
        "each token signed with the credentials current when it was made"
    );
    assert_eq!(role.calls.load(Ordering::SeqCst), 3, "resolved per token");
    drop((first, second, third));
}

#[test]
fn credentials_fixed_at_start_stop_working_once_they_rotate() {
    // What the source did before it resolved credentials per token: the pool's new
    // connections fail once the credentials it was built with expire.
    let db = ecom_store::testing::TestDb::new();
    let role = Arc::new(RotatingRole::default());
    let fixed = Credentials {
        access_key_id: role.current_key(),
        secret_access_key: "rotating-secret".into(),
        session_token: Some("rotating-session".into()),
    };
    let source = IamTokenSource::new(target(), fixed.provider()).unwrap();
    let (pool, _) = pool_behind_rds(&db, Arc::new(source), &role);
    let _held = ecom_store::get_conn(&pool).unwrap();
    role.rotate();
    assert!(ecom_store::get_conn(&pool).is_err());
}

#[tokio::test]
async fn a_failing_provider_is_a_typed_error_and_the_source_works_inside_a_runtime() {
    let failing = SharedCredentialsProvider::new(
        aws_credential_types::credential_fn::provide_credentials_fn(|| async {
            Err(
                aws_credential_types::provider::error::CredentialsError::not_loaded(
                    "no role to assume",
                ),
            )
        }),
    );
    let err = generate_auth_token(&target(), failing.clone(), signed_at())
        .await
        .unwrap_err();
    assert!(matches!(err, IamTokenError::Credentials(_)), "{err}");
    // Called from inside this test's runtime, as a service's handler might.
    let source = IamTokenSource::new(target(), failing).unwrap();
    let err = source.password().unwrap_err();
    assert!(err.contains("no AWS credentials"), "{err}");
    let works = IamTokenSource::new(target(), credentials(None).provider()).unwrap();
    assert!(works.password().is_ok());
    drop(works); // dropping inside a runtime must not panic
}
