//! RDS for PostgreSQL: the writer instance and its read replicas.

use serde_json::{Value, json};

use super::Template;

impl Template<'_> {
    /// The writer, and the outputs that point at it.
    pub(super) fn primary(&mut self, key_arn: &Value) {
        let spec = self.spec;
        let db = &spec.database;
        let retain = if spec.final_snapshot {
            "Snapshot"
        } else {
            "Delete"
        };
        let mut primary = json!({
            "AllocatedStorage": db.storage.allocated_gib.to_string(),
            "AutoMinorVersionUpgrade": true,
            "BackupRetentionPeriod": spec.backups.retention_days,
            "CopyTagsToSnapshot": true,
            "DBInstanceClass": db.instance_class,
            "DBInstanceIdentifier": spec.primary_identifier(),
            "DBName": db.database_name,
            "DBParameterGroupName": {"Ref": "DbParameterGroup"},
            "DBSubnetGroupName": {"Ref": "DbSubnetGroup"},
            "DeleteAutomatedBackups": !spec.backups.retain_after_deletion,
            "DeletionProtection": spec.deletion_protection,
            "EnableIAMDatabaseAuthentication": spec.iam_auth,
            "Engine": "postgres",
            "EngineVersion": db.engine_version,
            "KmsKeyId": key_arn,
            "ManageMasterUserPassword": true,
            "MasterUserSecret": {"KmsKeyId": key_arn},
            "MasterUsername": db.master_username,
            "MultiAZ": db.multi_az,
            "Port": db.port.to_string(),
            "PreferredBackupWindow": spec.backups.window,
            "PreferredMaintenanceWindow": "sun:04:00-sun:04:30",
            "PubliclyAccessible": false,
            "StorageEncrypted": true,
            "StorageType": db.storage.storage_type.as_str(),
            "Tags": self.tags(&spec.primary_identifier()),
            "VPCSecurityGroups": [{"Fn::GetAtt": ["DbSecurityGroup", "GroupId"]}],
        });
        if let Some(limit) = db.storage.max_allocated_gib {
            primary["MaxAllocatedStorage"] = json!(limit);
        }
        self.observed(&mut primary, key_arn);
        primary["EnableCloudwatchLogsExports"] = json!(spec.log_exports());
        self.resource(
            "Primary",
            json!({"Type": "AWS::RDS::DBInstance", "DeletionPolicy": retain, "UpdateReplacePolicy": retain,
                   "DependsOn": self.log_group_ids("Primary"), "Properties": primary}),
        );
        self.output(
            "WriterEndpoint",
            "writer endpoint",
            json!({"Fn::GetAtt": ["Primary", "Endpoint.Address"]}),
        );
        self.output(
            "Port",
            "port of every instance",
            json!({"Fn::GetAtt": ["Primary", "Endpoint.Port"]}),
        );
        self.output(
            "MasterUserSecretArn",
            "Secrets Manager secret holding the master password",
            json!({"Fn::GetAtt": ["Primary", "MasterUserSecret.SecretArn"]}),
        );
    }

    /// Each read replica, with an output for its endpoint.
    pub(super) fn replicas(&mut self, key_arn: &Value) {
        let spec = self.spec;
        for n in 1..=spec.replicas.count {
            let id = format!("Replica{n}");
            let mut properties = json!({
                "AutoMinorVersionUpgrade": true,
                "DBInstanceClass": spec.replica_class(),
                "DBInstanceIdentifier": spec.replica_identifier(n),
                "DBParameterGroupName": {"Ref": "DbParameterGroup"},
                "DeletionProtection": spec.deletion_protection,
                "EnableIAMDatabaseAuthentication": spec.iam_auth,
                "Port": spec.database.port.to_string(),
                "PubliclyAccessible": false,
                "SourceDBInstanceIdentifier": {"Ref": "Primary"},
                "Tags": self.tags(&spec.replica_identifier(n)),
                "VPCSecurityGroups": [{"Fn::GetAtt": ["DbSecurityGroup", "GroupId"]}],
            });
            self.observed(&mut properties, key_arn);
            properties["EnableCloudwatchLogsExports"] = json!(spec.log_exports());
            self.resource(
                &id,
                json!({
                    // A replica holds no data of its own: deleting it loses nothing.
                    "Type": "AWS::RDS::DBInstance",
                    "DeletionPolicy": "Delete",
                    "UpdateReplacePolicy": "Delete",
                    "DependsOn": self.log_group_ids(&id),
                    "Properties": properties,
                }),
            );
            self.output(
                &format!("{id}Endpoint"),
                &format!("read replica {n} endpoint"),
                json!({"Fn::GetAtt": [id, "Endpoint.Address"]}),
            );
        }
    }
}
