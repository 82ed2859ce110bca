//! RDS Proxy in front of the writer.

use serde_json::{Value, json};

use super::Template;

impl Template<'_> {
    /// RDS Proxy in front of the writer, when the spec asks for one: TLS required, IAM
    /// authentication from clients and to the database, in its own security group.
    pub(super) fn proxy(&mut self) {
        let spec = self.spec;
        let Some(proxy) = &spec.proxy else { return };
        let prefix = self.prefix.clone();
        let (network, port) = (&spec.network, spec.database.port);
        // The IAM resource id of the database's users: the cluster's on Aurora.
        let resource_id = if spec.is_aurora() {
            "Cluster.DBClusterResourceId"
        } else {
            "Primary.DbiResourceId"
        };
        let mut ingress: Vec<Value> = network
            .allowed_cidrs
            .iter()
            .map(|cidr| {
                json!({"CidrIp": cidr.to_string(), "Description": "PostgreSQL from an allowed private block",
                       "FromPort": port, "IpProtocol": "tcp", "ToPort": port})
            })
            .collect();
        ingress.extend(network.allowed_security_groups.iter().map(|group| {
            json!({"Description": "PostgreSQL from an allowed security group", "FromPort": port,
                   "IpProtocol": "tcp", "SourceSecurityGroupId": group, "ToPort": port})
        }));
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
        let subnets: Vec<Value> = (1..=network.subnets.len())
            .map(|i| json!({"Ref": format!("PrivateSubnet{i}")}))
            .collect();
        let mut targets = json!({
            "ConnectionPoolConfigurationInfo": {"MaxConnectionsPercent": proxy.max_connections_percent},
            "DBProxyName": {"Ref": "Proxy"},
            "Tags": self.tags(&format!("{prefix}-proxy-targets")),
            "TargetGroupName": "default",
        });
        if spec.is_aurora() {
            targets["DBClusterIdentifiers"] = json!([{"Ref": "Cluster"}]);
        } else {
            targets["DBInstanceIdentifiers"] = json!([{"Ref": "Primary"}]);
        }
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
        self.resource(
            "ProxyTargetGroup",
            json!({"Type": "AWS::RDS::DBProxyTargetGroup", "Properties": targets}),
        );
        self.output(
            "ProxyEndpoint",
            "RDS Proxy endpoint (TLS, IAM tokens)",
            json!({"Fn::GetAtt": ["Proxy", "Endpoint"]}),
        );
    }
}
