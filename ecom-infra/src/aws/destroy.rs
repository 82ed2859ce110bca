//! Destroying: delete the stack, wait, then ask each resource's own service whether it is
//! really gone, because CloudFormation's `DELETE_COMPLETE` is not proof.

use std::fmt;

use super::stack::{StackResource, StackResources};
use super::{Aws, aws_err, error_code};
use crate::InfraError;
use crate::spec::DeploymentSpec;

/// CloudFormation's type of an alarm, which is proven gone by name rather than by id.
const ALARM: &str = "AWS::CloudWatch::Alarm";

/// What `destroy` removed, kept on purpose, and (if anything) found still there.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DestroyReport {
    /// `(kind, id)` of each resource confirmed gone.
    pub removed: Vec<(String, String)>,
    /// Kept on purpose: final snapshots, retained automated backups, KMS keys scheduled for
    /// deletion or retained for those snapshots.
    pub kept: Vec<(String, String)>,
    /// Resources still present: empty after a complete destroy.
    pub remaining: Vec<(String, String)>,
}

impl fmt::Display for DestroyReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (kind, id) in &self.removed {
            writeln!(f, "  removed   {kind:<28} {id}")?;
        }
        for (kind, id) in &self.kept {
            writeln!(f, "  kept      {kind:<28} {id}")?;
        }
        for (kind, id) in &self.remaining {
            writeln!(f, "  REMAINING {kind:<28} {id}")?;
        }
        if self.remaining.is_empty() {
            write!(
                f,
                "nothing left: {} resource(s) removed",
                self.removed.len()
            )
        } else {
            write!(f, "{} resource(s) left behind", self.remaining.len())
        }
    }
}

/// What became of one resource of a deleted stack.
enum Fate {
    /// Its service no longer knows it.
    Gone,
    /// Still there on purpose, reported under this description.
    Kept(&'static str),
    /// Still there.
    Present,
}

impl Aws {
    /// Deletes the stack, waits, then checks every resource it had is gone.
    ///
    /// Refuses while deletion protection is on. A final snapshot (the spec's
    /// `final_snapshot`), automated backups the spec keeps, and the KMS key (retained when
    /// those snapshots need it; otherwise AWS only schedules it for deletion), are
    /// reported as kept; anything else still present is an error.
    pub async fn destroy(
        &self,
        spec: &DeploymentSpec,
        progress: &mut dyn FnMut(String),
    ) -> Result<DestroyReport, InfraError> {
        let stack = spec.stack_name();
        let (stack_id, _) = self
            .stack_status(&stack)
            .await?
            .ok_or_else(|| InfraError::StackNotFound(stack.clone()))?;
        let resources = self.stack_resources(&stack_id).await?;
        let secrets = self.check_deletable(&resources).await?;
        // Alarm names are read before deletion: afterwards nothing lists them.
        let alarm_names: Vec<String> = self
            .alarms(&format!("{stack}-"))
            .await?
            .iter()
            .filter_map(|a| a.alarm_name().map(str::to_owned))
            .collect();

        let seen = self.event_ids(&stack_id).await;
        self.cfn
            .delete_stack()
            .stack_name(&stack_id)
            .send()
            .await
            .map_err(aws_err("DeleteStack"))?;
        let status = self.wait_for_stack(&stack_id, seen, progress).await?;
        if status != "DELETE_COMPLETE" {
            let reason = self.first_failure(&stack_id).await.unwrap_or_default();
            return Err(InfraError::StackFailed {
                stack,
                status,
                reason,
            });
        }
        let mut report = self
            .prove_gone(spec, &stack_id, &resources, &alarm_names)
            .await?;
        report.removed.extend(
            secrets
                .into_iter()
                .map(|s| ("managed master secret (with its instance)".to_owned(), s)),
        );
        if report.remaining.is_empty() {
            Ok(report)
        } else {
            Err(InfraError::LeftBehind(
                report
                    .remaining
                    .iter()
                    .map(|(k, i)| format!("{k} {i}"))
                    .collect(),
            ))
        }
    }

    /// Refuses while any instance or Aurora cluster has deletion protection on; otherwise
    /// returns the ARNs of the managed master secrets (an RDS writer's, an Aurora
    /// cluster's), which RDS deletes with their owner.
    async fn check_deletable(&self, resources: &StackResources) -> Result<Vec<String>, InfraError> {
        let mut protected = Vec::new();
        let mut secrets = Vec::new();
        for resource in resources.values() {
            let id = &resource.physical_id;
            if !resource.is_db_cluster() || id.is_empty() {
                continue;
            }
            if let Some(cluster) = self.db_cluster(id).await? {
                if cluster.deletion_protection() == Some(true) {
                    protected.push(id.clone());
                }
                if let Some(arn) = cluster.master_user_secret().and_then(|s| s.secret_arn()) {
                    secrets.push(arn.to_owned());
                }
            }
        }
        for resource in resources.values() {
            let id = &resource.physical_id;
            if !resource.is_db_instance() || id.is_empty() {
                continue;
            }
            if let Some(db) = self.db_instance(id).await? {
                if db.deletion_protection() == Some(true) {
                    protected.push(id.clone());
                }
                let is_replica = db.read_replica_source_db_instance_identifier().is_some();
                if let Some(arn) = db
                    .master_user_secret()
                    .and_then(|s| s.secret_arn())
                    .filter(|_| !is_replica)
                {
                    secrets.push(arn.to_owned());
                }
            }
        }
        if protected.is_empty() {
            Ok(secrets)
        } else {
            Err(InfraError::DeletionProtected(protected))
        }
    }

    /// Checks each resource of a deleted stack with its own service's API.
    pub async fn prove_gone(
        &self,
        spec: &DeploymentSpec,
        stack_id: &str,
        before: &StackResources,
        alarm_names: &[String],
    ) -> Result<DestroyReport, InfraError> {
        let mut report = DestroyReport::default();
        let after = self.stack_resources(stack_id).await.unwrap_or_default();
        for (logical, resource) in before {
            let kind = &resource.resource_type;
            let physical = &resource.physical_id;
            if physical.is_empty() {
                // Nothing to look up: never count an unverifiable resource as removed.
                report
                    .remaining
                    .push((kind.clone(), format!("{logical} (no physical id)")));
                continue;
            }
            if kind == ALARM {
                continue; // checked by name below, with one call
            }
            let entry = (kind.clone(), physical.clone());
            match self.fate(spec, logical, resource, &after).await? {
                Fate::Gone => report.removed.push(entry),
                Fate::Kept(what) => report.kept.push((what.to_owned(), physical.clone())),
                Fate::Present => report.remaining.push(entry),
            }
        }
        self.prove_alarms_gone(spec, alarm_names, &mut report)
            .await?;
        self.check_snapshots(spec, before, &mut report).await?;
        Ok(report)
    }

    /// Asks the resource's own service; `after` is CloudFormation's listing of the deleted
    /// stack, the only record of network resources as the EC2 client is not used.
    async fn fate(
        &self,
        spec: &DeploymentSpec,
        logical: &str,
        resource: &StackResource,
        after: &StackResources,
    ) -> Result<Fate, InfraError> {
        let physical = resource.physical_id.as_str();
        let gone = match resource.resource_type.as_str() {
            "AWS::RDS::DBInstance" => self.db_instance(physical).await?.is_none(),
            "AWS::RDS::DBCluster" => self.db_cluster(physical).await?.is_none(),
            "AWS::RDS::DBClusterParameterGroup" => {
                self.cluster_parameter_group_gone(physical).await?
            }
            "AWS::RDS::DBSubnetGroup" => self.subnet_group_gone(physical).await?,
            "AWS::RDS::DBParameterGroup" => self.parameter_group_gone(physical).await?,
            "AWS::SNS::Topic" => self.topic_gone(physical).await?,
            "AWS::RDS::EventSubscription" => self.subscription_gone(physical).await?,
            "AWS::CloudWatch::Dashboard" => self.dashboard_gone(physical).await?,
            "AWS::RDS::DBProxy" => self.proxy_gone(physical).await?,
            "AWS::KMS::Key" => return self.key_fate(spec, physical).await,
            _ => after
                .get(logical)
                .is_none_or(|r| r.status == "DELETE_COMPLETE"),
        };
        Ok(if gone { Fate::Gone } else { Fate::Present })
    }

    async fn subnet_group_gone(&self, name: &str) -> Result<bool, InfraError> {
        match self
            .rds
            .describe_db_subnet_groups()
            .db_subnet_group_name(name)
            .send()
            .await
        {
            Ok(out) => Ok(out.db_subnet_groups().is_empty()),
            Err(e) if error_code(&e).starts_with("DBSubnetGroupNotFound") => Ok(true),
            Err(e) => Err(aws_err("DescribeDBSubnetGroups")(e)),
        }
    }

    async fn parameter_group_gone(&self, name: &str) -> Result<bool, InfraError> {
        match self
            .rds
            .describe_db_parameter_groups()
            .db_parameter_group_name(name)
            .send()
            .await
        {
            Ok(out) => Ok(out.db_parameter_groups().is_empty()),
            Err(e) if error_code(&e).starts_with("DBParameterGroupNotFound") => Ok(true),
            Err(e) => Err(aws_err("DescribeDBParameterGroups")(e)),
        }
    }

    async fn cluster_parameter_group_gone(&self, name: &str) -> Result<bool, InfraError> {
        match self
            .rds
            .describe_db_cluster_parameter_groups()
            .db_cluster_parameter_group_name(name)
            .send()
            .await
        {
            Ok(out) => Ok(out.db_cluster_parameter_groups().is_empty()),
            Err(e) if error_code(&e).starts_with("DBParameterGroupNotFound") => Ok(true),
            Err(e) => Err(aws_err("DescribeDBClusterParameterGroups")(e)),
        }
    }

    async fn subscription_gone(&self, name: &str) -> Result<bool, InfraError> {
        match self
            .rds
            .describe_event_subscriptions()
            .subscription_name(name)
            .send()
            .await
        {
            Ok(out) => Ok(out.event_subscriptions_list().is_empty()),
            Err(e) if error_code(&e).starts_with("SubscriptionNotFound") => Ok(true),
            Err(e) => Err(aws_err("DescribeEventSubscriptions")(e)),
        }
    }

    async fn proxy_gone(&self, name: &str) -> Result<bool, InfraError> {
        match self
            .rds
            .describe_db_proxies()
            .db_proxy_name(name)
            .send()
            .await
        {
            Ok(out) => Ok(out.db_proxies().is_empty()),
            Err(e) if error_code(&e).starts_with("DBProxyNotFound") => Ok(true),
            Err(e) => Err(aws_err("DescribeDBProxies")(e)),
        }
    }

    async fn dashboard_gone(&self, name: &str) -> Result<bool, InfraError> {
        match self
            .cloudwatch
            .get_dashboard()
            .dashboard_name(name)
            .send()
            .await
        {
            Ok(_) => Ok(false),
            Err(e) if error_code(&e).starts_with("ResourceNotFound") => Ok(true),
            Err(e) => Err(aws_err("GetDashboard")(e)),
        }
    }

    async fn topic_gone(&self, arn: &str) -> Result<bool, InfraError> {
        match self.sns.get_topic_attributes().topic_arn(arn).send().await {
            Ok(_) => Ok(false),
            Err(e) if error_code(&e) == "NotFound" => Ok(true),
            Err(e) => Err(aws_err("GetTopicAttributes")(e)),
        }
    }

    /// AWS never deletes a KMS key at once: one scheduled for deletion is kept on purpose.
    /// A key that snapshots outliving the writer depend on is retained by the template, and
    /// must still be usable.
    async fn key_fate(&self, spec: &DeploymentSpec, key_id: &str) -> Result<Fate, InfraError> {
        let state = match self.kms.describe_key().key_id(key_id).send().await {
            Ok(state) => state,
            Err(e) if error_code(&e) == "NotFoundException" => return Ok(Fate::Gone),
            Err(e) => return Err(aws_err("DescribeKey")(e)),
        };
        let pending = state
            .key_metadata()
            .and_then(|m| m.key_state())
            .map(|s| s.as_str().to_owned())
            .unwrap_or_default();
        Ok(match (spec.snapshots_outlive_writer(), pending.as_str()) {
            (true, "Enabled") => Fate::Kept("KMS key (retained: snapshots need it)"),
            (false, "PendingDeletion") => Fate::Kept("KMS key (scheduled for deletion)"),
            _ => Fate::Present,
        })
    }

    /// One call lists the stack's alarms still there; each name read before deletion is
    /// reported removed or remaining.
    async fn prove_alarms_gone(
        &self,
        spec: &DeploymentSpec,
        alarm_names: &[String],
        report: &mut DestroyReport,
    ) -> Result<(), InfraError> {
        let still: Vec<String> = self
            .alarms(&format!("{}-", spec.stack_name()))
            .await?
            .iter()
            .filter_map(|a| a.alarm_name().map(str::to_owned))
            .collect();
        for name in alarm_names {
            let entry = (ALARM.to_owned(), name.clone());
            if still.contains(name) {
                report.remaining.push(entry)
            } else {
                report.removed.push(entry)
            }
        }
        Ok(())
    }

    /// Snapshots: automated ones go with the instance (on Aurora, the cluster) unless the
    /// spec keeps them after deletion; a manual one stays only as the final snapshot the
    /// spec asked for, of the writer or the cluster.
    async fn check_snapshots(
        &self,
        spec: &DeploymentSpec,
        before: &StackResources,
        report: &mut DestroyReport,
    ) -> Result<(), InfraError> {
        for id in before
            .values()
            .filter(|r| r.is_db_instance())
            .map(|r| &r.physical_id)
        {
            let out = self
                .rds
                .describe_db_snapshots()
                .db_instance_identifier(id)
                .send()
                .await
                .map_err(aws_err("DescribeDBSnapshots"))?;
            for snapshot in out.db_snapshots() {
                let entry = (
                    "RDS snapshot".to_owned(),
                    snapshot
                        .db_snapshot_identifier()
                        .unwrap_or_default()
                        .to_owned(),
                );
                let of_writer = id == &spec.primary_identifier();
                let kept = match snapshot.snapshot_type() {
                    Some("manual") => spec.final_snapshot && of_writer,
                    Some("automated") => spec.backups.retain_after_deletion && of_writer,
                    _ => false,
                };
                if kept {
                    report.kept.push(entry)
                } else {
                    report.remaining.push(entry)
                }
            }
        }
        for id in before
            .values()
            .filter(|r| r.is_db_cluster())
            .map(|r| &r.physical_id)
        {
            let out = self
                .rds
                .describe_db_cluster_snapshots()
                .db_cluster_identifier(id)
                .send()
                .await
                .map_err(aws_err("DescribeDBClusterSnapshots"))?;
            for snapshot in out.db_cluster_snapshots() {
                let entry = (
                    "Aurora cluster snapshot".to_owned(),
                    snapshot
                        .db_cluster_snapshot_identifier()
                        .unwrap_or_default()
                        .to_owned(),
                );
                let kept = match snapshot.snapshot_type() {
                    Some("manual") => spec.final_snapshot,
                    Some("automated") => spec.backups.retain_after_deletion,
                    _ => false,
                };
                if kept {
                    report.kept.push(entry)
                } else {
                    report.remaining.push(entry)
                }
            }
        }
        Ok(())
    }
}
