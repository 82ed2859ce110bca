//! ecom-infra's integration tests, in one binary: template validity (cfn-lint), security
//! posture (cfn-guard rules), the lifecycle on the moto emulator, moto's patched
//! behaviours, spec validation, the IAM token generator and the cost estimate.

mod cost;
mod deployer;
mod guard;
mod iam_token;
mod lifecycle;
mod lint;
mod moto_patches;
mod py_tools;
mod safe_changes;
mod spec_validation;
mod support;
mod tls;
