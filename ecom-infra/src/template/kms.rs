//! The KMS key that encrypts the database, its snapshots, its secret, its logs and the
//! alarm topic.

use serde_json::{Value, json};

use super::Template;
use crate::spec::EncryptionKey;

impl Template<'_> {
    /// The stack's own KMS key when the spec asks for one; returns the key's ARN either way
    /// (a reference to the stack's key, or the existing key's ARN).
    pub(super) fn key(&mut self) -> Value {
        let spec = self.spec;
        let pending_window_days = match &spec.encryption {
            EncryptionKey::Create {
                pending_window_days,
            } => pending_window_days,
            EncryptionKey::Existing { arn } => return json!(arn),
        };
        let prefix = self.prefix.clone();
        // A snapshot that outlives the writer is encrypted with this key: deleting the key
        // (or replacing it) would leave it unrestorable once the waiting period ends.
        let policy = if spec.snapshots_outlive_writer() {
            "Retain"
        } else {
            "Delete"
        };
        self.resource(
            "DbKey",
            json!({
                "Type": "AWS::KMS::Key",
                "DeletionPolicy": policy,
                "UpdateReplacePolicy": policy,
                "Properties": {
                    "Description": format!("{prefix}: RDS storage, snapshots and master secret"),
                    "EnableKeyRotation": true,
                    "KeyPolicy": {
                        "Version": "2012-10-17",
                        "Statement": [{
                            "Sid": "AccountAdministersTheKey",
                            "Effect": "Allow",
                            "Principal": {"AWS": {"Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:root"}},
                            "Action": "kms:*",
                            "Resource": "*",
                        }, {
                            // The exported database logs are encrypted with this key.
                            "Sid": "CloudWatchLogsEncryptsTheDatabaseLogs",
                            "Effect": "Allow",
                            "Principal": {"Service": {"Fn::Sub": "logs.${AWS::Region}.amazonaws.com"}},
                            "Action": ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"],
                            "Resource": "*",
                            "Condition": {"ArnLike": {"kms:EncryptionContext:aws:logs:arn": {"Fn::Sub": format!("arn:${{AWS::Partition}}:logs:${{AWS::Region}}:${{AWS::AccountId}}:log-group:/aws/rds/{}/{prefix}-*", if spec.is_aurora() { "cluster" } else { "instance" })}}},
                        }, {
                            // Alarms and RDS events publish to the topic, encrypted with this key.
                            "Sid": "AlarmsAndEventsPublishToTheEncryptedTopic",
                            "Effect": "Allow",
                            "Principal": {"Service": ["cloudwatch.amazonaws.com", "events.rds.amazonaws.com"]},
                            "Action": ["kms:Decrypt", "kms:GenerateDataKey*"],
                            "Resource": "*",
                            "Condition": {"StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}},
                        }],
                    },
                    "PendingWindowInDays": pending_window_days,
                    "Tags": self.tags(&format!("{prefix}-key")),
                }
            }),
        );
        json!({"Fn::GetAtt": ["DbKey", "Arn"]})
    }
}
