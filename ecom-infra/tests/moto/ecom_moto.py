"""moto_server with the CloudFormation behaviours ecom-infra's template relies on.

Usage: python ecom_moto.py [PORT]   (binds 127.0.0.1:PORT; 0, the default, takes a free
port and prints "ecom_moto: listening on 127.0.0.1:<port>" once it accepts connections)

moto 5.2.5's CloudFormation layer falls short of what AWS documents in a few places
that ecom-infra's template reaches. The RDS, CloudWatch and KMS APIs called directly
behave correctly; only the CloudFormation glue is patched here, to do what the AWS
CloudFormation resource reference says. Each patch is small, named, and has its own
test in ecom-infra/tests/it/moto_patches.rs, so a moto upgrade that fixes or breaks one
shows up by name. Pinned to the version below: the patches refuse to load on another.

Not patched (the template does not depend on them):
- a replica without an explicit Port gets 3306: the template states the port of every
  instance (the spec's port), so this never arises;
"""

import json
import os
import sys

import moto

EXPECTED_MOTO = "5.2.5"
if moto.__version__ != EXPECTED_MOTO:
    sys.exit(f"ecom_moto.py patches moto {EXPECTED_MOTO}, found {moto.__version__}: review the patches")

from moto.cloudformation import parsing  # noqa: E402
from moto.cloudwatch.models import cloudwatch_backends  # noqa: E402
from moto.core.common_models import CloudFormationModel  # noqa: E402
from moto.kms import models as kms_models  # noqa: E402
from moto.rds import models as rds_models  # noqa: E402

PATCHED = []
# ECOM_MOTO_SKIP=name,name leaves those patches out: to see a patch's test fail without it.
SKIPPED = set(filter(None, os.environ.get("ECOM_MOTO_SKIP", "").split(",")))


def patch(name):
    def register(fn):
        if name not in SKIPPED:
            fn()
            PATCHED.append(name)
        return fn

    return register


@patch("rds_group_refs")
def _rds_group_refs():
    """`Ref` to an AWS::RDS::DBParameterGroup or AWS::RDS::DBSubnetGroup returns its name
    (the stack resource's physical id), and an explicit `DBParameterGroupName` property is
    the group's name, as documented. moto returned the Python object, which crashed an
    instance using the parameter group (HTTP 500) and left both physical ids empty, and it
    ignored the property."""
    rds_models.DBParameterGroup.physical_resource_id = property(lambda self: self.name)
    rds_models.DBSubnetGroup.physical_resource_id = property(lambda self: self.name)
    rds_models.DBParameterGroup.cloudformation_name_type = staticmethod(lambda: "DBParameterGroupName")

    original = rds_models.DBParameterGroup.create_from_cloudformation_json.__func__

    def create(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):
        group = original(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs)
        wanted = cloudformation_json["Properties"].get("DBParameterGroupName")
        if wanted and group.name != wanted:
            backend = rds_models.rds_backends[account_id][region_name]
            backend.db_parameter_groups.pop(group.name)
            group.name = wanted
            backend.db_parameter_groups[wanted] = group
        return group

    rds_models.DBParameterGroup.create_from_cloudformation_json = classmethod(create)


@patch("db_instance_properties")
def _db_instance_properties():
    """AWS::RDS::DBInstance honours EnableIAMDatabaseAuthentication,
    ManageMasterUserPassword with MasterUserSecret.KmsKeyId, VPCSecurityGroups,
    DeletionProtection, MaxAllocatedStorage, MonitoringInterval with MonitoringRoleArn
    and EnableCloudwatchLogsExports, takes AllocatedStorage and Port as the strings the
    CloudFormation schema declares, and supports `Fn::GetAtt MasterUserSecret.SecretArn`
    and `Fn::GetAtt DbiResourceId`, as documented; moto ignored them. (Performance Insights is not modelled by moto's RDS
    at all, so its properties stay unchecked here.)"""
    original = rds_models.DBInstance.create_from_cloudformation_json.__func__

    def create(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):
        props = cloudformation_json["Properties"]
        if isinstance(props.get("DBSubnetGroupName"), str):  # a name, now that Ref gives one
            backend = rds_models.rds_backends[account_id][region_name]
            props["DBSubnetGroupName"] = backend.subnet_groups[props["DBSubnetGroupName"]]
        for number in ("AllocatedStorage", "Port"):  # strings in the CloudFormation schema
            if number in props:
                props[number] = int(props[number])
        if "VPCSecurityGroups" in props:
            props.setdefault("VpcSecurityGroupIds", props["VPCSecurityGroups"])
        db = original(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs)
        if "EnableIAMDatabaseAuthentication" in props:
            db.enable_iam_database_authentication = _bool(props["EnableIAMDatabaseAuthentication"])
        if "DeletionProtection" in props:
            db.deletion_protection = _bool(props["DeletionProtection"])
        if "MaxAllocatedStorage" in props:
            db.max_allocated_storage = int(props["MaxAllocatedStorage"])
        if int(props.get("MonitoringInterval", 0)):
            db.monitoring_interval = int(props["MonitoringInterval"])
            db.monitoring_role_arn = props.get("MonitoringRoleArn")
        if props.get("EnableCloudwatchLogsExports"):
            db.enabled_cloudwatch_logs_exports = list(props["EnableCloudwatchLogsExports"])
        if _bool(props.get("ManageMasterUserPassword", False)):
            kms_key = (props.get("MasterUserSecret") or {}).get("KmsKeyId")
            db.update(manage_master_user_password=True, master_user_secret_kms_key_id=kms_key)
        return db

    rds_models.DBInstance.create_from_cloudformation_json = classmethod(create)

    original_has = rds_models.DBInstance.has_cfn_attr.__func__
    original_get = rds_models.DBInstance.get_cfn_attribute

    def has_cfn_attr(cls, attr):
        return attr in ("MasterUserSecret.SecretArn", "DbiResourceId") or original_has(cls, attr)

    def get_cfn_attribute(self, name):
        if name == "MasterUserSecret.SecretArn" and getattr(self, "manage_master_user_password", False):
            return self.master_user_secret.secret_arn
        if name == "DbiResourceId":
            return self.dbi_resource_id
        return original_get(self, name)

    rds_models.DBInstance.has_cfn_attr = classmethod(has_cfn_attr)
    rds_models.DBInstance.get_cfn_attribute = get_cfn_attribute


@patch("delete_with_replicas")
def _delete_with_replicas():
    """Deleting a stack with read replicas succeeds. AWS CloudFormation deletes the
    replicas before the instance they reference; moto deletes in any order, and a replica
    whose source was deleted first failed with DBInstanceNotFound although both were gone.
    The end state is the same as AWS's: both deleted."""
    original = rds_models.RDSBackend.delete_db_instance

    def delete_db_instance(self, db_instance_identifier, *args, **kwargs):
        db = self.databases.get(db_instance_identifier)
        if db is not None and db.is_replica and db.source_db_instance_identifier not in self.databases:
            db.is_replica = False  # its source is already gone: nothing to detach from
        return original(self, db_instance_identifier, *args, **kwargs)

    rds_models.RDSBackend.delete_db_instance = delete_db_instance


@patch("kms_key_policy_and_deletion")
def _kms_key():
    """AWS::KMS::Key takes `KeyPolicy` as a JSON object (as the docs show it) and `Tags` as
    `Key`/`Value` pairs, and deleting the stack schedules the key for deletion after
    `PendingWindowInDays` (default 30) instead of erasing it. moto stored the object as the
    policy (after which kms:DescribeKey failed), failed on `Key`/`Value` tags (it wants the
    KMS API's `TagKey`/`TagValue`) and erased the key at once."""
    original = kms_models.Key.create_from_cloudformation_json.__func__

    def create(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):
        props = cloudformation_json["Properties"]
        if isinstance(props.get("KeyPolicy"), dict):
            props["KeyPolicy"] = json.dumps(props["KeyPolicy"])
        if props.get("Tags"):
            props["Tags"] = [{"TagKey": t["Key"], "TagValue": t["Value"]} for t in props["Tags"]]
        key = original(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs)
        key.ecom_pending_window = int(props.get("PendingWindowInDays", 30))
        return key

    def delete(self, account_id, region_name):
        backend = kms_models.kms_backends[account_id][region_name]
        backend.schedule_key_deletion(self.id, getattr(self, "ecom_pending_window", 30))

    kms_models.Key.create_from_cloudformation_json = classmethod(create)
    kms_models.Key.delete = delete


@patch("db_instance_deletion_policy")
def _db_instance_deletion_policy():
    """Deleting a stack honours an AWS::RDS::DBInstance's `DeletionPolicy: Snapshot` (RDS
    takes a final snapshot of the instance before deleting it) and its
    `DeleteAutomatedBackups: false` (the automated backups stay), as documented. moto
    deleted the instance with neither: no final snapshot, automated backups gone."""
    original = parsing.ResourceMap._delete_resource

    def _delete_resource(self, parsed_resource, resource_json):
        if not isinstance(parsed_resource, rds_models.DBInstance):
            return original(self, parsed_resource, resource_json)
        backend = rds_models.rds_backends[self._account_id][self._region_name]
        identifier = parsed_resource.db_instance_identifier
        snapshot = resource_json.get("DeletionPolicy") == "Snapshot"
        keep_backups = not _bool(resource_json.get("Properties", {}).get("DeleteAutomatedBackups", True))
        backend.delete_db_instance(
            identifier,
            final_db_snapshot_identifier=f"{identifier}-final" if snapshot else None,
            skip_final_snapshot=not snapshot,
            delete_automated_backups=not keep_backups,
        )

    parsing.ResourceMap._delete_resource = _delete_resource


@patch("rds_event_subscription")
def _rds_event_subscription():
    """AWS::RDS::EventSubscription creates the subscription (moto skipped the resource
    silently). Ref returns its name, as documented; updating replaces its source list and
    settings; deleting the stack deletes it."""

    class CfnEventSubscription(CloudFormationModel):
        __module__ = "moto.rds.models"  # moto's model registry keys on the service module

        def __init__(self, name):
            self.name = name

        @property
        def physical_resource_id(self):
            return self.name

        @staticmethod
        def cloudformation_name_type():
            return "SubscriptionName"

        @staticmethod
        def cloudformation_type():
            return "AWS::RDS::EventSubscription"

        @classmethod
        def create_from_cloudformation_json(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):
            p = cloudformation_json["Properties"]
            backend = rds_models.rds_backends[account_id][region_name]
            backend.create_event_subscription({
                "subscription_name": resource_name,
                "sns_topic_arn": p["SnsTopicArn"],
                "source_type": p.get("SourceType"),
                "event_categories": p.get("EventCategories", []),
                "source_ids": [str(i) for i in p.get("SourceIds", [])],
                "enabled": _bool(p.get("Enabled", True)),
                "tags": p.get("Tags", []),
            })
            return cls(resource_name)

        @classmethod
        def update_from_cloudformation_json(cls, original_resource, new_resource_name, cloudformation_json, account_id, region_name):
            original_resource.delete(account_id, region_name)
            return cls.create_from_cloudformation_json(original_resource.name, cloudformation_json, account_id, region_name)

        def delete(self, account_id, region_name):
            rds_models.rds_backends[account_id][region_name].delete_event_subscription(self.name)

    globals()["CfnEventSubscription"] = CfnEventSubscription
    parsing.get_model_map.cache_clear()
    parsing.get_name_type_map.cache_clear()


@patch("rds_db_proxy")
def _rds_db_proxy():
    """AWS::RDS::DBProxy and AWS::RDS::DBProxyTargetGroup create the proxy and register its
    targets (moto skipped both silently). Ref of a proxy is its name and `Fn::GetAtt
    Endpoint` its endpoint; deleting the stack deletes the proxy. (moto's proxy has no
    DefaultAuthScheme: it is checked in the template.)"""

    class CfnDBProxy(CloudFormationModel):
        __module__ = "moto.rds.models"

        def __init__(self, name, endpoint):
            self.name = name
            self.endpoint = endpoint

        @property
        def physical_resource_id(self):
            return self.name

        @staticmethod
        def cloudformation_name_type():
            return "DBProxyName"

        @staticmethod
        def cloudformation_type():
            return "AWS::RDS::DBProxy"

        @classmethod
        def has_cfn_attr(cls, attr):
            return attr in ("Endpoint", "DBProxyArn")

        def get_cfn_attribute(self, attribute_name):
            return self.endpoint

        @classmethod
        def create_from_cloudformation_json(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):
            p = cloudformation_json["Properties"]
            backend = rds_models.rds_backends[account_id][region_name]
            proxy = backend.create_db_proxy(
                db_proxy_name=resource_name,
                engine_family=p["EngineFamily"],
                auth=p.get("Auth", []),
                role_arn=p["RoleArn"],
                vpc_subnet_ids=[str(i) for i in p["VpcSubnetIds"]],
                vpc_security_group_ids=[str(i) for i in p.get("VpcSecurityGroupIds", [])],
                require_tls=_bool(p.get("RequireTLS", False)),
                idle_client_timeout=int(p.get("IdleClientTimeout", 1800)),
                debug_logging=_bool(p.get("DebugLogging", False)),
                tags=p.get("Tags", []),
            )
            return cls(resource_name, proxy.endpoint)

        def delete(self, account_id, region_name):
            rds_models.rds_backends[account_id][region_name].delete_db_proxy(self.name)

    class CfnDBProxyTargetGroup(CloudFormationModel):
        __module__ = "moto.rds.models"

        def __init__(self, proxy, name):
            self.proxy = proxy
            self.name = name

        @property
        def physical_resource_id(self):
            return f"{self.proxy}/{self.name}"

        @staticmethod
        def cloudformation_type():
            return "AWS::RDS::DBProxyTargetGroup"

        @classmethod
        def create_from_cloudformation_json(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):
            p = cloudformation_json["Properties"]
            backend = rds_models.rds_backends[account_id][region_name]
            name = p.get("TargetGroupName", "default")
            backend.register_db_proxy_targets(
                db_proxy_name=p["DBProxyName"],
                target_group_name=name,
                db_cluster_identifiers=p.get("DBClusterIdentifiers", []),
                db_instance_identifiers=p.get("DBInstanceIdentifiers", []),
            )
            return cls(p["DBProxyName"], name)

        def delete(self, account_id, region_name):
            backend = rds_models.rds_backends[account_id][region_name]
            if self.proxy in backend.db_proxies:
                group = backend.db_proxies[self.proxy].proxy_target_groups[self.name]
                group.targets = []

    globals()["CfnDBProxy"] = CfnDBProxy
    globals()["CfnDBProxyTargetGroup"] = CfnDBProxyTargetGroup
    parsing.get_model_map.cache_clear()
    parsing.get_name_type_map.cache_clear()


@patch("rds_db_cluster_parameter_group")
def _rds_db_cluster_parameter_group():
    """AWS::RDS::DBClusterParameterGroup creates the group with its `Parameters` (moto
    skipped the resource silently). Ref returns its name, as documented; deleting the stack
    deletes it."""

    class CfnDBClusterParameterGroup(CloudFormationModel):
        __module__ = "moto.rds.models"

        def __init__(self, name):
            self.name = name

        @property
        def physical_resource_id(self):
            return self.name

        @staticmethod
        def cloudformation_name_type():
            return "DBClusterParameterGroupName"

        @staticmethod
        def cloudformation_type():
            return "AWS::RDS::DBClusterParameterGroup"

        @classmethod
        def create_from_cloudformation_json(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):
            p = cloudformation_json["Properties"]
            backend = rds_models.rds_backends[account_id][region_name]
            name = resource_name.lower()  # RDS keeps these names in lower case
            backend.create_db_cluster_parameter_group(
                db_cluster_parameter_group_name=name,
                db_parameter_group_family=p["Family"],
                description=p["Description"],
                tags=p.get("Tags", []),
            )
            backend.modify_db_cluster_parameter_group(
                name,
                [{"ParameterName": k, "ParameterValue": str(v), "ApplyMethod": "pending-reboot"}
                 for k, v in (p.get("Parameters") or {}).items()],
            )
            return cls(name)

        def delete(self, account_id, region_name):
            rds_models.rds_backends[account_id][region_name].delete_db_cluster_parameter_group(self.name)

    globals()["CfnDBClusterParameterGroup"] = CfnDBClusterParameterGroup
    parsing.get_model_map.cache_clear()
    parsing.get_name_type_map.cache_clear()


@patch("rds_db_cluster")
def _rds_db_cluster():
    """AWS::RDS::DBCluster creates the cluster with its documented properties (moto skipped
    the resource silently): engine and version, database name, master user with
    ManageMasterUserPassword and MasterUserSecret.KmsKeyId, port, backups, subnet group,
    security groups, encryption with KmsKeyId, deletion protection, IAM authentication,
    log exports, cluster parameter group, storage type and tags. Ref returns its
    identifier; `Fn::GetAtt` gives Endpoint.Address, Endpoint.Port, ReadEndpoint.Address,
    MasterUserSecret.SecretArn, DBClusterResourceId and DBClusterArn. Deleting the stack
    honours `DeletionPolicy: Snapshot` (a final cluster snapshot) and
    `DeleteAutomatedBackups` (true by default: the automated snapshots go with the
    cluster), as documented; the cluster is deleted after its instances."""

    class CfnDBCluster(CloudFormationModel):
        __module__ = "moto.rds.models"

        def __init__(self, identifier, account_id, region_name, delete_backups):
            self.identifier = identifier
            self.account_id = account_id
            self.region_name = region_name
            self.delete_backups = delete_backups

        def cluster(self):
            return rds_models.rds_backends[self.account_id][self.region_name].clusters[self.identifier]

        @property
        def physical_resource_id(self):
            return self.identifier

        @staticmethod
        def cloudformation_name_type():
            return "DBClusterIdentifier"

        @staticmethod
        def cloudformation_type():
            return "AWS::RDS::DBCluster"

        @classmethod
        def has_cfn_attr(cls, attr):
            return attr in ("Endpoint.Address", "Endpoint.Port", "ReadEndpoint.Address",
                            "MasterUserSecret.SecretArn", "DBClusterResourceId", "DBClusterArn")

        def get_cfn_attribute(self, attribute_name):
            cluster = self.cluster()
            return {
                "Endpoint.Address": lambda: cluster.endpoint,
                "Endpoint.Port": lambda: cluster.port,
                "ReadEndpoint.Address": lambda: cluster.reader_endpoint,
                "MasterUserSecret.SecretArn": lambda: cluster.master_user_secret.secret_arn,
                "DBClusterResourceId": lambda: cluster.db_cluster_resource_id,
                "DBClusterArn": lambda: cluster.db_cluster_arn,
            }[attribute_name]()

        @classmethod
        def create_from_cloudformation_json(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):
            p = cloudformation_json["Properties"]
            backend = rds_models.rds_backends[account_id][region_name]
            identifier = resource_name.lower()
            backend.create_db_cluster({
                "db_cluster_identifier": identifier,
                "engine": p["Engine"],
                "engine_version": p.get("EngineVersion"),
                "database_name": p.get("DatabaseName"),
                "master_username": p.get("MasterUsername"),
                "master_user_password": p.get("MasterUserPassword"),
                "manage_master_user_password": _bool(p.get("ManageMasterUserPassword", False)),
                "master_user_secret_kms_key_id": (p.get("MasterUserSecret") or {}).get("KmsKeyId"),
                "port": int(p["Port"]) if "Port" in p else None,
                "backup_retention_period": int(p.get("BackupRetentionPeriod", 1)),
                "preferred_backup_window": p.get("PreferredBackupWindow", "01:37-02:07"),
                "preferred_maintenance_window": p.get("PreferredMaintenanceWindow", "wed:02:40-wed:03:10").lower(),
                "copy_tags_to_snapshot": _bool(p.get("CopyTagsToSnapshot", False)),
                "db_cluster_parameter_group_name": p.get("DBClusterParameterGroupName"),
                "db_subnet_group_name": p.get("DBSubnetGroupName"),
                "vpc_security_group_ids": [str(g) for g in p.get("VpcSecurityGroupIds", [])],
                "storage_encrypted": _bool(p.get("StorageEncrypted", False)),
                "kms_key_id": p.get("KmsKeyId"),
                "deletion_protection": _bool(p.get("DeletionProtection", False)),
                "enable_iam_database_authentication": _bool(p.get("EnableIAMDatabaseAuthentication", False)),
                "enable_cloudwatch_logs_exports": list(p.get("EnableCloudwatchLogsExports", [])),
                "storage_type": p.get("StorageType"),
                # What Aurora reports (its volume grows by itself); moto has no default
                # for Aurora's storage types.
                "allocated_storage": 1,
                "tags": p.get("Tags", []),
            })
            delete_backups = _bool(p.get("DeleteAutomatedBackups", True))
            return cls(identifier, account_id, region_name, delete_backups)

        def delete(self, account_id, region_name):
            self.delete_with(snapshot=False)

        def delete_with(self, snapshot):
            backend = rds_models.rds_backends[self.account_id][self.region_name]
            if self.identifier not in backend.clusters:
                return
            automated = [i for i, s in backend.cluster_snapshots.items()
                         if s.db_cluster_identifier == self.identifier and s.snapshot_type == "automated"]
            # Fails while instances remain: moto's stack deletion tries again after them.
            backend.delete_db_cluster(self.identifier, f"{self.identifier}-final" if snapshot else None)
            if self.delete_backups:
                for snapshot_id in automated:
                    backend.delete_db_cluster_snapshot(snapshot_id)

    original = parsing.ResourceMap._delete_resource

    def _delete_resource(self, parsed_resource, resource_json):
        if isinstance(parsed_resource, CfnDBCluster):
            return parsed_resource.delete_with(snapshot=resource_json.get("DeletionPolicy") == "Snapshot")
        return original(self, parsed_resource, resource_json)

    parsing.ResourceMap._delete_resource = _delete_resource
    globals()["CfnDBCluster"] = CfnDBCluster
    parsing.get_model_map.cache_clear()
    parsing.get_name_type_map.cache_clear()


@patch("db_cluster_instances")
def _db_cluster_instances():
    """An AWS::RDS::DBInstance with `DBClusterIdentifier` joins that cluster as one of its
    instances, as documented, with its class, zone, promotion tier, public accessibility,
    Enhanced Monitoring and tags; the first becomes the writer. moto ignored
    DBClusterIdentifier and made a standalone instance."""
    previous = rds_models.DBInstance.create_from_cloudformation_json.__func__

    def create(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):
        p = cloudformation_json["Properties"]
        if not p.get("DBClusterIdentifier"):
            return previous(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs)
        backend = rds_models.rds_backends[account_id][region_name]
        interval = int(p.get("MonitoringInterval", 0))
        return backend.create_db_instance({
            "db_instance_identifier": resource_name.lower(),
            "db_cluster_identifier": str(p["DBClusterIdentifier"]).lower(),
            "db_instance_class": p["DBInstanceClass"],
            "engine": p["Engine"],
            "availability_zone": p.get("AvailabilityZone"),
            "promotion_tier": int(p.get("PromotionTier", 1)),
            "publicly_accessible": _bool(p.get("PubliclyAccessible", False)),
            "auto_minor_version_upgrade": _bool(p.get("AutoMinorVersionUpgrade", True)),
            "monitoring_interval": interval,
            "monitoring_role_arn": p.get("MonitoringRoleArn") if interval else None,
            "tags": p.get("Tags", []),
        })

    rds_models.DBInstance.create_from_cloudformation_json = classmethod(create)


@patch("log_group_kms_key")
def _log_group_kms_key():
    """AWS::Logs::LogGroup honours `KmsKeyId`, as documented; moto read the key only under
    the API's spelling `kmsKeyId` and dropped it."""
    from moto.logs import models as logs_models

    original = logs_models.LogGroup.create_from_cloudformation_json.__func__

    def create(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):
        group = original(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs)
        key = cloudformation_json["Properties"].get("KmsKeyId")
        if key:
            group.kms_key_id = key
        return group

    logs_models.LogGroup.create_from_cloudformation_json = classmethod(create)


@patch("cloudwatch_alarm")
def _cloudwatch_alarm():
    """AWS::CloudWatch::Alarm creates the alarm (moto skipped the resource silently).
    Ref returns the alarm's name, as documented; deleting the stack deletes the alarm."""

    class CfnAlarm(CloudFormationModel):
        __module__ = "moto.cloudwatch.models"  # moto's model registry keys on the service module

        def __init__(self, name, account_id, region_name):
            self.name = name
            self.account_id = account_id
            self.region_name = region_name

        @property
        def physical_resource_id(self):
            return self.name

        @staticmethod
        def cloudformation_name_type():
            return "AlarmName"

        @staticmethod
        def cloudformation_type():
            return "AWS::CloudWatch::Alarm"

        @classmethod
        def has_cfn_attr(cls, attr):
            return attr == "Arn"

        def get_cfn_attribute(self, attribute_name):
            backend = cloudwatch_backends[self.account_id][self.region_name]
            return backend.alarms[self.name].alarm_arn

        @classmethod
        def create_from_cloudformation_json(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):
            p = cloudformation_json["Properties"]
            backend = cloudwatch_backends[account_id][region_name]
            backend.put_metric_alarm(
                name=resource_name,
                namespace=p.get("Namespace"),
                metric_name=p.get("MetricName"),
                comparison_operator=p["ComparisonOperator"],
                evaluation_periods=int(p["EvaluationPeriods"]),
                period=int(p["Period"]) if "Period" in p else None,
                threshold=float(p["Threshold"]) if "Threshold" in p else None,
                statistic=p.get("Statistic"),
                description=p.get("AlarmDescription"),
                dimensions=[{"Name": d["Name"], "Value": str(d["Value"])} for d in p.get("Dimensions", [])],
                alarm_actions=p.get("AlarmActions", []),
                datapoints_to_alarm=p.get("DatapointsToAlarm"),
                extended_statistic=p.get("ExtendedStatistic"),
                ok_actions=p.get("OKActions", []),
                insufficient_data_actions=p.get("InsufficientDataActions", []),
                unit=p.get("Unit"),
                actions_enabled=_bool(p.get("ActionsEnabled", True)),
                treat_missing_data=p.get("TreatMissingData"),
                tags=p.get("Tags", []),
            )
            return cls(resource_name, account_id, region_name)

        @classmethod
        def update_from_cloudformation_json(cls, original_resource, new_resource_name, cloudformation_json, account_id, region_name):
            original_resource.delete(account_id, region_name)
            return cls.create_from_cloudformation_json(new_resource_name, cloudformation_json, account_id, region_name)

        def delete(self, account_id, region_name):
            cloudwatch_backends[account_id][region_name].delete_alarms([self.name])

    globals()["CfnAlarm"] = CfnAlarm
    parsing.get_model_map.cache_clear()
    parsing.get_name_type_map.cache_clear()


@patch("deleted_stack_resources")
def _deleted_stack_resources():
    """ListStackResources on a deleted stack (by stack id) lists what the stack had, each
    DELETE_COMPLETE, as AWS does. moto re-created every resource of the deleted stack while
    listing them (its resource map creates resources lazily on access), and reported every
    resource of any stack as CREATE_COMPLETE."""
    from moto.cloudformation import models as cfn_models
    from moto.cloudformation import responses as cfn_responses
    from moto.core.responses import ActionResult

    original_delete = cfn_models.Stack.delete

    def delete(self):
        parsed = self.resource_map._parsed_resources
        self.ecom_deleted_resources = [r for r in parsed.values() if not isinstance(r, str) and hasattr(r, "logical_resource_id")]
        original_delete(self)

    original_resources = cfn_models.Stack.stack_resources.fget

    def stack_resources(self):
        if hasattr(self, "ecom_deleted_resources"):
            return list(self.ecom_deleted_resources)
        return original_resources(self)

    def list_stack_resources(self):
        stack, resources = self.cloudformation_backend.list_stack_resources(self._get_param("StackName"))
        status = "DELETE_COMPLETE" if hasattr(stack, "ecom_deleted_resources") else "CREATE_COMPLETE"
        return ActionResult({
            "StackResourceSummaries": [
                {
                    "ResourceStatus": status,
                    "LogicalResourceId": getattr(r, "logical_resource_id", ""),
                    "LastUpdatedTimestamp": stack.creation_time,
                    "PhysicalResourceId": getattr(r, "physical_resource_id", ""),
                    "ResourceType": getattr(r, "cf_resource_type", ""),
                }
                for r in resources
            ]
        })

    cfn_models.Stack.delete = delete
    cfn_models.Stack.stack_resources = property(stack_resources)
    cfn_responses.CloudFormationResponse.list_stack_resources = list_stack_resources


@patch("change_set_outputs")
def _change_set_outputs():
    """After a change set is executed the stack has the change set's template and its
    Outputs (DescribeStacks shows them), as with CreateStack and UpdateStack. moto kept the
    template the stack had before: an empty one for a CREATE change set, so no outputs at
    all, and the old outputs after an UPDATE."""
    from moto.cloudformation import models as cfn_models

    original_apply = cfn_models.ChangeSet.apply

    def apply(self):
        original_apply(self)
        stack = self.stack
        stack.template = self.template
        stack._parse_template()
        stack.output_map = stack._create_output_map()

    cfn_models.ChangeSet.apply = apply


@patch("sns_topic_tags")
def _sns_topic_tags():
    """AWS::SNS::Topic applies its `Tags`, as documented; moto dropped them."""
    from moto.sns import models as sns_models

    original = sns_models.Topic.create_from_cloudformation_json.__func__

    def create(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):
        topic = original(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs)
        tags = cloudformation_json["Properties"].get("Tags") or []
        if tags:
            sns_models.sns_backends[account_id][region_name].tag_resource(topic.arn, {t["Key"]: t["Value"] for t in tags})
        return topic

    sns_models.Topic.create_from_cloudformation_json = classmethod(create)


@patch("termination_protection")
def _termination_protection():
    """UpdateTerminationProtection sets a stack's termination protection, and DeleteStack
    fails with ValidationError while it is on, as documented. moto 5.2.5 has no
    UpdateTerminationProtection (HTTP 500) and deletes a protected stack."""
    from moto.cloudformation import models as cfn_models
    from moto.cloudformation import responses as cfn_responses
    from moto.cloudformation.exceptions import ValidationError
    from moto.core.responses import ActionResult

    def update_termination_protection(self):
        name = self._get_param("StackName")
        stack = self.cloudformation_backend.get_stack(name)
        stack.enable_termination_protection = _bool(self._get_param("EnableTerminationProtection"))
        return ActionResult({"StackId": stack.stack_id})

    original_delete = cfn_models.CloudFormationBackend.delete_stack

    def delete_stack(self, name_or_stack_id):
        for stack in self.stacks.values():
            if name_or_stack_id in (stack.stack_id, stack.name) and stack.enable_termination_protection:
                raise ValidationError(
                    message=f"Stack [{stack.name}] cannot be deleted while TerminationProtection is enabled"
                )
        return original_delete(self, name_or_stack_id)

    cfn_responses.CloudFormationResponse.update_termination_protection = update_termination_protection
    cfn_models.CloudFormationBackend.delete_stack = delete_stack


def _bool(value):
    return value if isinstance(value, bool) else str(value).lower() == "true"


def serve(port):
    """moto_server's app (as `moto.server.main` builds it) on 127.0.0.1:`port`. The
    socket is bound here and the port it got printed, so a caller asking for port 0
    never races another process for a port it found free."""
    from werkzeug.serving import make_server

    from moto.moto_server.werkzeug_app import (
        DomainDispatcherApplication,
        MotoRequestHandler,
        create_backend_app,
    )

    app = DomainDispatcherApplication(create_backend_app)
    app.debug = True
    server = make_server("127.0.0.1", port, app, threaded=True, request_handler=MotoRequestHandler)
    bound = server.server_address[1]
    # moto builds some URLs from it, as moto_server sets it.
    os.environ["MOTO_PORT"] = str(bound)
    print(f"ecom_moto: listening on 127.0.0.1:{bound}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    print(f"ecom_moto: moto {moto.__version__} with patches {', '.join(PATCHED)}", flush=True)
    serve(int(sys.argv[1]) if len(sys.argv) > 1 else 0)
