use super::require_verified_tls;

fn refused(url: &str) -> bool {
    require_verified_tls(url, None, None).is_err()
}

#[test]
fn a_remote_host_needs_verify_full() {
    for mode in ["disable", "allow", "prefer", "require", "verify-ca"] {
        assert!(
            refused(&format!(
                "postgres://app@db.example:5432/shop?sslmode={mode}"
            )),
            "{mode}"
        );
        assert!(
            refused(&format!("host=db.example dbname=shop sslmode={mode}")),
            "{mode}"
        );
    }
    assert!(
        refused("postgres://app:pw@db.example/shop"),
        "libpq's default is prefer"
    );
    assert!(refused(
        "postgres://app@localhost,db.example:5433/shop?sslmode=require"
    ));
    assert!(refused("postgres://app@10.0.0.5/shop?sslmode=require"));
    assert!(refused(
        "postgres://app@[2001:db8::1]:5432/shop?sslmode=require"
    ));
    assert!(refused(
        "postgres://app@localhost/shop?host=db.example&sslmode=require"
    ));
    assert!(!refused(
        "postgres://app@db.example/shop?sslmode=verify-full&sslrootcert=/ca.pem"
    ));
    assert!(!refused(
        "postgres://app@a.example,b.example/shop?sslmode=verify-full"
    ));
}

#[test]
fn local_hosts_may_use_any_mode() {
    for url in [
        "postgres://app@localhost:5432/shop?sslmode=disable",
        "postgres://app@127.0.0.1:5432/shop?sslmode=require",
        "postgres://app@[::1]:5432/shop",
        "postgres:///shop",
        "postgres://app@%2Fvar%2Frun%2Fpostgresql/shop",
        "postgres://app@/shop?host=/tmp",
        "host=/tmp dbname=shop",
    ] {
        assert!(!refused(url), "{url}");
    }
}

#[test]
fn build_pool_refuses_unless_allowed() {
    let url = "postgres://app@db.example/shop?sslmode=require";
    let config = crate::StoreConfig {
        pool_min_idle: 0, // nothing is opened up front: no network needed
        ..crate::StoreConfig::new(url)
    };
    let err = crate::build_pool(&config).unwrap_err();
    assert!(matches!(err, crate::StoreError::Config { .. }), "{err}");
    let allowed = crate::StoreConfig::from_lookup(|key| match key {
        "DATABASE_URL" => Some(url.into()),
        "ECOM_POOL_MIN_IDLE" => Some("0".into()),
        "ECOM_ALLOW_UNVERIFIED_TLS" => Some("1".into()),
        _ => None,
    })
    .unwrap();
    assert!(allowed.allow_unverified_tls);
    assert!(crate::build_pool(&allowed).is_ok());
    let bad = crate::StoreConfig::from_lookup(|key| match key {
        "DATABASE_URL" => Some(url.into()),
        "ECOM_ALLOW_UNVERIFIED_TLS" => Some("yes please".into()),
        _ => None,
    });
    assert!(
        matches!(bad, Err(crate::StoreError::Config { key, .. }) if key == "ECOM_ALLOW_UNVERIFIED_TLS")
    );
}

#[test]
fn libpq_environment_defaults_count() {
    let url = "postgres://app@db.example/shop";
    assert!(require_verified_tls(url, Some("verify-full".into()), None).is_ok());
    assert!(require_verified_tls(url, Some("require".into()), None).is_err());
    assert!(require_verified_tls("postgres:///shop", None, Some("db.example".into())).is_err());
    let err = require_verified_tls(
        "postgres://app:secret@db.example/shop?sslmode=require",
        None,
        None,
    )
    .unwrap_err()
    .to_string();
    assert!(
        err.contains("db.example") && err.contains("ECOM_ALLOW_UNVERIFIED_TLS"),
        "{err}"
    );
    assert!(!err.contains("secret"), "{err}");
}
