//! RDS Proxy in front of the writer.

use serde_json::{Value, json};

use super::Template;
use crate::spec::ProxySpec;

impl Template<'_> {
    /// RDS Proxy in front of the writer, when the spec asks for one: TLS required, IAM
    /// authentication from clients and to the database, in its own security group.
    pub(super) fn proxy(&mut self) {
        let spec = self.spec;
        let Some(proxy) = &spec.proxy else { return };
        self.proxy_security_group();
        self.proxy_role();
        self.proxy_itself(proxy);
        self.proxy_target_group(proxy);
        self.output(
            "ProxyEndpoint",
            "RDS Proxy endpoint (TLS, IAM tokens)",
            json!({"Fn::GetAtt": ["Proxy", "Endpoint"]}),
        );
    }

    /// The proxy's security group: the database port from the same sources as the
    /// instances', and out to the database port inside the VPC only.
    fn proxy_security_group(&mut self) {
        let prefix = self.prefix.clone();
        let spec = self.spec;
        let (network, port) = (&spec.network, spec.database.port);
        let ingress = self.allowed_ingress();
        self.resource(
            "ProxySecurityGroup",
            json!({
                "Type": "AWS::EC2::SecurityGroup",
                "Properties": {
                    "GroupDescription": format!("{prefix}: RDS Proxy, PostgreSQL from allowed private sources only"),
                    "SecurityGroupIngress": ingress,
                    "SecurityGroupEgress": [{"CidrIp": network.vpc_cidr.to_string(), "Description": "to the database, inside the VPC",
                                             "FromPort": port, "IpProtocol": "tcp", "ToPort": port}],
                    "Tags": self.tags(&format!("{prefix}-proxy")),
                    "VpcId": {"Ref": "Vpc"},
                }
            }),
        );
    }

    /// The role the proxy assumes to connect to the writer with IAM authentication.
    fn proxy_role(&mut self) {
        let prefix = self.prefix.clone();
        // The IAM resource id of the database's users: the cluster's on Aurora.
        let resource_id = if self.spec.is_aurora() {
            "Cluster.DBClusterResourceId"
        } else {
            "Primary.DbiResourceId"
        };
        self.resource(
            "ProxyRole",
            json!({
                "Type": "AWS::IAM::Role",
                "Properties": {
                    "AssumeRolePolicyDocument": {
                        "Version": "2012-10-17",
                        "Statement": [{
                            "Effect": "Allow",
                            "Principal": {"Service": "rds.amazonaws.com"},
                            "Action": "sts:AssumeRole",
                            "Condition": {"StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}},
                        }],
                    },
                    "Description": format!("{prefix}: RDS Proxy connects to the writer with IAM authentication"),
                    "Policies": [{
                        "PolicyName": "connect-to-the-writer",
                        "PolicyDocument": {
                            "Version": "2012-10-17",
                            "Statement": [{
                                "Effect": "Allow",
                                "Action": "rds-db:connect",
                                "Resource": {"Fn::Sub": format!("arn:${{AWS::Partition}}:rds-db:${{AWS::Region}}:${{AWS::AccountId}}:dbuser:${{{resource_id}}}/*")},
                            }],
                        },
                    }],
                    "Tags": self.tags(&format!("{prefix}-proxy")),
                }
            }),
        );
    }

    /// The proxy: TLS required, IAM tokens from clients, in the private subnets.
    fn proxy_itself(&mut self, proxy: &ProxySpec) {
        let spec = self.spec;
        let subnets: Vec<Value> = (1..=spec.network.subnets.len())
            .map(|i| json!({"Ref": format!("PrivateSubnet{i}")}))
            .collect();
        self.resource(
            "Proxy",
            json!({
                "Type": "AWS::RDS::DBProxy",
                "Properties": {
                    "DBProxyName": spec.proxy_name(),
                    "DebugLogging": false,
                    "DefaultAuthScheme": "IAM_AUTH",
                    "EngineFamily": "POSTGRESQL",
                    "IdleClientTimeout": proxy.idle_client_timeout_seconds,
                    "RequireTLS": true,
                    "RoleArn": {"Fn::GetAtt": ["ProxyRole", "Arn"]},
                    "Tags": self.tags(&spec.proxy_name()),
                    "VpcSecurityGroupIds": [{"Fn::GetAtt": ["ProxySecurityGroup", "GroupId"]}],
                    "VpcSubnetIds": subnets,
                }
            }),
        );
    }

    /// What the proxy connects to: the writer on RDS, the cluster on Aurora.
    fn proxy_target_group(&mut self, proxy: &ProxySpec) {
        let prefix = self.prefix.clone();
        let mut targets = json!({
            "ConnectionPoolConfigurationInfo": {"MaxConnectionsPercent": proxy.max_connections_percent},
            "DBProxyName": {"Ref": "Proxy"},
            "Tags": self.tags(&format!("{prefix}-proxy-targets")),
            "TargetGroupName": "default",
        });
        if self.spec.is_aurora() {
            targets["DBClusterIdentifiers"] = json!([{"Ref": "Cluster"}]);
        } else {
            targets["DBInstanceIdentifiers"] = json!([{"Ref": "Primary"}]);
        }
        self.resource(
            "ProxyTargetGroup",
            json!({"Type": "AWS::RDS::DBProxyTargetGroup", "Properties": targets}),
        );
    }
}
