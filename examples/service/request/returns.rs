//! The body that asks for a return, the customer's and the back office's alike:
//! lines, reason and note become checked domain values here, before the store is
//! called, so a malformed one is a typed `422` without a database round trip.

use axum::http::StatusCode;
use ecom_domain::prelude::*;
use serde::Deserialize;
use utoipa::ToSchema;

use super::by_name;
use crate::service::error::ApiError;
use crate::service::response::return_reason_schema;

/// The most lines one return takes: an order has at most as many.
const MAX_LINES: usize = ecom_domain::cart::Cart::MAX_LINES;

/// Units of one order line coming back.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = NewReturnLine)]
pub(in crate::service) struct ReturnLineBody {
    /// The order line, from 1.
    line_no: u16,
    /// Its units coming back, at least 1.
    quantity: i64,
}

/// `POST /orders/{ref}/returns` and `POST /admin/orders/{id}/returns`: units of
/// an order to send back.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = NewReturn)]
pub(in crate::service) struct ReturnBody {
    /// The lines and units, each line once; at most as many as an order has.
    lines: Vec<ReturnLineBody>,
    #[schema(schema_with = return_reason_schema)]
    reason: String,
    /// The customer's words, at most 500 characters.
    note: Option<String>,
}

/// A checked request for a return: its lines, reason and note.
pub(in crate::service) type Asked = (Vec<ReturnLine>, ReturnReason, Option<Reason>);

impl ReturnBody {
    /// The lines, reason and note, checked.
    pub(in crate::service) fn checked(self) -> Result<Asked, ApiError> {
        if self.lines.len() > MAX_LINES {
            return Err(ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_return",
                format!("a return holds at most {MAX_LINES} lines"),
            ));
        }
        let lines = self
            .lines
            .iter()
            .map(|l| {
                Ok(ReturnLine {
                    line_no: l.line_no,
                    quantity: Quantity::new(l.quantity)?,
                })
            })
            .collect::<Result<Vec<_>, ApiError>>()?;
        let reason = by_name(&self.reason)?;
        let note = self.note.as_deref().map(Reason::parse).transpose()?;
        Ok((lines, reason, note))
    }
}
