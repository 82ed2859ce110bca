//! The IAM policies a deployment needs, as documents to apply: what the person or pipeline
//! running `ecom-infra` may call ([`deployer_policy`]), and what CloudFormation may do on
//! its behalf ([`service_role_policy`], for a CloudFormation service role, with
//! [`service_role_trust_policy`]).
//!
//! The deployer's own calls are the ones `deploy`, `plan`, `status`, `database-url` and
//! `destroy` make, listed in [`DEPLOYER_ACTIONS`]; a test records every call those commands
//! make against the emulator and checks each one against this list. CloudFormation's
//! calls are those of the registry's resource handlers for the template's resource types
//! ([`handler_permissions::HANDLER_PERMISSIONS`]).

pub mod handler_permissions;

use std::collections::BTreeSet;

use serde_json::{Value, json};

use crate::spec::{DeploymentSpec, SpecError};
use crate::template;

/// `(action, scope)` of every call ecom-infra makes itself. `Stack` actions are limited
/// to the deployment's stack and ecom-infra's change sets; `Any` actions take no
/// resource-level restriction (descriptions and listings) or name resources only known
/// after deployment.
pub const DEPLOYER_ACTIONS: &[(&str, Scope)] = &[
    ("cloudformation:CreateChangeSet", Scope::Stack),
    ("cloudformation:DeleteChangeSet", Scope::Stack),
    ("cloudformation:DeleteStack", Scope::Stack),
    ("cloudformation:DescribeChangeSet", Scope::Stack),
    ("cloudformation:DescribeStackEvents", Scope::Stack),
    ("cloudformation:DescribeStacks", Scope::Stack),
    ("cloudformation:ExecuteChangeSet", Scope::Stack),
    ("cloudformation:GetTemplate", Scope::Stack),
    ("cloudformation:ListStackResources", Scope::Stack),
    ("cloudformation:SetStackPolicy", Scope::Stack),
    ("cloudformation:UpdateTerminationProtection", Scope::Stack),
    ("cloudwatch:DescribeAlarms", Scope::Any),
    ("cloudwatch:GetDashboard", Scope::Any),
    ("kms:DescribeKey", Scope::Any),
    ("rds:DescribeDBClusterParameterGroups", Scope::Any),
    ("rds:DescribeDBClusterSnapshots", Scope::Any),
    ("rds:DescribeDBClusters", Scope::Any),
    ("rds:DescribeDBInstances", Scope::Any),
    ("rds:DescribeDBParameterGroups", Scope::Any),
    ("rds:DescribeDBProxies", Scope::Any),
    ("rds:DescribeDBSnapshots", Scope::Any),
    ("rds:DescribeDBSubnetGroups", Scope::Any),
    ("rds:DescribeEventSubscriptions", Scope::Any),
    ("sns:GetTopicAttributes", Scope::Any),
];

/// Which resources a deployer action is granted on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// The deployment's stack and ecom-infra's change sets only.
    Stack,
    /// `*`.
    Any,
}

/// Who runs CloudFormation's resource handlers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Executor {
    /// The deployer's own credentials: the deployer policy includes the handlers'
    /// permissions.
    Deployer,
    /// A CloudFormation service role with [`service_role_policy`]: the deployer only
    /// passes it.
    ServiceRole {
        /// `arn:aws:iam::ACCOUNT:role/NAME`.
        arn: String,
    },
}

/// The policy of whoever runs `ecom-infra` for `spec`.
pub fn deployer_policy(spec: &DeploymentSpec, executor: &Executor) -> Result<Value, SpecError> {
    spec.validate()?;
    let region = &spec.region;
    let stack = spec.stack_name();
    let actions = |scope: Scope| -> Vec<&str> {
        DEPLOYER_ACTIONS
            .iter()
            .filter(|(_, s)| *s == scope)
            .map(|(a, _)| *a)
            .collect()
    };
    let mut statements = vec![
        json!({
            "Sid": "TheStackAndItsChangeSets",
            "Effect": "Allow",
            "Action": actions(Scope::Stack),
            "Resource": [
                format!("arn:aws:cloudformation:{region}:*:stack/{stack}/*"),
                format!("arn:aws:cloudformation:{region}:*:changeSet/ecom-infra-*/*"),
            ],
        }),
        json!({
            "Sid": "ReadBackWhatTheStackMade",
            "Effect": "Allow",
            "Action": actions(Scope::Any),
            "Resource": "*",
            "Condition": {"StringEquals": {"aws:RequestedRegion": region}},
        }),
    ];
    match executor {
        Executor::Deployer => {
            let mut handlers = service_role_policy(spec)?;
            let mut statement = handlers["Statement"][0].take();
            statement["Sid"] = json!("CloudFormationActsWithTheDeployersCredentials");
            statements.push(statement);
        }
        Executor::ServiceRole { arn } => statements.push(json!({
            "Sid": "PassTheServiceRoleToCloudFormation",
            "Effect": "Allow",
            "Action": "iam:PassRole",
            "Resource": arn,
            "Condition": {"StringEquals": {"iam:PassedToService": "cloudformation.amazonaws.com"}},
        })),
    }
    Ok(json!({"Version": "2012-10-17", "Statement": statements}))
}

/// The permissions of CloudFormation's resource handlers for every resource type `spec`'s
/// template uses, in the region of the spec.
pub fn service_role_policy(spec: &DeploymentSpec) -> Result<Value, SpecError> {
    let types = resource_types(spec)?;
    let mut actions = BTreeSet::new();
    for kind in &types {
        if let Some((_, permissions)) = handler_permissions::HANDLER_PERMISSIONS
            .iter()
            .find(|(k, _)| k == kind)
        {
            actions.extend(permissions.iter().copied());
        }
    }
    Ok(json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": "ResourceHandlersOfTheTemplatesTypes",
            "Effect": "Allow",
            "Action": actions,
            "Resource": "*",
            "Condition": {"StringEquals": {"aws:RequestedRegion": spec.region}},
        }],
    }))
}

/// The trust policy of the service role: CloudFormation may assume it.
pub fn service_role_trust_policy() -> Value {
    json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": {"Service": "cloudformation.amazonaws.com"},
            "Action": "sts:AssumeRole",
        }],
    })
}

/// The resource types of `spec`'s template, sorted.
pub fn resource_types(spec: &DeploymentSpec) -> Result<BTreeSet<String>, SpecError> {
    let t = template::render(spec)?;
    Ok(t["Resources"]
        .as_object()
        .into_iter()
        .flatten()
        .filter_map(|(_, r)| r["Type"].as_str().map(str::to_owned))
        .collect())
}

/// Whether `policy` allows `action` (`service:Action`) on some resource: an `Allow`
/// statement whose `Action` matches it exactly or by a trailing `*`, case-insensitively
/// as IAM compares actions. Conditions are not evaluated.
pub fn allows(policy: &Value, action: &str) -> bool {
    let matches = |pattern: &str| {
        let (pattern, action) = (pattern.to_ascii_lowercase(), action.to_ascii_lowercase());
        match pattern.strip_suffix('*') {
            Some(prefix) => action.starts_with(prefix),
            None => pattern == action,
        }
    };
    policy["Statement"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|s| s["Effect"] == "Allow")
        .any(|s| match &s["Action"] {
            Value::String(a) => matches(a),
            Value::Array(list) => list.iter().filter_map(Value::as_str).any(matches),
            _ => false,
        })
}
