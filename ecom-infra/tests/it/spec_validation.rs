//! Impossible or unsafe specs are refused with a typed error, before anything is rendered.

use ecom_infra::spec::{
    AuroraSpec, AuroraStorage, EncryptionKey, Engine, EngineKind, EnvironmentName, Ipv4Cidr,
    SubnetSpec,
};
use ecom_infra::{DeploymentSpec, Preset, SpecError, template};

use crate::support::REGION;

fn cidr(s: &str) -> Ipv4Cidr {
    s.parse().unwrap()
}

fn refused(change: impl FnOnce(&mut DeploymentSpec)) -> SpecError {
    let mut spec = DeploymentSpec::test(REGION);
    change(&mut spec);
    let err = spec.validate().unwrap_err();
    assert_eq!(
        template::render(&spec).unwrap_err(),
        err,
        "render validates too"
    );
    err
}

#[test]
fn presets_are_valid() {
    for preset in Preset::ALL {
        preset.spec(REGION).validate().unwrap();
        preset.spec("us-east-1").validate().unwrap();
    }
    let production = DeploymentSpec::production(REGION);
    assert!(
        production.database.multi_az
            && production.deletion_protection
            && production.replicas.count >= 1
    );
    let test = DeploymentSpec::test(REGION);
    assert!(!test.deletion_protection && !test.final_snapshot);
}

#[test]
fn replicas_without_backups_are_refused() {
    let err = refused(|s| {
        s.backups.retention_days = 0;
        s.backups.point_in_time_recovery = false;
    });
    assert_eq!(err, SpecError::ReplicasNeedBackups { replicas: 1 });
}

#[test]
fn point_in_time_recovery_needs_backups() {
    let err = refused(|s| {
        s.replicas.count = 0;
        s.backups.retention_days = 0;
    });
    assert_eq!(err, SpecError::PointInTimeRecoveryNeedsBackups);
}

#[test]
fn multi_az_in_one_zone_is_refused() {
    let err = refused(|s| s.network.subnets.truncate(1));
    assert_eq!(err, SpecError::MultiAzNeedsTwoZones { zones: 1 });
    let err = refused(|s| {
        s.database.multi_az = false;
        s.network.subnets.truncate(1);
    });
    assert_eq!(err, SpecError::SubnetGroupNeedsTwoZones { zones: 1 });
}

#[test]
fn public_cidrs_are_refused() {
    assert_eq!(
        refused(|s| s.network.allowed_cidrs.push(cidr("0.0.0.0/0"))),
        SpecError::PublicCidr(cidr("0.0.0.0/0"))
    );
    assert_eq!(
        refused(|s| s.network.allowed_cidrs = vec![cidr("8.8.8.0/24")]),
        SpecError::PublicCidr(cidr("8.8.8.0/24"))
    );
    assert_eq!(
        refused(|s| s.network.vpc_cidr = cidr("52.0.0.0/16")),
        SpecError::PublicCidr(cidr("52.0.0.0/16"))
    );
}

#[test]
fn storage_outside_what_the_engine_allows_is_refused() {
    assert_eq!(
        refused(|s| s.database.storage.allocated_gib = 10),
        SpecError::StorageTooSmall { given: 10, min: 20 }
    );
    assert_eq!(
        refused(|s| s.database.storage.allocated_gib = 70_000),
        SpecError::StorageTooLarge {
            given: 70_000,
            max: 65_536
        }
    );
    assert_eq!(
        refused(|s| s.database.storage.max_allocated_gib = Some(21)),
        SpecError::AutoscalingLimit {
            allocated: 20,
            limit: 21
        }
    );
}

#[test]
fn network_mistakes_are_refused() {
    assert!(matches!(
        refused(|s| s.network.subnets[1].cidr = cidr("10.99.0.0/24")),
        SpecError::SubnetOutsideVpc { .. }
    ));
    assert!(matches!(
        refused(|s| s.network.subnets[1].cidr = cidr("10.40.1.0/25")),
        SpecError::OverlappingSubnets(..)
    ));
    assert!(matches!(
        refused(|s| s.network.subnets[1].availability_zone = format!("{REGION}a")),
        SpecError::DuplicateZone(zone) if zone == "eu-west-1a"
    ));
    assert!(matches!(
        refused(|s| s.network.subnets.push(SubnetSpec {
            availability_zone: "us-east-1c".into(),
            cidr: cidr("10.40.3.0/24")
        })),
        SpecError::ZoneNotInRegion { .. }
    ));
    assert_eq!(
        refused(|s| s.network.allowed_security_groups.push("default".into())),
        SpecError::InvalidSecurityGroup("default".into())
    );
}

#[test]
fn engine_class_and_names_are_checked() {
    assert_eq!(
        refused(|s| s.database.engine_version = "9.6".into()),
        SpecError::UnsupportedEngineVersion("9.6".into())
    );
    assert_eq!(
        refused(|s| s.database.instance_class = "t4g.micro".into()),
        SpecError::InvalidInstanceClass("t4g.micro".into())
    );
    assert_eq!(
        refused(|s| s.replicas.count = 16),
        SpecError::TooManyReplicas(16)
    );
    assert_eq!(
        refused(|s| s.database.master_username = "postgres".into()),
        SpecError::InvalidIdentifier("postgres".into())
    );
    assert_eq!(
        refused(|s| s.database.port = 80),
        SpecError::InvalidPort(80)
    );
    assert_eq!(
        refused(|s| s.backups.retention_days = 36),
        SpecError::RetentionTooLong(36)
    );
    assert_eq!(
        refused(|s| s.backups.window = "3am".into()),
        SpecError::InvalidBackupWindow("3am".into())
    );
}

#[test]
fn keys_alarms_and_owner_are_checked() {
    assert_eq!(
        refused(|s| s.encryption = EncryptionKey::Create {
            pending_window_days: 3
        }),
        SpecError::KeyPendingWindow(3)
    );
    let arn = "arn:aws:kms:us-east-1:123456789012:key/abcd".to_owned();
    assert!(matches!(
        refused(|s| s.encryption = EncryptionKey::Existing { arn: arn.clone() }),
        SpecError::KeyNotInRegion { .. }
    ));
    assert_eq!(
        refused(|s| s.alarms.email = Some("not-an-address".into())),
        SpecError::InvalidEmail("not-an-address".into())
    );
    assert_eq!(refused(|s| s.owner = " ".into()), SpecError::MissingOwner);
}

#[test]
fn names_and_cidrs_parse_strictly() {
    assert!(EnvironmentName::parse("staging-2").is_ok());
    for bad in [
        "",
        "Prod",
        "2nd",
        "a--b",
        "trailing-",
        "much-too-long-environment",
    ] {
        assert_eq!(
            EnvironmentName::parse(bad).unwrap_err(),
            SpecError::InvalidEnvironmentName(bad.into())
        );
    }
    for bad in ["10.0.0.0", "10.0.0.1/16", "10.0.0.0/33", "300.0.0.0/8"] {
        assert_eq!(
            bad.parse::<Ipv4Cidr>().unwrap_err(),
            SpecError::InvalidCidr(bad.into())
        );
    }
}

#[test]
fn spec_round_trips_through_json_and_invalid_json_is_refused() {
    let spec = DeploymentSpec::production(REGION);
    let text = serde_json::to_string(&spec).unwrap();
    assert_eq!(serde_json::from_str::<DeploymentSpec>(&text).unwrap(), spec);
    let broken = text.replace("\"10.50.0.0/16\"", "\"10.50.0.1/16\"");
    assert!(serde_json::from_str::<DeploymentSpec>(&broken).is_err());
}

#[test]
fn backups_kept_after_deletion_need_backups() {
    let err = refused(|s| {
        s.replicas.count = 0;
        s.backups.retention_days = 0;
        s.backups.point_in_time_recovery = false;
        s.backups.retain_after_deletion = true;
    });
    assert_eq!(err, SpecError::RetainedBackupsNeedBackups);
}

#[test]
fn a_spec_file_without_retain_after_deletion_still_reads() {
    let mut json = serde_json::to_value(DeploymentSpec::test(REGION)).unwrap();
    json["backups"]
        .as_object_mut()
        .unwrap()
        .remove("retain_after_deletion");
    let spec: DeploymentSpec = serde_json::from_value(json).unwrap();
    assert!(!spec.backups.retain_after_deletion);
}

#[test]
fn monitoring_settings_are_checked() {
    assert_eq!(
        refused(|s| s.monitoring.performance_insights_days = 30),
        SpecError::PerformanceInsightsRetention(30)
    );
    assert_eq!(
        refused(|s| s.monitoring.enhanced_monitoring_seconds = 0),
        SpecError::MonitoringInterval(0)
    );
    assert_eq!(
        refused(|s| s.monitoring.log_retention_days = 10),
        SpecError::LogRetention(10)
    );
    let mut spec = DeploymentSpec::test(REGION);
    spec.monitoring.performance_insights_days = 93;
    spec.validate().unwrap();
}

#[test]
fn a_spec_file_without_monitoring_or_new_alarms_still_reads() {
    let mut json = serde_json::to_value(DeploymentSpec::test(REGION)).unwrap();
    json.as_object_mut().unwrap().remove("monitoring");
    json["alarms"]
        .as_object_mut()
        .unwrap()
        .remove("disk_queue_depth");
    let spec: DeploymentSpec = serde_json::from_value(json).unwrap();
    assert_eq!(spec.monitoring, ecom_infra::spec::MonitoringSpec::default());
    assert_eq!(spec.alarms.disk_queue_depth, 64);
}

#[test]
fn a_proxy_needs_iam_auth_and_sane_limits() {
    use ecom_infra::spec::ProxySpec;
    assert_eq!(
        refused(|s| {
            s.proxy = Some(ProxySpec::default());
            s.iam_auth = false;
        }),
        SpecError::ProxyNeedsIamAuth
    );
    assert_eq!(
        refused(|s| {
            s.proxy = Some(ProxySpec {
                idle_client_timeout_seconds: 0,
                max_connections_percent: 50,
            })
        }),
        SpecError::ProxyLimits {
            idle_seconds: 0,
            percent: 50
        }
    );
}

fn aurora(spec: &mut DeploymentSpec) {
    *spec = spec.clone().on_aurora(AuroraSpec::default());
}

#[test]
fn every_preset_moves_to_aurora_and_stays_valid() {
    for preset in Preset::ALL {
        let rds = preset.spec_on(REGION, EngineKind::Rds);
        assert_eq!(rds, preset.spec(REGION));
        let spec = preset.spec_on(REGION, EngineKind::Aurora);
        spec.validate().unwrap();
        assert_eq!(spec.engine.kind(), EngineKind::Aurora);
        // What the preset chose is kept: zones, replicas, protection, key, proxy.
        assert_eq!(spec.network, rds.network);
        assert_eq!(spec.replicas, rds.replicas);
        assert_eq!(spec.backups, rds.backups);
        assert_eq!(
            (spec.deletion_protection, spec.final_snapshot),
            (rds.deletion_protection, rds.final_snapshot)
        );
        assert_eq!(spec.proxy, rds.proxy);
    }
    // db.t4g.micro is RDS's alone: the test preset's writer becomes Aurora's smallest.
    let test = Preset::Test.spec_on(REGION, EngineKind::Aurora);
    assert_eq!(test.database.instance_class, "db.t4g.medium");
    let production = Preset::Production.spec_on(REGION, EngineKind::Aurora);
    assert_eq!(production.database.instance_class, "db.r6g.large");
    assert_eq!(
        production.engine.aurora().unwrap().estimated_data_gib,
        100,
        "the production preset's expected volume"
    );
}

#[test]
fn aurora_refuses_what_it_cannot_do() {
    assert_eq!(
        refused(|s| {
            aurora(s);
            s.replicas.instance_class = Some("db.t4g.small".into());
        }),
        SpecError::NotAnAuroraClass("db.t4g.small".into())
    );
    assert_eq!(
        refused(|s| {
            aurora(s);
            s.database.instance_class = "db.t3.micro".into();
        }),
        SpecError::NotAnAuroraClass("db.t3.micro".into())
    );
    assert_eq!(
        refused(|s| {
            aurora(s);
            s.replicas.count = 0;
        }),
        SpecError::AuroraMultiAzNeedsAReader
    );
    assert_eq!(
        refused(|s| {
            aurora(s);
            s.replicas.count = 0;
            s.database.multi_az = false;
            s.backups.retention_days = 0;
            s.backups.point_in_time_recovery = false;
        }),
        SpecError::AuroraNeedsBackups
    );
    // The same spec on RDS is fine: a single instance without backups.
    let mut rds = DeploymentSpec::test(REGION);
    rds.replicas.count = 0;
    rds.database.multi_az = false;
    rds.backups.retention_days = 0;
    rds.backups.point_in_time_recovery = false;
    rds.validate().unwrap();
    // Classes Aurora runs on pass, burstable ones from medium up.
    for class in [
        "db.t4g.medium",
        "db.t3.large",
        "db.r6g.large",
        "db.r7g.2xlarge",
    ] {
        assert!(ecom_infra::spec::is_aurora_class(class), "{class}");
    }
    // Production-like environments need a reader to fail over to on Aurora too.
    let mut unprotected = Preset::Production.spec_on(REGION, EngineKind::Aurora);
    unprotected.database.multi_az = false;
    assert_eq!(
        unprotected.validate().unwrap_err(),
        SpecError::ProductionUnprotected("production".into())
    );
}

#[test]
fn engine_reads_from_a_spec_file_and_defaults_to_rds() {
    let spec = Preset::Production.spec_on(REGION, EngineKind::Aurora);
    let json = serde_json::to_value(&spec).unwrap();
    assert_eq!(
        json["engine"],
        serde_json::json!({"kind": "aurora_postgres", "storage": "standard",
                           "estimated_data_gib": 100, "estimated_io_millions_per_month": 500})
    );
    assert_eq!(
        serde_json::from_value::<DeploymentSpec>(json).unwrap(),
        spec
    );
    let mut old = serde_json::to_value(DeploymentSpec::test(REGION)).unwrap();
    old.as_object_mut().unwrap().remove("engine");
    let read: DeploymentSpec = serde_json::from_value(old).unwrap();
    assert_eq!(read.engine, Engine::RdsPostgres);
    let io: DeploymentSpec = serde_json::from_value({
        let mut j = serde_json::to_value(DeploymentSpec::test(REGION)).unwrap();
        j["engine"] = serde_json::json!({"kind": "aurora_postgres", "storage": "io_optimized"});
        j
    })
    .unwrap();
    assert_eq!(
        io.engine.aurora().unwrap(),
        &AuroraSpec {
            storage: AuroraStorage::IoOptimized,
            ..AuroraSpec::default()
        }
    );
}
