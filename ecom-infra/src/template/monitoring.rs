//! What the database reports beyond its alarms: Performance Insights, Enhanced
//! Monitoring, its logs, its events and the dashboard.

use serde_json::{Value, json};

use super::{Template, alarms, capitalised, sorted};
use crate::spec::DeploymentSpec;

impl Template<'_> {
    /// Performance Insights (encrypted with the database's key) and Enhanced Monitoring:
    /// the same on the writer and on every replica, of either engine. (Logs are exported
    /// per instance on RDS, per cluster on Aurora.)
    pub(super) fn observed(&self, properties: &mut Value, key_arn: &Value) {
        let m = &self.spec.monitoring;
        properties["EnablePerformanceInsights"] = json!(true);
        properties["PerformanceInsightsKMSKeyId"] = key_arn.clone();
        properties["PerformanceInsightsRetentionPeriod"] = json!(m.performance_insights_days);
        properties["MonitoringInterval"] = json!(m.enhanced_monitoring_seconds);
        properties["MonitoringRoleArn"] = json!({"Fn::GetAtt": ["MonitoringRole", "Arn"]});
    }

    /// The role Enhanced Monitoring uses to publish OS metrics to CloudWatch Logs.
    pub(super) fn monitoring_role(&mut self) {
        let prefix = self.prefix.clone();
        self.resource(
            "MonitoringRole",
            json!({
                "Type": "AWS::IAM::Role",
                "Properties": {
                    "AssumeRolePolicyDocument": {
                        "Version": "2012-10-17",
                        "Statement": [{
                            "Effect": "Allow",
                            "Principal": {"Service": "monitoring.rds.amazonaws.com"},
                            "Action": "sts:AssumeRole",
                            "Condition": {"StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}},
                        }],
                    },
                    "Description": format!("{prefix}: RDS Enhanced Monitoring"),
                    "ManagedPolicyArns": [{"Fn::Sub": "arn:${AWS::Partition}:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole"}],
                    "Tags": self.tags(&format!("{prefix}-monitoring")),
                }
            }),
        );
    }

    /// The logical ids of the log groups of an instance (`Primary`, `Replica1`...) on RDS,
    /// or of the cluster (`Cluster`) on Aurora.
    pub(super) fn log_group_ids(&self, logical_id: &str) -> Vec<String> {
        self.spec
            .log_exports()
            .iter()
            .map(|log| format!("Logs{logical_id}{}", capitalised(log)))
            .collect()
    }

    /// The log groups RDS exports each instance's logs to (Aurora: the cluster's), made
    /// before the database so they carry a retention and the database's key (RDS would
    /// otherwise create them itself, kept forever and unencrypted).
    pub(super) fn log_groups(&mut self, key_arn: &Value) {
        let spec = self.spec;
        let sources: Vec<(String, String)> = if spec.is_aurora() {
            vec![("Cluster".to_owned(), spec.cluster_identifier())]
        } else {
            std::iter::once(("Primary".to_owned(), spec.primary_identifier()))
                .chain(
                    (1..=spec.replicas.count)
                        .map(|n| (format!("Replica{n}"), spec.replica_identifier(n))),
                )
                .collect()
        };
        for (logical, identifier) in sources {
            for (log, id) in spec.log_exports().iter().zip(self.log_group_ids(&logical)) {
                let name = if spec.is_aurora() {
                    DeploymentSpec::cluster_log_group_name(&identifier, log)
                } else {
                    DeploymentSpec::log_group_name(&identifier, log)
                };
                self.resource(
                    &id,
                    json!({
                        "Type": "AWS::Logs::LogGroup",
                        "DeletionPolicy": "Delete",
                        "UpdateReplacePolicy": "Delete",
                        "Properties": {
                            "KmsKeyId": key_arn,
                            "LogGroupName": name,
                            "RetentionInDays": spec.monitoring.log_retention_days,
                            "Tags": self.tags(&name),
                        }
                    }),
                );
            }
        }
    }

    /// RDS events of every instance (failover, failure, low storage, maintenance...) to
    /// the alarm topic; on Aurora also the cluster's own (failover is a cluster event there).
    pub(super) fn event_subscription(&mut self) {
        let spec = self.spec;
        let prefix = self.prefix.clone();
        if spec.is_aurora() {
            self.resource(
                "ClusterEvents",
                json!({
                    "Type": "AWS::RDS::EventSubscription",
                    "Properties": {
                        "Enabled": true,
                        "SnsTopicArn": {"Ref": "AlarmTopic"},
                        "SourceIds": [{"Ref": "Cluster"}],
                        "SourceType": "db-cluster",
                        "SubscriptionName": format!("{prefix}-cluster-events"),
                        "Tags": self.tags(&format!("{prefix}-cluster-events")),
                    }
                }),
            );
        }
        let sources: Vec<Value> = std::iter::once(json!({"Ref": "Primary"}))
            .chain((1..=spec.replicas.count).map(|n| json!({"Ref": format!("Replica{n}")})))
            .collect();
        self.resource(
            "DbEvents",
            json!({
                "Type": "AWS::RDS::EventSubscription",
                "Properties": {
                    // No EventCategories: every category of event.
                    "Enabled": true,
                    "SnsTopicArn": {"Ref": "AlarmTopic"},
                    "SourceIds": sources,
                    "SourceType": "db-instance",
                    "SubscriptionName": format!("{prefix}-events"),
                    "Tags": self.tags(&format!("{prefix}-events")),
                }
            }),
        );
    }

    /// A CloudWatch dashboard of every alarmed metric, one graph per metric with a line per
    /// instance.
    pub(super) fn dashboard(&mut self) {
        let spec = self.spec;
        let all = alarms(spec);
        let mut metrics: Vec<&str> = Vec::new();
        for alarm in &all {
            if !metrics.contains(&alarm.metric) {
                metrics.push(alarm.metric);
            }
        }
        let widgets: Vec<Value> = metrics
            .iter()
            .enumerate()
            .map(|(i, metric)| {
                let lines: Vec<Value> = all
                    .iter()
                    .filter(|a| a.metric == *metric)
                    .map(|a| {
                        let mut line = vec![json!("AWS/RDS"), json!(metric)];
                        for (name, value) in a.target.dimensions() {
                            line.extend([json!(name), json!(value)]);
                        }
                        if a.statistic != "Average" {
                            line.push(json!({"stat": a.statistic, "label": format!("{} {}", a.target.describe(), a.statistic)}));
                        }
                        Value::Array(line)
                    })
                    .collect();
                json!({
                    "type": "metric",
                    "x": (i % 3) * 8,
                    "y": (i / 3) * 6,
                    "width": 8,
                    "height": 6,
                    "properties": {"metrics": lines, "period": 300, "region": spec.region,
                                   "stat": "Average", "title": metric, "view": "timeSeries"},
                })
            })
            .collect();
        let body = serde_json::to_string(&sorted(json!({ "widgets": widgets })))
            .expect("a JSON value always serialises");
        self.resource(
            "Dashboard",
            json!({
                // Dashboards take no tags.
                "Type": "AWS::CloudWatch::Dashboard",
                "Properties": {"DashboardBody": body, "DashboardName": self.prefix},
            }),
        );
    }
}
