//! The resources a deploy must not replace or delete by accident: the database (the RDS
//! writer, or the Aurora cluster, whose volume holds the data), its KMS key and its master
//! secret. A change set that would is refused unless the caller names
//! each such resource ([`AllowedChanges`]); a stack policy says the same to CloudFormation
//! itself, for changes made outside ecom-infra.

use std::fmt;
use std::str::FromStr;

use serde_json::{Value, json};

use super::deploy::PlannedChange;
use crate::spec::DeploymentSpec;

/// A resource whose replacement or deletion loses data or makes it unreadable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Guarded {
    /// The RDS writer (`Primary`) or the Aurora cluster (`Cluster`): its data.
    Database,
    /// The stack's KMS key (`DbKey`): everything encrypted with it.
    Key,
    /// The master password's secret, managed by RDS with the writer or the cluster.
    Secret,
}

impl Guarded {
    /// The name `--allow-replace` takes.
    pub fn name(self) -> &'static str {
        match self {
            Self::Database => "database",
            Self::Key => "key",
            Self::Secret => "secret",
        }
    }
}

impl fmt::Display for Guarded {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A name `--allow-replace` does not know.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not a guarded resource: database, key or secret")]
pub struct UnknownGuarded(pub String);

impl FromStr for Guarded {
    type Err = UnknownGuarded;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "database" => Ok(Self::Database),
            "key" => Ok(Self::Key),
            "secret" => Ok(Self::Secret),
            other => Err(UnknownGuarded(other.to_owned())),
        }
    }
}

/// Which guarded resources a deploy may replace or delete: none by default.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AllowedChanges(Vec<Guarded>);

impl AllowedChanges {
    /// Nothing guarded may be replaced or deleted.
    pub fn none() -> Self {
        Self::default()
    }

    /// These, named explicitly.
    pub fn of(guarded: impl IntoIterator<Item = Guarded>) -> Self {
        Self(guarded.into_iter().collect())
    }

    /// Whether `guarded` may go.
    pub fn allows(&self, guarded: Guarded) -> bool {
        self.0.contains(&guarded)
    }
}

/// One guarded resource a change set would replace or delete, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Danger {
    /// What would be lost.
    pub guarded: Guarded,
    /// The change, in words (`Primary replaced: DBName changes`).
    pub reason: String,
}

impl fmt::Display for Danger {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.guarded, self.reason)
    }
}

/// Properties of `AWS::RDS::DBInstance` whose change replaces the instance, as the
/// CloudFormation resource reference documents ("Update requires: Replacement"), among
/// those the template sets.
const DB_REPLACING: [&str; 6] = [
    "DBInstanceIdentifier",
    "DBName",
    "Engine",
    "KmsKeyId",
    "MasterUsername",
    "StorageEncrypted",
];

/// Properties of `AWS::RDS::DBCluster` whose change replaces the cluster (the registry
/// schema's `createOnlyProperties`), among those the template sets.
const CLUSTER_REPLACING: [&str; 5] = [
    "DBClusterIdentifier",
    "DBSubnetGroupName",
    "DatabaseName",
    "KmsKeyId",
    "StorageEncrypted",
];

/// The logical id of the resource that holds a template's data: the Aurora cluster when
/// there is one (its instances hold none), else the RDS writer.
fn database_id(template: &Value) -> &'static str {
    if template["Resources"].get("Cluster").is_some() {
        "Cluster"
    } else {
        "Primary"
    }
}

/// The guarded resources that `changes` (CloudFormation's view) or the difference between
/// the deployed template `old` and the new one (ours: an emulator may not compute
/// replacements) would replace or delete. The database is the deployed one: moving to the
/// other engine loses it.
pub fn dangers(old: Option<&Value>, new: &Value, changes: &[PlannedChange]) -> Vec<Danger> {
    let data = database_id(old.unwrap_or(new));
    let mut found = Dangers::default();
    found.in_change_set(data, changes);
    if let Some(old) = old {
        found.in_templates(data, old, new);
    }
    found.0
}

/// The dangers found so far: one per guarded resource, with the first reason found.
#[derive(Default)]
struct Dangers(Vec<Danger>);

impl Dangers {
    fn add(&mut self, guarded: Guarded, reason: String) {
        if !self.0.iter().any(|d| d.guarded == guarded) {
            self.0.push(Danger { guarded, reason });
        }
    }

    /// What CloudFormation says the change set replaces or deletes, of the database `data`
    /// and the key.
    fn in_change_set(&mut self, data: &str, changes: &[PlannedChange]) {
        for c in changes {
            let replaced = matches!(c.replacement.as_deref(), Some("True" | "Conditional"));
            let how = match (c.action.as_str(), replaced) {
                ("Remove", _) => "deleted",
                ("Modify", true) => "replaced",
                _ => continue,
            };
            match c.logical_id.as_str() {
                id if id == data => {
                    self.add(Guarded::Database, format!("{data} {how}"));
                    self.add(
                        Guarded::Secret,
                        format!("{data} {how}, and its master secret with it"),
                    );
                }
                "DbKey" => self.add(Guarded::Key, format!("DbKey {how}")),
                _ => {}
            }
        }
    }

    /// What going from the deployed template `old` to `new` replaces or deletes: the
    /// database `data` left behind by a move to the other engine, replaced or deleted, its
    /// secret, and the key.
    fn in_templates(&mut self, data: &str, old: &Value, new: &Value) {
        let resource = |t: &Value, id: &str| t["Resources"].get(id).cloned();
        if database_id(new) != data {
            self.add(
                Guarded::Database,
                format!("the database moves to the other engine: {data} is not carried over"),
            );
            self.add(
                Guarded::Secret,
                format!("{data} goes, and its master secret with it"),
            );
        }
        match (resource(old, data), resource(new, data)) {
            (Some(was), Some(is)) => self.in_database(data, &was, &is),
            (Some(_), None) => {
                self.add(Guarded::Database, format!("{data} deleted"));
                self.add(
                    Guarded::Secret,
                    format!("{data} deleted, and its master secret with it"),
                );
            }
            _ => {}
        }
        if resource(old, "DbKey").is_some() && resource(new, "DbKey").is_none() {
            self.add(Guarded::Key, "DbKey deleted".into());
        }
    }

    /// What changing the database `data` from `was` to `is` replaces: the database when
    /// a property that forces replacement changes, and its secret with it or when RDS
    /// stops managing it.
    fn in_database(&mut self, data: &str, was: &Value, is: &Value) {
        let replacing: &[&str] = if data == "Cluster" {
            &CLUSTER_REPLACING
        } else {
            &DB_REPLACING
        };
        for property in replacing {
            if was["Properties"].get(property) != is["Properties"].get(property) {
                self.add(
                    Guarded::Database,
                    format!("{data} replaced: {property} changes"),
                );
                self.add(
                    Guarded::Secret,
                    format!("{data} replaced ({property} changes), and its master secret with it"),
                );
            }
        }
        let managed = |r: &Value| r["Properties"]["ManageMasterUserPassword"] == json!(true);
        if managed(was) && !managed(is) {
            self.add(
                Guarded::Secret,
                "ManageMasterUserPassword turned off: RDS deletes the secret".into(),
            );
        }
    }
}

/// The stack policy every deploy leaves on the stack: any update may proceed, except one
/// that replaces or deletes the database (the RDS writer, or the Aurora cluster: an Aurora
/// instance holds no data and may be replaced) or the key.
pub fn stack_policy(spec: &DeploymentSpec) -> Value {
    let database = if spec.is_aurora() {
        "LogicalResourceId/Cluster"
    } else {
        "LogicalResourceId/Primary"
    };
    json!({
        "Statement": [
            {"Effect": "Allow", "Action": "Update:*", "Principal": "*", "Resource": "*"},
            {
                "Effect": "Deny",
                "Action": ["Update:Replace", "Update:Delete"],
                "Principal": "*",
                "Resource": [database, "LogicalResourceId/DbKey"],
            },
        ]
    })
}

/// The stack policy during a deploy allowed to replace or delete `allowed`: the
/// denial is lifted for exactly those resources (the database of either engine, since a
/// deploy may move from one to the other).
pub fn stack_policy_allowing(allowed: &AllowedChanges) -> Value {
    let denied: Vec<&str> = [
        ("LogicalResourceId/Primary", Guarded::Database),
        ("LogicalResourceId/Cluster", Guarded::Database),
        ("LogicalResourceId/DbKey", Guarded::Key),
    ]
    .into_iter()
    .filter(|(_, g)| !allowed.allows(*g))
    .map(|(r, _)| r)
    .collect();
    let mut statements =
        vec![json!({"Effect": "Allow", "Action": "Update:*", "Principal": "*", "Resource": "*"})];
    if !denied.is_empty() {
        statements.push(
            json!({"Effect": "Deny", "Action": ["Update:Replace", "Update:Delete"],
                               "Principal": "*", "Resource": denied}),
        );
    }
    json!({ "Statement": statements })
}
