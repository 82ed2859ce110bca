//! Reading a CloudFormation stack and waiting on it: what deploy, status and destroy share.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Instant;

use aws_sdk_cloudformation::error::ProvideErrorMetadata;

use super::{Aws, aws_err, error_code};
use crate::InfraError;

/// One resource of a stack, as CloudFormation lists it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StackResource {
    /// CloudFormation type, e.g. `AWS::RDS::DBInstance`.
    pub resource_type: String,
    /// The id the owning service knows it by; empty until the resource is created.
    pub physical_id: String,
    /// e.g. `CREATE_COMPLETE`, `DELETE_COMPLETE`.
    pub status: String,
}

impl StackResource {
    /// Whether it is an RDS instance (the writer or a replica, or an Aurora cluster's).
    pub fn is_db_instance(&self) -> bool {
        self.resource_type == "AWS::RDS::DBInstance"
    }

    /// Whether it is an Aurora cluster.
    pub fn is_db_cluster(&self) -> bool {
        self.resource_type == "AWS::RDS::DBCluster"
    }
}

/// A stack's resources by logical id (the template's name for each).
pub type StackResources = BTreeMap<String, StackResource>;

impl Aws {
    /// The stack's `(stack id, status)`, or `None` when it does not exist.
    pub async fn stack_status(&self, stack: &str) -> Result<Option<(String, String)>, InfraError> {
        match self.cfn.describe_stacks().stack_name(stack).send().await {
            Ok(out) => Ok(out.stacks().first().map(|s| {
                (
                    s.stack_id().unwrap_or_default().to_owned(),
                    s.stack_status()
                        .map(|s| s.as_str().to_owned())
                        .unwrap_or_default(),
                )
            })),
            // CloudFormation answers a missing stack with a ValidationError saying so.
            Err(e)
                if error_code(&e) == "ValidationError"
                    && e.message().is_some_and(|m| m.contains("does not exist")) =>
            {
                Ok(None)
            }
            Err(e) => Err(aws_err("DescribeStacks")(e)),
        }
    }

    /// Stack resources by logical id (works on a deleted stack when given its id).
    pub async fn stack_resources(&self, stack: &str) -> Result<StackResources, InfraError> {
        let mut out = StackResources::new();
        let mut pages = self
            .cfn
            .list_stack_resources()
            .stack_name(stack)
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(aws_err("ListStackResources"))?;
            for r in page.stack_resource_summaries() {
                out.insert(
                    r.logical_resource_id().unwrap_or_default().to_owned(),
                    StackResource {
                        resource_type: r.resource_type().unwrap_or_default().to_owned(),
                        physical_id: r.physical_resource_id().unwrap_or_default().to_owned(),
                        status: r
                            .resource_status()
                            .map(|s| s.as_str().to_owned())
                            .unwrap_or_default(),
                    },
                );
            }
        }
        Ok(out)
    }

    /// Stack outputs.
    pub async fn outputs(&self, stack: &str) -> Result<BTreeMap<String, String>, InfraError> {
        let out = self
            .cfn
            .describe_stacks()
            .stack_name(stack)
            .send()
            .await
            .map_err(aws_err("DescribeStacks"))?;
        Ok(out
            .stacks()
            .first()
            .map(|s| {
                s.outputs()
                    .iter()
                    .map(|o| {
                        (
                            o.output_key().unwrap_or_default().to_owned(),
                            o.output_value().unwrap_or_default().to_owned(),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default())
    }

    /// Polls until the stack is no longer in progress; returns the final status.
    pub(super) async fn wait_for_stack(
        &self,
        stack: &str,
        mut seen: BTreeSet<String>,
        progress: &mut dyn FnMut(String),
    ) -> Result<String, InfraError> {
        let started = Instant::now();
        loop {
            if let Ok(events) = self
                .cfn
                .describe_stack_events()
                .stack_name(stack)
                .send()
                .await
            {
                let mut fresh: Vec<_> = events
                    .stack_events()
                    .iter()
                    .filter(|e| seen.insert(e.event_id().unwrap_or_default().to_owned()))
                    .collect();
                fresh.reverse();
                for e in fresh {
                    progress(format!(
                        "{:>5}s {:<28} {:<20} {}",
                        started.elapsed().as_secs(),
                        e.logical_resource_id().unwrap_or_default(),
                        e.resource_status().map(|s| s.as_str()).unwrap_or_default(),
                        e.resource_status_reason().unwrap_or_default()
                    ));
                }
            }
            let status = self
                .stack_status(stack)
                .await?
                .map(|(_, s)| s)
                .unwrap_or_else(|| "DELETE_COMPLETE".into());
            if !status.ends_with("_IN_PROGRESS") {
                return Ok(status);
            }
            self.pause(started, &format!("stack {stack}")).await?;
        }
    }

    /// Ids of the stack's events so far, so that progress shows only new ones.
    pub(super) async fn event_ids(&self, stack: &str) -> BTreeSet<String> {
        match self
            .cfn
            .describe_stack_events()
            .stack_name(stack)
            .send()
            .await
        {
            Ok(events) => events
                .stack_events()
                .iter()
                .filter_map(|e| e.event_id().map(str::to_owned))
                .collect(),
            Err(_) => BTreeSet::new(),
        }
    }

    /// The oldest failed event's resource and reason: the cause, not its consequences.
    pub(super) async fn first_failure(&self, stack: &str) -> Option<String> {
        let events = self
            .cfn
            .describe_stack_events()
            .stack_name(stack)
            .send()
            .await
            .ok()?;
        events
            .stack_events()
            .iter()
            .rev()
            .find(|e| {
                e.resource_status()
                    .is_some_and(|s| s.as_str().ends_with("_FAILED"))
            })
            .map(|e| {
                format!(
                    "{}: {}",
                    e.logical_resource_id().unwrap_or_default(),
                    e.resource_status_reason().unwrap_or_default()
                )
            })
    }
}
