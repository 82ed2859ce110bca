//! Hand-written SQL that diesel keeps as a prepared statement.
//!
//! `diesel::sql_query` marks every query unsafe to cache, so PostgreSQL parses and
//! plans it on every call. For the hot hand-written queries (a category page, the
//! name search, stock adjustments) that planning was a large part of each call;
//! [`CachedSql`] lets diesel's statement cache keep them prepared, keyed by their
//! text, as it does for queries built with its DSL.

use std::marker::PhantomData;

use diesel::pg::Pg;
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
use diesel::sql_types::{Array, BigInt, Integer, Nullable, Numeric, SmallInt, Text, Untyped};
use diesel::{QueryResult, RunQueryDsl};
use rust_decimal::Decimal;

/// One bind parameter.
#[derive(Debug, Clone)]
pub(crate) enum Bind {
    Int(i32),
    BigInt(i64),
    NullableBigInt(Option<i64>),
    Text(String),
    NullableText(Option<String>),
    Numeric(Decimal),
    BigIntArray(Vec<i64>),
    IntArray(Vec<i32>),
    SmallIntArray(Vec<i16>),
    TextArray(Vec<String>),
    NumericArray(Vec<Decimal>),
}

/// One statement, written as it would be in psql with `$1`, `$2`... for its binds (a
/// placeholder may appear more than once: each use sends its bind again). Every `$`
/// in the text starts a placeholder, so a statement holds no `$` in a literal or a
/// dollar-quoted body. The text is static, so the cache can never grow without bound.
///
/// Loaded by column name (`QueryableByName`) unless given its row's SQL types with
/// [`CachedSql::typed`]; then rows load by position (`Queryable`), which skips a
/// name lookup per column per row.
#[derive(Debug, Clone)]
pub(crate) struct CachedSql<ST = Untyped> {
    sql: &'static str,
    binds: Vec<Bind>,
    tail: &'static str,
    row: PhantomData<fn() -> ST>,
}

impl CachedSql {
    pub(crate) fn new(sql: &'static str, binds: Vec<Bind>) -> Self {
        Self {
            sql,
            binds,
            tail: "",
            row: PhantomData,
        }
    }
}

impl<ST> CachedSql<ST> {
    /// The same query, its rows of SQL types `T` (in select-list order).
    pub(crate) fn typed<T>(self) -> CachedSql<T> {
        CachedSql {
            sql: self.sql,
            binds: self.binds,
            tail: self.tail,
            row: PhantomData,
        }
    }

    /// Appends `tail` (static text, e.g. one of a few `LIMIT`s) after the statement.
    pub(crate) fn with_tail(mut self, tail: &'static str) -> Self {
        self.tail = tail;
        self
    }
}

impl<ST: 'static> QueryId for CachedSql<ST> {
    type QueryId = ();
    // No static id: diesel then keys its statement cache by the SQL text.
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl<ST> Query for CachedSql<ST> {
    type SqlType = ST;
}

impl<ST, Conn> RunQueryDsl<Conn> for CachedSql<ST> {}

impl<ST> QueryFragment<Pg> for CachedSql<ST> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        let mut rest = self.sql;
        while let Some(at) = rest.find('$') {
            out.push_sql(&rest[..at]);
            let digits = rest[at + 1..]
                .bytes()
                .take_while(u8::is_ascii_digit)
                .count();
            let bind = rest[at + 1..at + 1 + digits]
                .parse::<usize>()
                .ok()
                .and_then(|n| self.binds.get(n.checked_sub(1)?))
                .ok_or_else(|| {
                    diesel::result::Error::QueryBuilderError(
                        format!("placeholder without a bind in {:?}", self.sql).into(),
                    )
                })?;
            push_bind(&mut out, bind)?;
            rest = &rest[at + 1 + digits..];
        }
        out.push_sql(rest);
        out.push_sql(self.tail);
        Ok(())
    }
}

fn push_bind<'b>(out: &mut AstPass<'_, 'b, Pg>, bind: &'b Bind) -> QueryResult<()> {
    match bind {
        Bind::Int(v) => out.push_bind_param::<Integer, _>(v),
        Bind::BigInt(v) => out.push_bind_param::<BigInt, _>(v),
        Bind::NullableBigInt(v) => out.push_bind_param::<Nullable<BigInt>, _>(v),
        Bind::Text(v) => out.push_bind_param::<Text, _>(v),
        Bind::NullableText(v) => out.push_bind_param::<Nullable<Text>, _>(v),
        Bind::BigIntArray(v) => out.push_bind_param::<Array<BigInt>, _>(v),
        Bind::Numeric(v) => out.push_bind_param::<Numeric, _>(v),
        Bind::IntArray(v) => out.push_bind_param::<Array<Integer>, _>(v),
        Bind::SmallIntArray(v) => out.push_bind_param::<Array<SmallInt>, _>(v),
        Bind::TextArray(v) => out.push_bind_param::<Array<Text>, _>(v),
        Bind::NumericArray(v) => out.push_bind_param::<Array<Numeric>, _>(v),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use diesel::debug_query;

    #[test]
    fn placeholders_take_their_binds_and_a_reused_one_is_sent_again() {
        let query = CachedSql::new(
            "SELECT $1, $2 WHERE x = $1 AND y = $10",
            (1..=10).map(Bind::BigInt).collect(),
        );
        let sql = debug_query::<Pg, _>(&query).to_string();
        assert!(
            sql.starts_with("SELECT $1, $2 WHERE x = $3 AND y = $4 -- binds: [1, 2, 1, 10]"),
            "{sql}"
        );
    }

    #[test]
    fn a_placeholder_without_a_bind_is_an_error_not_a_panic() {
        for sql in ["SELECT $2", "SELECT $0", "SELECT $", "SELECT $x"] {
            let query = CachedSql::new(sql, vec![Bind::Int(1)]);
            let mut out = String::new();
            let rendered =
                std::fmt::write(&mut out, format_args!("{}", debug_query::<Pg, _>(&query)));
            assert!(rendered.is_err(), "{sql} rendered as {out}");
        }
    }
}
