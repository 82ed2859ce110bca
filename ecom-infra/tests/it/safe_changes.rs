//! Safe changes: a change set that would replace or delete the database, its key or its
//! secret is refused unless named; the stack carries a policy saying the same and, in
//! production, termination protection; `plan` deletes only what it made; and every
//! production-like environment gets production's protections.

use ecom_infra::aws::PlannedChange;
use ecom_infra::aws::guarded::{self, AllowedChanges, Guarded};
use ecom_infra::spec::{AuroraSpec, EncryptionKey, EnvironmentName};
use ecom_infra::{DeploymentSpec, InfraError, SpecError, template};
use serde_json::json;

use crate::support::{Moto, REGION};

/// The test preset without replicas: quicker, and enough for what is guarded.
fn small() -> DeploymentSpec {
    let mut spec = DeploymentSpec::test(REGION);
    spec.replicas.count = 0;
    spec
}

fn change(action: &str, logical_id: &str, replacement: Option<&str>) -> PlannedChange {
    PlannedChange {
        action: action.into(),
        logical_id: logical_id.into(),
        resource_type: String::new(),
        replacement: replacement.map(str::to_owned),
    }
}

#[test]
fn dangers_come_from_cloudformation_and_from_the_template_difference() {
    let old = template::render(&small()).unwrap();
    let guarded_of = |d: Vec<guarded::Danger>| -> Vec<Guarded> {
        let mut g: Vec<Guarded> = d.into_iter().map(|d| d.guarded).collect();
        g.sort();
        g
    };
    // CloudFormation says so.
    let replaced = [change("Modify", "Primary", Some("True"))];
    assert_eq!(
        guarded_of(guarded::dangers(Some(&old), &old, &replaced)),
        [Guarded::Database, Guarded::Secret]
    );
    let conditional = [change("Modify", "DbKey", Some("Conditional"))];
    assert_eq!(
        guarded_of(guarded::dangers(None, &old, &conditional)),
        [Guarded::Key]
    );
    let harmless = [
        change("Modify", "Primary", Some("False")),
        change("Remove", "Replica1", None),
    ];
    assert!(guarded::dangers(Some(&old), &old, &harmless).is_empty());
    // The template says so (an emulator may not compute replacements).
    let mut renamed = small();
    renamed.database.database_name = "shop".into();
    let new = template::render(&renamed).unwrap();
    let dangers = guarded::dangers(Some(&old), &new, &[]);
    assert_eq!(
        guarded_of(dangers.clone()),
        [Guarded::Database, Guarded::Secret]
    );
    assert!(dangers[0].reason.contains("DBName"), "{dangers:?}");
    let mut unmanaged = old.clone();
    unmanaged["Resources"]["Primary"]["Properties"]["ManageMasterUserPassword"] = json!(false);
    assert_eq!(
        guarded_of(guarded::dangers(Some(&old), &unmanaged, &[])),
        [Guarded::Secret]
    );
    let mut other_key = small();
    other_key.encryption = EncryptionKey::Existing {
        arn: "arn:aws:kms:eu-west-1:123456789012:key/0b0b0b0b-0000-4000-8000-000000000000".into(),
    };
    let new = template::render(&other_key).unwrap();
    assert_eq!(
        guarded_of(guarded::dangers(Some(&old), &new, &[])),
        [Guarded::Database, Guarded::Key, Guarded::Secret]
    );
}

/// On Aurora the data is the cluster's: replacing it is a loss, replacing an instance is
/// not; moving a deployment from one engine to the other loses the database either way.
#[test]
fn on_aurora_the_cluster_is_the_database() {
    let aurora = || small().on_aurora(AuroraSpec::default());
    let guarded_of = |d: Vec<guarded::Danger>| -> Vec<Guarded> {
        let mut g: Vec<Guarded> = d.into_iter().map(|d| d.guarded).collect();
        g.sort();
        g
    };
    let mut with_reader = aurora();
    with_reader.replicas.count = 1;
    let old = template::render(&with_reader).unwrap();
    // CloudFormation says so.
    let replaced = [change("Modify", "Cluster", Some("True"))];
    assert_eq!(
        guarded_of(guarded::dangers(Some(&old), &old, &replaced)),
        [Guarded::Database, Guarded::Secret]
    );
    let instances = [
        change("Modify", "Primary", Some("True")),
        change("Remove", "Replica1", None),
    ];
    assert!(guarded::dangers(Some(&old), &old, &instances).is_empty());
    // The template says so.
    let mut renamed = with_reader.clone();
    renamed.database.database_name = "shop".into();
    let dangers = guarded::dangers(Some(&old), &template::render(&renamed).unwrap(), &[]);
    assert_eq!(
        guarded_of(dangers.clone()),
        [Guarded::Database, Guarded::Secret]
    );
    assert!(
        dangers[0].reason.contains("Cluster replaced: DatabaseName"),
        "{dangers:?}"
    );
    let mut other_class = with_reader.clone();
    other_class.database.instance_class = "db.r6g.large".into();
    assert!(
        guarded::dangers(Some(&old), &template::render(&other_class).unwrap(), &[]).is_empty(),
        "a new class for the writer keeps the data"
    );
    // One engine to the other, either way.
    let rds = template::render(&small()).unwrap();
    for (from, to) in [(&rds, &old), (&old, &rds)] {
        assert_eq!(
            guarded_of(guarded::dangers(Some(from), to, &[])),
            [Guarded::Database, Guarded::Secret]
        );
    }
    // The stack policy guards the engine's database, and an allowed deploy lifts it for
    // both, since it may be moving from one to the other.
    let denied = |policy: serde_json::Value| policy["Statement"][1]["Resource"].clone();
    assert_eq!(
        denied(guarded::stack_policy(&aurora())),
        json!(["LogicalResourceId/Cluster", "LogicalResourceId/DbKey"])
    );
    assert_eq!(
        denied(guarded::stack_policy(&small())),
        json!(["LogicalResourceId/Primary", "LogicalResourceId/DbKey"])
    );
    assert_eq!(
        denied(guarded::stack_policy_allowing(&AllowedChanges::of([
            Guarded::Key
        ]))),
        json!(["LogicalResourceId/Primary", "LogicalResourceId/Cluster"])
    );
}

#[tokio::test]
async fn replacing_the_database_is_refused_unless_each_loss_is_named() {
    let moto = Moto::start();
    let aws = moto.aws().await;
    let spec = small();
    aws.deploy(&spec, &mut |_| {}).await.unwrap();

    let mut renamed = spec.clone();
    renamed.database.database_name = "shop".into();
    let plan = aws.plan(&renamed).await.unwrap();
    assert!(
        plan.to_string()
            .contains("WOULD REPLACE OR DELETE database"),
        "{plan}"
    );
    for allowed in [
        AllowedChanges::none(),
        AllowedChanges::of([Guarded::Database]),
    ] {
        let err = aws
            .deploy_allowing(&renamed, &allowed, &mut |_| {})
            .await
            .unwrap_err();
        match err {
            InfraError::GuardedChange(what) => {
                assert!(what.iter().any(|w| w.starts_with("secret:")), "{what:?}");
                assert_eq!(
                    what.iter().any(|w| w.starts_with("database:")),
                    !allowed.allows(Guarded::Database),
                    "{what:?}"
                );
            }
            other => panic!("{other}"),
        }
    }
    // Nothing changed, and no change set was left behind.
    let stack = spec.stack_name();
    assert_eq!(
        aws.status(&spec).await.unwrap().stack_status,
        "CREATE_COMPLETE"
    );
    let sets = aws
        .cfn
        .list_change_sets()
        .stack_name(&stack)
        .send()
        .await
        .unwrap();
    // (moto keeps the executed CREATE change set listed; AWS removes it.)
    let pending: Vec<_> = sets
        .summaries()
        .iter()
        .filter(|s| {
            s.execution_status()
                != Some(&aws_sdk_cloudformation::types::ExecutionStatus::ExecuteComplete)
        })
        .collect();
    assert!(pending.is_empty(), "{pending:?}");
    let template = aws
        .cfn
        .get_template()
        .stack_name(&stack)
        .send()
        .await
        .unwrap();
    let deployed: serde_json::Value =
        serde_json::from_str(template.template_body().unwrap()).unwrap();
    assert_eq!(
        deployed["Resources"]["Primary"]["Properties"]["DBName"],
        "ecom"
    );
}

#[tokio::test]
async fn the_stack_keeps_a_policy_and_production_is_termination_protected() {
    let moto = Moto::start();
    let aws = moto.aws().await;
    let spec = small();
    aws.deploy(&spec, &mut |_| {}).await.unwrap();
    let policy = aws
        .cfn
        .get_stack_policy()
        .stack_name(spec.stack_name())
        .send()
        .await
        .unwrap();
    let policy: serde_json::Value =
        serde_json::from_str(policy.stack_policy_body().expect("a stack policy")).unwrap();
    assert_eq!(policy, guarded::stack_policy(&spec));
    let protected = |aws: ecom_infra::Aws, name: String| async move {
        aws.cfn
            .describe_stacks()
            .stack_name(name)
            .send()
            .await
            .unwrap()
            .stacks()[0]
            .enable_termination_protection()
    };
    assert_eq!(protected(aws.clone(), spec.stack_name()).await, Some(false));

    let production = DeploymentSpec::production(REGION);
    aws.deploy(&production, &mut |_| {}).await.unwrap();
    assert_eq!(
        protected(aws.clone(), production.stack_name()).await,
        Some(true)
    );
    let refused = aws
        .cfn
        .delete_stack()
        .stack_name(production.stack_name())
        .send()
        .await;
    assert!(
        refused.is_err(),
        "termination protection refuses DeleteStack"
    );
}

#[tokio::test]
async fn plan_deletes_the_stack_it_made_and_no_other() {
    let moto = Moto::start();
    let aws = moto.aws().await;
    let spec = small();
    let stack = spec.stack_name();

    // A new stack: the empty stack of plan's CREATE change set goes with it.
    let plan = aws.plan(&spec).await.unwrap();
    assert!(plan.creates_stack);
    assert!(aws.stack_status(&stack).await.unwrap().is_none());

    // Someone else's CREATE change set waits in the stack: plan leaves it alone.
    aws.cfn
        .create_change_set()
        .stack_name(&stack)
        .change_set_name("someone-elses")
        .change_set_type(aws_sdk_cloudformation::types::ChangeSetType::Create)
        .template_body(template::render_string(&spec).unwrap())
        .send()
        .await
        .unwrap();
    aws.plan(&spec).await.unwrap();
    let (_, status) = aws
        .stack_status(&stack)
        .await
        .unwrap()
        .expect("still there");
    assert_eq!(status, "REVIEW_IN_PROGRESS");
    let sets = aws
        .cfn
        .list_change_sets()
        .stack_name(&stack)
        .send()
        .await
        .unwrap();
    let names: Vec<&str> = sets
        .summaries()
        .iter()
        .filter_map(|s| s.change_set_name())
        .collect();
    assert_eq!(names, ["someone-elses"]);
}

#[test]
fn every_production_like_environment_needs_production_protections() {
    for name in ["prod", "production", "prod-eu", "shop-live", "eu-prd-2"] {
        let env = EnvironmentName::parse(name).unwrap();
        assert!(env.is_production_like(), "{name}");
        let mut spec = DeploymentSpec::test(REGION);
        spec.environment = env;
        assert_eq!(
            spec.validate().unwrap_err(),
            SpecError::ProductionUnprotected(name.into())
        );
        let mut protected = DeploymentSpec::production(REGION);
        protected.environment = EnvironmentName::parse(name).unwrap();
        protected.validate().unwrap();
    }
    for name in ["staging", "test", "products", "prodigy", "delivery"] {
        assert!(
            !EnvironmentName::parse(name).unwrap().is_production_like(),
            "{name}"
        );
    }
}
