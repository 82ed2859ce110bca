//! `TestDb`: a database per test, used as the application role, as a service uses
//! it; when that role cannot log in, an error that says so, never a silent switch to
//! the owner (whose rights would hide every missing grant).

use diesel::dsl::sql;
use diesel::prelude::*;
use diesel::sql_types::Text;
use ecom_store::dev::{DevError, PrivateCluster};
use ecom_store::migrate::Roles;
use ecom_store::testing::TestDb;

fn current_user(url: &str) -> String {
    let mut conn = PgConnection::establish(url).unwrap();
    diesel::select(sql::<Text>("current_user::text"))
        .get_result(&mut conn)
        .unwrap()
}

#[test]
fn test_databases_are_used_as_the_application_role() {
    let db = TestDb::new();
    let app = Roles::from_env().app;
    assert_eq!(current_user(db.url()), app);
    assert_ne!(current_user(db.owner_url()), app);
}

/// A login role of the private cluster without CREATEROLE, dropped on drop.
struct WeakUser {
    cluster: PrivateCluster,
    name: String,
}

impl Drop for WeakUser {
    fn drop(&mut self) {
        let _ = self
            .cluster
            .execute("postgres", &format!("DROP ROLE IF EXISTS {}", self.name));
    }
}

#[test]
fn a_server_user_that_cannot_let_the_application_role_log_in_is_an_error() {
    // On the private cluster, where a user without CREATEROLE is easy to make; the
    // template (and with it the roles) exists once a test database was made.
    let cluster = PrivateCluster::ensure().unwrap();
    drop(TestDb::new());
    let weak = WeakUser {
        name: format!("ecom_no_createrole_{}", std::process::id()),
        cluster: cluster.clone(),
    };
    cluster
        .execute(
            "postgres",
            &format!(
                "DROP ROLE IF EXISTS {0}; CREATE ROLE {0} LOGIN CREATEDB NOCREATEROLE",
                weak.name
            ),
        )
        .unwrap();
    let url = format!(
        "postgres://{}@127.0.0.1:{}/postgres",
        weak.name,
        cluster.port()
    );

    let err = TestDb::try_new_on(&url).unwrap_err();
    let app = Roles::from_env().app;
    assert!(
        matches!(&err, DevError::AppRoleLogin { role, .. } if *role == app),
        "{err:?}"
    );
    let message = err.to_string();
    assert!(message.contains("CREATEROLE"), "{message}");
    assert!(message.contains("permission denied"), "{message}");
}
