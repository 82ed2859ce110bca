//! The parameter groups: TLS required, and the logging an operator needs.

use serde_json::{Value, json};

use super::Template;

impl Template<'_> {
    /// The parameter group every instance uses, which requires TLS.
    pub(super) fn parameter_group(&mut self) {
        let prefix = self.prefix.clone();
        let major = self.spec.database.major_version().unwrap_or_default();
        self.resource(
            "DbParameterGroup",
            json!({
                "Type": "AWS::RDS::DBParameterGroup",
                "Properties": {
                    "Description": format!("{prefix}: TLS required, logging"),
                    "Family": format!("postgres{major}"),
                    "Parameters": self.parameters(),
                    "Tags": self.tags(&format!("{prefix}-params")),
                }
            }),
        );
        self.output(
            "DbParameterGroupName",
            "RDS parameter group",
            json!({"Ref": "DbParameterGroup"}),
        );
    }

    /// The Aurora cluster's parameter group: the same settings, which Aurora PostgreSQL
    /// takes for the whole cluster (`rds.force_ssl` and the preloaded libraries only there).
    pub(super) fn cluster_parameter_group(&mut self) {
        let prefix = self.prefix.clone();
        let major = self.spec.database.major_version().unwrap_or_default();
        self.resource(
            "DbClusterParameterGroup",
            json!({
                "Type": "AWS::RDS::DBClusterParameterGroup",
                "Properties": {
                    "Description": format!("{prefix}: TLS required, logging"),
                    "Family": format!("aurora-postgresql{major}"),
                    "Parameters": self.parameters(),
                    "Tags": self.tags(&format!("{prefix}-cluster-params")),
                }
            }),
        );
        self.output(
            "DbClusterParameterGroupName",
            "Aurora cluster parameter group",
            json!({"Ref": "DbClusterParameterGroup"}),
        );
    }

    /// TLS required, and the logging an operator needs.
    pub(super) fn parameters(&self) -> Value {
        let monitoring = &self.spec.monitoring;
        let mut parameters = json!({
            "rds.force_ssl": "1",
            // What an operator needs from the logs: slow statements, lock waits (after
            // deadlock_timeout, 1 s), who connected, autovacuum runs over a second and
            // temporary files over 10 MiB.
            "log_min_duration_statement": monitoring.slow_statement_ms.to_string(),
            "log_lock_waits": "1",
            "log_connections": "1",
            "log_disconnections": "1",
            "log_autovacuum_min_duration": "1000",
            "log_temp_files": "10240",
        });
        if monitoring.pgaudit {
            parameters["shared_preload_libraries"] = json!("pg_stat_statements,pgaudit");
            parameters["pgaudit.log"] = json!("ddl,role");
        }
        parameters
    }
}
