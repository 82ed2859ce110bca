//! Renders a [`DeploymentSpec`] as a CloudFormation template.
//!
//! The output is deterministic: keys are sorted at every level, resources are
//! named by their role (`Primary`, `Replica1`, `AlarmPrimaryCpu`...), and nothing depends
//! on time or randomness, so the same spec always renders the same bytes and a change set
//! shows only what the spec changed.

use serde_json::{Map, Value, json};

use crate::spec::{DeploymentSpec, SpecError};

mod alarms;
mod aurora;
mod kms;
mod monitoring;
mod network;
mod params;
mod proxy;
mod rds;

pub use alarms::{AlarmDef, AlarmTarget, alarms, is_burstable};

/// The project name in every `Project` tag.
pub const PROJECT: &str = "ecom-dms";
/// The `ManagedBy` tag's value.
pub const MANAGED_BY: &str = "ecom-infra";

/// The template as a JSON value. Validates the spec first.
pub fn render(spec: &DeploymentSpec) -> Result<Value, SpecError> {
    spec.validate()?;
    // The order of the steps is the order of the resources in the value: tests that run
    // with serde_json's `preserve_order` (see `sorted`) see them in this order.
    let mut template = Template::new(spec);
    let subnets = template.vpc_and_subnets();
    template.security_group();
    template.subnet_group(subnets);
    if spec.is_aurora() {
        template.cluster_parameter_group();
    } else {
        template.parameter_group();
    }
    let key_arn = template.key();
    template.monitoring_role();
    template.log_groups(&key_arn);
    if spec.is_aurora() {
        template.cluster(&key_arn);
        template.cluster_instances(&key_arn);
    } else {
        template.primary(&key_arn);
        template.replicas(&key_arn);
    }
    template.alarms(&key_arn);
    template.event_subscription();
    template.dashboard();
    template.proxy();
    template.shared_outputs(key_arn);
    Ok(template.finish())
}

/// A template being built: resources and outputs by logical id, one resource group at a
/// time.
struct Template<'a> {
    spec: &'a DeploymentSpec,
    /// The stack name, which starts every resource's `Name` tag.
    prefix: String,
    resources: Map<String, Value>,
    outputs: Map<String, Value>,
}

impl<'a> Template<'a> {
    fn new(spec: &'a DeploymentSpec) -> Self {
        Self {
            spec,
            prefix: spec.stack_name(),
            resources: Map::new(),
            outputs: Map::new(),
        }
    }

    /// The four tags every resource carries, and its `Name`.
    fn tags(&self, name: &str) -> Value {
        json!([
            {"Key": "Environment", "Value": self.spec.environment.as_ref()},
            {"Key": "ManagedBy", "Value": MANAGED_BY},
            {"Key": "Name", "Value": name},
            {"Key": "Owner", "Value": self.spec.owner},
            {"Key": "Project", "Value": PROJECT},
        ])
    }

    fn resource(&mut self, logical_id: &str, resource: Value) {
        self.resources.insert(logical_id.into(), resource);
    }

    fn output(&mut self, key: &str, description: &str, value: Value) {
        self.outputs.insert(
            key.into(),
            json!({"Description": description, "Value": value}),
        );
    }

    /// The outputs that name the stack's other resources.
    fn shared_outputs(&mut self, key_arn: Value) {
        self.output(
            "AlarmTopicArn",
            "SNS topic of the alarms",
            json!({"Ref": "AlarmTopic"}),
        );
        self.output("KmsKeyArn", "KMS key encrypting the database", key_arn);
        self.output("VpcId", "VPC", json!({"Ref": "Vpc"}));
        self.output(
            "DashboardName",
            "CloudWatch dashboard of the database's metrics",
            json!({"Ref": "Dashboard"}),
        );
        self.output(
            "SecurityGroupId",
            "security group of the instances",
            json!({"Fn::GetAtt": ["DbSecurityGroup", "GroupId"]}),
        );
        self.output(
            "DbSubnetGroupName",
            "RDS subnet group",
            json!({"Ref": "DbSubnetGroup"}),
        );
    }

    fn finish(self) -> Value {
        let spec = self.spec;
        json!({
            "AWSTemplateFormatVersion": "2010-09-09",
            "Description": format!("ecom-dms database, environment {}: {} {}, rendered by ecom-infra", spec.environment,
                                   if spec.is_aurora() { "Aurora PostgreSQL" } else { "RDS PostgreSQL" }, spec.database.engine_version),
            "Resources": self.resources,
            "Outputs": self.outputs,
        })
    }
}

/// The template as pretty-printed JSON text with keys sorted at every level, ending with a
/// newline.
pub fn render_string(spec: &DeploymentSpec) -> Result<String, SpecError> {
    let mut text = serde_json::to_string_pretty(&sorted(render(spec)?))
        .expect("a JSON value always serialises");
    text.push('\n');
    Ok(text)
}

/// Rebuilds every object with its keys in sorted order. `serde_json`'s map is sorted by
/// default but keeps insertion order when any crate in the build enables its
/// `preserve_order` feature (cfn-guard, a dev-dependency, does), so sort explicitly.
fn sorted(value: Value) -> Value {
    match value {
        Value::Object(map) => {
            let mut entries: Vec<(String, Value)> = map.into_iter().collect();
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            Value::Object(entries.into_iter().map(|(k, v)| (k, sorted(v))).collect())
        }
        Value::Array(items) => Value::Array(items.into_iter().map(sorted).collect()),
        other => other,
    }
}

/// `postgresql` -> `Postgresql`, for logical ids.
fn capitalised(word: &str) -> String {
    let mut chars = word.chars();
    chars
        .next()
        .map(|first| first.to_ascii_uppercase().to_string() + chars.as_str())
        .unwrap_or_default()
}
