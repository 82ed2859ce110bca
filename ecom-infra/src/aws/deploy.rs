//! Deploying: a change set is created, described as [`StackChanges`], then executed (or,
//! for `plan`, deleted again).

use std::fmt;
use std::time::Instant;

use aws_sdk_cloudformation::types::{Capability, ChangeSetStatus, ChangeSetType, Tag};

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
        Ok(())
    }
}

impl Aws {
    /// Creates a change set for `spec`; returns its id and whether it creates the stack.
    async fn create_change_set(&self, spec: &DeploymentSpec) -> Result<(String, bool), InfraError> {
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
        let out = request.send().await.map_err(aws_err("CreateChangeSet"))?;
        let id = out.id().unwrap_or(&name).to_owned();
        Ok((id, creates))
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
        let (id, creates) = self.create_change_set(spec).await?;
        let changes = self.change_set_ready(&id).await;
        // Leave nothing behind: the change set, and the empty stack a CREATE change set makes.
        let _ = self
            .cfn
            .delete_change_set()
            .change_set_name(&id)
            .send()
            .await;
        if creates {
            let _ = self
                .cfn
                .delete_stack()
                .stack_name(spec.stack_name())
                .send()
                .await;
        }
        Ok(StackChanges {
            changes: changes?.unwrap_or_default(),
            creates_stack: creates,
        })
    }

    /// Creates or updates the stack through a change set and waits for it to finish,
    /// reporting each stack event to `progress`. Returns the changes it executed.
    pub async fn deploy(
        &self,
        spec: &DeploymentSpec,
        progress: &mut dyn FnMut(String),
    ) -> Result<StackChanges, InfraError> {
        let (id, creates) = self.create_change_set(spec).await?;
        let Some(changes) = self.change_set_ready(&id).await? else {
            let _ = self
                .cfn
                .delete_change_set()
                .change_set_name(&id)
                .send()
                .await;
            progress("no changes".into());
            return Ok(StackChanges {
                changes: Vec::new(),
                creates_stack: false,
            });
        };
        let plan = StackChanges {
            changes,
            creates_stack: creates,
        };
        progress(plan.to_string());
        let stack = spec.stack_name();
        let seen = self.event_ids(&stack).await;
        self.cfn
            .execute_change_set()
            .change_set_name(&id)
            .send()
            .await
            .map_err(aws_err("ExecuteChangeSet"))?;
        let status = self.wait_for_stack(&stack, seen, progress).await?;
        if status == "CREATE_COMPLETE" || status == "UPDATE_COMPLETE" {
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
