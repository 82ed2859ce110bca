//! Deploying: a change set is created, described as [`StackChanges`], then executed (or,
//! for `plan`, deleted again).

use std::fmt;
use std::time::Instant;

use aws_sdk_cloudformation::types::{Capability, ChangeSetStatus, ChangeSetType, Tag};

use super::guarded::{self, AllowedChanges, Danger};
use super::{Aws, aws_err};
use crate::InfraError;
use crate::spec::DeploymentSpec;
use crate::template::{self, MANAGED_BY, PROJECT};

/// The resource changes a change set makes to the stack, one line per resource.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StackChanges {
    /// Each resource added, modified or removed.
    pub changes: Vec<PlannedChange>,
    /// Whether the stack exists yet.
    pub creates_stack: bool,
    /// Guarded resources (database, key, secret) the changes would replace or delete.
    pub guarded: Vec<Danger>,
}

/// One resource change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedChange {
    /// `Add`, `Modify`, `Remove`.
    pub action: String,
    /// Logical id in the template.
    pub logical_id: String,
    /// CloudFormation type.
    pub resource_type: String,
    /// `True`, `False`, `Conditional` for modifications.
    pub replacement: Option<String>,
}

impl fmt::Display for StackChanges {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.changes.is_empty() {
            return write!(f, "no changes");
        }
        writeln!(
            f,
            "{} {} resource change(s):",
            if self.creates_stack {
                "create stack:"
            } else {
                "update stack:"
            },
            self.changes.len()
        )?;
        for c in &self.changes {
            let replace = c
                .replacement
                .as_deref()
                .map(|r| format!(" (replacement: {r})"))
                .unwrap_or_default();
            writeln!(
                f,
                "  {:<7} {:<28} {}{replace}",
                c.action, c.logical_id, c.resource_type
            )?;
        }
        for danger in &self.guarded {
            writeln!(f, "  WOULD REPLACE OR DELETE {danger}")?;
        }
        Ok(())
    }
}

/// A change set just created.
struct NewChangeSet {
    id: String,
    /// The stack it belongs to, by id.
    stack_id: Option<String>,
    /// A CREATE change set (the stack has no resources yet).
    creates_stack: bool,
    /// This call made the stack (it did not exist at all): only then may `plan` delete it.
    made_stack: bool,
    /// The deployed template, for an UPDATE.
    deployed: Option<serde_json::Value>,
}

impl Aws {
    /// Creates a change set for `spec`.
    async fn create_change_set(&self, spec: &DeploymentSpec) -> Result<NewChangeSet, InfraError> {
        let body = template::render_string(spec)?;
        let stack = spec.stack_name();
        let existing = self.stack_status(&stack).await?;
        let creates = match &existing {
            None => true,
            Some((_, s)) if s == "REVIEW_IN_PROGRESS" => true,
            Some((_, s)) if s == "ROLLBACK_COMPLETE" => {
                return Err(InfraError::StackFailed {
                    stack,
                    status: s.clone(),
                    reason: "a failed creation must be destroyed before deploying again".into(),
                });
            }
            Some(_) => false,
        };
        let name = format!(
            "ecom-infra-{}",
            chrono::Utc::now().format("%Y%m%d%H%M%S%3f")
        );
        let tags = [
            ("Environment", spec.environment.as_ref()),
            ("ManagedBy", MANAGED_BY),
            ("Owner", spec.owner.as_str()),
            ("Project", PROJECT),
        ];
        let mut request = self
            .cfn
            .create_change_set()
            .stack_name(&stack)
            .change_set_name(&name)
            .template_body(body)
            .change_set_type(if creates {
                ChangeSetType::Create
            } else {
                ChangeSetType::Update
            })
            // The Enhanced Monitoring role is an IAM resource (named by CloudFormation).
            .capabilities(Capability::CapabilityIam)
            .description(format!("ecom-infra deploy of {stack}"));
        for (key, value) in tags {
            request = request.tags(Tag::builder().key(key).value(value).build());
        }
        if let Some(role) = &self.service_role {
            request = request.role_arn(role);
        }
        let out = request.send().await.map_err(aws_err("CreateChangeSet"))?;
        let id = out.id().unwrap_or(&name).to_owned();
        let deployed = if creates {
            None
        } else {
            Some(self.deployed_template(&stack).await?)
        };
        Ok(NewChangeSet {
            id,
            stack_id: out.stack_id().map(str::to_owned),
            creates_stack: creates,
            made_stack: existing.is_none(),
            deployed,
        })
    }

    /// The template the stack runs now.
    async fn deployed_template(&self, stack: &str) -> Result<serde_json::Value, InfraError> {
        let out = self
            .cfn
            .get_template()
            .stack_name(stack)
            .template_stage(aws_sdk_cloudformation::types::TemplateStage::Original)
            .send()
            .await
            .map_err(aws_err("GetTemplate"))?;
        serde_json::from_str(out.template_body().unwrap_or("{}")).map_err(|e| InfraError::Aws {
            call: "GetTemplate",
            message: format!("the deployed template is not JSON: {e}"),
        })
    }

    /// Deletes a change set, and the stack a CREATE change set made when this process made
    /// it: never a stack someone else's change set is waiting in.
    async fn discard(&self, set: &NewChangeSet) {
        let _ = self
            .cfn
            .delete_change_set()
            .change_set_name(&set.id)
            .send()
            .await;
        if let (true, Some(stack_id)) = (set.made_stack, &set.stack_id) {
            let still_empty = matches!(
                self.stack_status(stack_id).await,
                Ok(Some((_, status))) if status == "REVIEW_IN_PROGRESS"
            );
            if still_empty {
                let _ = self.cfn.delete_stack().stack_name(stack_id).send().await;
            }
        }
    }

    /// Waits for a change set to be computed; `None` when it has no changes.
    async fn change_set_ready(&self, id: &str) -> Result<Option<Vec<PlannedChange>>, InfraError> {
        let started = Instant::now();
        loop {
            let out = self
                .cfn
                .describe_change_set()
                .change_set_name(id)
                .send()
                .await
                .map_err(aws_err("DescribeChangeSet"))?;
            match out.status() {
                Some(ChangeSetStatus::CreateComplete) => {
                    let changes = out
                        .changes()
                        .iter()
                        .filter_map(|c| c.resource_change())
                        .map(|rc| PlannedChange {
                            action: rc
                                .action()
                                .map(|a| a.as_str().to_owned())
                                .unwrap_or_default(),
                            logical_id: rc.logical_resource_id().unwrap_or_default().to_owned(),
                            resource_type: rc.resource_type().unwrap_or_default().to_owned(),
                            replacement: rc.replacement().map(|r| r.as_str().to_owned()),
                        })
                        .collect();
                    return Ok(Some(changes));
                }
                Some(ChangeSetStatus::Failed) => {
                    let reason = out.status_reason().unwrap_or_default();
                    if reason.contains("didn't contain changes") || reason.contains("No updates") {
                        return Ok(None);
                    }
                    return Err(InfraError::StackFailed {
                        stack: out.stack_name().unwrap_or_default().into(),
                        status: "change set FAILED".into(),
                        reason: reason.into(),
                    });
                }
                _ => self.pause(started, "the change set").await?,
            }
        }
    }

    /// The change set a deploy would execute, without executing it.
    pub async fn plan(&self, spec: &DeploymentSpec) -> Result<StackChanges, InfraError> {
        let set = self.create_change_set(spec).await?;
        let changes = self.change_set_ready(&set.id).await;
        // Leave nothing behind: the change set, and the empty stack it made, if it made one.
        self.discard(&set).await;
        let changes = changes?.unwrap_or_default();
        let guarded = guarded::dangers(set.deployed.as_ref(), &template::render(spec)?, &changes);
        Ok(StackChanges {
            changes,
            creates_stack: set.creates_stack,
            guarded,
        })
    }

    /// Creates or updates the stack through a change set and waits for it to finish,
    /// reporting each stack event to `progress`. Returns the changes it executed.
    ///
    /// Refuses, changing nothing, a change set that would replace or delete the database,
    /// its key or its secret: see [`Aws::deploy_allowing`].
    pub async fn deploy(
        &self,
        spec: &DeploymentSpec,
        progress: &mut dyn FnMut(String),
    ) -> Result<StackChanges, InfraError> {
        self.deploy_allowing(spec, &AllowedChanges::none(), progress)
            .await
    }

    /// Like [`Aws::deploy`], but the guarded resources in `allowed` may be replaced or
    /// deleted. Afterwards the stack carries [`guarded::stack_policy`] (no replacement or
    /// deletion of the database or the key, whoever updates the stack) and termination
    /// protection as the spec's `deletion_protection` says.
    pub async fn deploy_allowing(
        &self,
        spec: &DeploymentSpec,
        allowed: &AllowedChanges,
        progress: &mut dyn FnMut(String),
    ) -> Result<StackChanges, InfraError> {
        let set = self.create_change_set(spec).await?;
        let stack = spec.stack_name();
        let Some(changes) = self.change_set_ready(&set.id).await? else {
            self.discard(&set).await;
            progress("no changes".into());
            self.protect(spec, &guarded::stack_policy(spec)).await?;
            return Ok(StackChanges {
                changes: Vec::new(),
                creates_stack: false,
                guarded: Vec::new(),
            });
        };
        let guarded = guarded::dangers(set.deployed.as_ref(), &template::render(spec)?, &changes);
        let plan = StackChanges {
            changes,
            creates_stack: set.creates_stack,
            guarded,
        };
        progress(plan.to_string());
        let refused: Vec<String> = plan
            .guarded
            .iter()
            .filter(|d| !allowed.allows(d.guarded))
            .map(ToString::to_string)
            .collect();
        if !refused.is_empty() {
            self.discard(&set).await;
            return Err(InfraError::GuardedChange(refused));
        }
        if !plan.guarded.is_empty() {
            // Lift the stack policy's denial for exactly what the caller named.
            self.set_stack_policy(&stack, &guarded::stack_policy_allowing(allowed))
                .await?;
        }
        let seen = self.event_ids(&stack).await;
        self.cfn
            .execute_change_set()
            .change_set_name(&set.id)
            .send()
            .await
            .map_err(aws_err("ExecuteChangeSet"))?;
        let status = self.wait_for_stack(&stack, seen, progress).await?;
        if status == "CREATE_COMPLETE" || status == "UPDATE_COMPLETE" {
            self.protect(spec, &guarded::stack_policy(spec)).await?;
            Ok(plan)
        } else {
            let reason = self.first_failure(&stack).await.unwrap_or_default();
            Err(InfraError::StackFailed {
                stack,
                status,
                reason,
            })
        }
    }
}

impl Aws {
    async fn set_stack_policy(
        &self,
        stack: &str,
        policy: &serde_json::Value,
    ) -> Result<(), InfraError> {
        self.cfn
            .set_stack_policy()
            .stack_name(stack)
            .stack_policy_body(policy.to_string())
            .send()
            .await
            .map_err(aws_err("SetStackPolicy"))?;
        Ok(())
    }

    /// The stack policy, and termination protection on exactly when the spec protects
    /// the database from deletion (production): `destroy` then needs a deploy with
    /// `deletion_protection: false` first, which turns both off.
    async fn protect(
        &self,
        spec: &DeploymentSpec,
        policy: &serde_json::Value,
    ) -> Result<(), InfraError> {
        let stack = spec.stack_name();
        self.set_stack_policy(&stack, policy).await?;
        self.cfn
            .update_termination_protection()
            .stack_name(&stack)
            .enable_termination_protection(spec.deletion_protection)
            .send()
            .await
            .map_err(aws_err("UpdateTerminationProtection"))?;
        Ok(())
    }
}
