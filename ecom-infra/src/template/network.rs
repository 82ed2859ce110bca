//! The network: the VPC, its private subnets, the instances' security group and the RDS
//! subnet group.

use serde_json::{Value, json};

use super::Template;

impl Template<'_> {
    /// The VPC and one private subnet per zone; returns references to the subnets.
    pub(super) fn vpc_and_subnets(&mut self) -> Vec<Value> {
        let spec = self.spec;
        let prefix = self.prefix.clone();
        self.resource(
            "Vpc",
            json!({
                "Type": "AWS::EC2::VPC",
                "Properties": {
                    "CidrBlock": spec.network.vpc_cidr.to_string(),
                    "EnableDnsHostnames": true,
                    "EnableDnsSupport": true,
                    "Tags": self.tags(&format!("{prefix}-vpc")),
                }
            }),
        );
        // Private subnets only: the template creates no internet gateway and no route to one.
        let mut subnet_refs = Vec::new();
        for (i, subnet) in spec.network.subnets.iter().enumerate() {
            let id = format!("PrivateSubnet{}", i + 1);
            self.resource(
                &id,
                json!({
                    "Type": "AWS::EC2::Subnet",
                    // The spec names its zones on purpose: the subnet group, the standby and the
                    // replicas must land in the zones the operator chose and priced.
                    "Metadata": {"cfn-lint": {"config": {"ignore_checks": ["W3010"]}}},
                    "Properties": {
                        "AvailabilityZone": subnet.availability_zone,
                        "CidrBlock": subnet.cidr.to_string(),
                        "MapPublicIpOnLaunch": false,
                        "Tags": self.tags(&format!("{prefix}-private-{}", subnet.availability_zone)),
                        "VpcId": {"Ref": "Vpc"},
                    }
                }),
            );
            subnet_refs.push(json!({"Ref": id}));
        }
        subnet_refs
    }

    /// The instances' security group: the database port from allowed private sources, and
    /// no egress.
    pub(super) fn security_group(&mut self) {
        let prefix = self.prefix.clone();
        let spec = self.spec;
        let port = spec.database.port;
        let mut ingress = self.allowed_ingress();
        if spec.proxy.is_some() {
            // The proxy may leave through port 5432 to the VPC's block only (its own
            // group's egress), so this reference goes one way and makes no cycle.
            ingress.push(json!({"Description": "PostgreSQL from the stack's RDS Proxy", "FromPort": port,
                                "IpProtocol": "tcp", "SourceSecurityGroupId": {"Fn::GetAtt": ["ProxySecurityGroup", "GroupId"]},
                                "ToPort": port}));
        }
        self.resource(
            "DbSecurityGroup",
            json!({
                "Type": "AWS::EC2::SecurityGroup",
                "Properties": {
                    "GroupDescription": format!("{prefix}: PostgreSQL from allowed private sources only"),
                    "SecurityGroupIngress": ingress,
                    // Replaces the default allow-all egress: the database initiates nothing.
                    "SecurityGroupEgress": [{"CidrIp": "127.0.0.1/32", "Description": "no egress", "IpProtocol": "-1"}],
                    "Tags": self.tags(&format!("{prefix}-db")),
                    "VpcId": {"Ref": "Vpc"},
                }
            }),
        );
    }

    /// The ingress rules that let the spec's allowed private blocks and security groups
    /// reach the database port: the instances' and the proxy's groups both start with them.
    pub(super) fn allowed_ingress(&self) -> Vec<Value> {
        let (network, port) = (&self.spec.network, self.spec.database.port);
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
        ingress
    }

    /// The RDS subnet group over the private subnets.
    pub(super) fn subnet_group(&mut self, subnet_refs: Vec<Value>) {
        let prefix = self.prefix.clone();
        self.resource(
            "DbSubnetGroup",
            json!({
                "Type": "AWS::RDS::DBSubnetGroup",
                "Properties": {
                    "DBSubnetGroupDescription": format!("{prefix}: private subnets"),
                    "SubnetIds": subnet_refs,
                    "Tags": self.tags(&format!("{prefix}-subnets")),
                }
            }),
        );
    }
}
