//! Aurora PostgreSQL: the cluster and its instances.

use serde_json::{Value, json};

use super::Template;

impl Template<'_> {
    /// The Aurora cluster: the shared volume, encrypted with the stack's key, with the
    /// database's settings (IAM authentication, backups, deletion protection, logs), and
    /// the outputs that point at its endpoints.
    pub(super) fn cluster(&mut self, key_arn: &Value) {
        let spec = self.spec;
        let db = &spec.database;
        let storage = spec.engine.aurora().map(|a| a.storage.as_str());
        // As for an RDS writer: a final snapshot of the cluster when the spec asks for one.
        let retain = if spec.final_snapshot {
            "Snapshot"
        } else {
            "Delete"
        };
        let cluster = json!({
            "BackupRetentionPeriod": spec.backups.retention_days,
            "CopyTagsToSnapshot": true,
            "DBClusterIdentifier": spec.cluster_identifier(),
            "DBClusterParameterGroupName": {"Ref": "DbClusterParameterGroup"},
            "DBSubnetGroupName": {"Ref": "DbSubnetGroup"},
            "DatabaseName": db.database_name,
            "DeleteAutomatedBackups": !spec.backups.retain_after_deletion,
            "DeletionProtection": spec.deletion_protection,
            "EnableCloudwatchLogsExports": spec.log_exports(),
            "EnableIAMDatabaseAuthentication": spec.iam_auth,
            "Engine": "aurora-postgresql",
            "EngineVersion": db.engine_version,
            "KmsKeyId": key_arn,
            "ManageMasterUserPassword": true,
            "MasterUserSecret": {"KmsKeyId": key_arn},
            "MasterUsername": db.master_username,
            "Port": db.port,
            "PreferredBackupWindow": spec.backups.window,
            "PreferredMaintenanceWindow": "sun:04:00-sun:04:30",
            "StorageEncrypted": true,
            "StorageType": storage,
            "Tags": self.tags(&spec.cluster_identifier()),
            "VpcSecurityGroupIds": [{"Fn::GetAtt": ["DbSecurityGroup", "GroupId"]}],
        });
        self.resource(
            "Cluster",
            json!({"Type": "AWS::RDS::DBCluster", "DeletionPolicy": retain, "UpdateReplacePolicy": retain,
                   "DependsOn": self.log_group_ids("Cluster"), "Properties": cluster}),
        );
        self.output(
            "WriterEndpoint",
            "the cluster's writer endpoint (follows the writer through a failover)",
            json!({"Fn::GetAtt": ["Cluster", "Endpoint.Address"]}),
        );
        self.output(
            "ReaderEndpoint",
            "the cluster's reader endpoint (spreads connections over the readers)",
            json!({"Fn::GetAtt": ["Cluster", "ReadEndpoint.Address"]}),
        );
        self.output(
            "Port",
            "port of the cluster's endpoints",
            json!({"Fn::GetAtt": ["Cluster", "Endpoint.Port"]}),
        );
        self.output(
            "MasterUserSecretArn",
            "Secrets Manager secret holding the master password",
            json!({"Fn::GetAtt": ["Cluster", "MasterUserSecret.SecretArn"]}),
        );
    }

    /// The cluster's instances: `Primary`, created first so that it is the writer, and the
    /// readers, spread over the spec's zones (the writer in the first, reader `n` in zone
    /// `n` modulo their number), so a reader stands in another zone to fail over to.
    pub(super) fn cluster_instances(&mut self, key_arn: &Value) {
        let spec = self.spec;
        let zones: Vec<&str> = spec
            .network
            .subnets
            .iter()
            .map(|s| s.availability_zone.as_str())
            .collect();
        let instances = std::iter::once((
            "Primary".to_owned(),
            spec.primary_identifier(),
            spec.database.instance_class.as_str(),
            0,
        ))
        .chain((1..=spec.replicas.count).map(|n| {
            (
                format!("Replica{n}"),
                spec.replica_identifier(n),
                spec.replica_class(),
                usize::from(n),
            )
        }));
        for (logical, identifier, class, n) in instances.collect::<Vec<_>>() {
            let mut properties = json!({
                "AutoMinorVersionUpgrade": true,
                "AvailabilityZone": zones[n % zones.len()],
                "DBClusterIdentifier": {"Ref": "Cluster"},
                "DBInstanceClass": class,
                "DBInstanceIdentifier": identifier,
                "Engine": "aurora-postgresql",
                // The writer first in line to be promoted back after a failover.
                "PromotionTier": if n == 0 { 0 } else { 1 },
                "PubliclyAccessible": false,
                "Tags": self.tags(&identifier),
            });
            self.observed(&mut properties, key_arn);
            let mut resource = json!({
                // An Aurora instance holds no data of its own (the cluster's volume does):
                // deleting or replacing one loses nothing.
                "Type": "AWS::RDS::DBInstance",
                "DeletionPolicy": "Delete",
                "UpdateReplacePolicy": "Delete",
                // The spec names its zones on purpose: the reader must stand in another
                // zone than the writer.
                "Metadata": {"cfn-lint": {"config": {"ignore_checks": ["W3010"]}}},
                "Properties": properties,
            });
            if n > 0 {
                // The first instance of a cluster becomes its writer: Primary goes first.
                resource["DependsOn"] = json!(["Primary"]);
            }
            self.resource(&logical, resource);
        }
    }
}
