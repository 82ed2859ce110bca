//! Hand-written SQL that diesel keeps as a prepared statement.
//!
//! `diesel::sql_query` marks every query unsafe to cache, so PostgreSQL parses and
//! plans it on every call. For the hot hand-written queries (a category page, the
//! name search, stock adjustments) that planning was a large part of each call;
//! [`CachedSql`] lets diesel's statement cache keep them prepared, as it does for
//! queries built with its DSL.
//!
//! Diesel finds a prepared statement by its query's type when the type names one
//! statement, and by its SQL text otherwise, which it builds and hashes again on
//! every execution. A statement declared with [`keyed!`] is a type of its own, so it
//! is found by type: no text built, nothing hashed. A [`Statement`] in a `static`
//! (one of an array, or given a tail) is found by its text.

use std::marker::PhantomData;
use std::sync::OnceLock;

use diesel::pg::Pg;
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
use diesel::sql_types::{
    Array, BigInt, Bool, Bytea, Integer, Nullable, Numeric, SmallInt, Text, Timestamptz, Untyped,
};
use diesel::{QueryResult, RunQueryDsl};
use rust_decimal::Decimal;

/// One bind parameter.
#[derive(Debug, Clone)]
pub(crate) enum Bind {
    Int(i32),
    Bool(bool),
    BigInt(i64),
    NullableBigInt(Option<i64>),
    Text(String),
    NullableText(Option<String>),
    Bytea(Vec<u8>),
    NullableBytea(Option<Vec<u8>>),
    Uuid(uuid::Uuid),
    Numeric(Decimal),
    NullableNumeric(Option<Decimal>),
    NullableTimestamptz(Option<chrono::DateTime<chrono::Utc>>),
    BigIntArray(Vec<i64>),
    IntArray(Vec<i32>),
    SmallIntArray(Vec<i16>),
    TextArray(Vec<String>),
    NumericArray(Vec<Decimal>),
}

/// One statement, written as it would be in psql with `$1`, `$2`... for its binds (a
/// placeholder may appear more than once: each use sends its bind again). Every `$`
/// in the text starts a placeholder, so a statement holds no `$` in a literal or a
/// dollar-quoted body. Kept in a `static`: the text is split at its placeholders once,
/// not on each of the several walks diesel makes over a query per execution.
#[derive(Debug)]
pub(crate) struct Statement {
    sql: &'static str,
    parts: OnceLock<Vec<Part>>,
}

/// A piece of a [`Statement`]: text, or the bind a placeholder names (from 0).
#[derive(Debug)]
enum Part {
    Text(&'static str),
    Bind(usize),
    /// A `$` followed by no number: the statement is wrong.
    Malformed,
}

impl Statement {
    pub(crate) const fn new(sql: &'static str) -> Self {
        Self {
            sql,
            parts: OnceLock::new(),
        }
    }

    fn parts(&self) -> &[Part] {
        self.parts.get_or_init(|| split_at_placeholders(self.sql))
    }
}

fn split_at_placeholders(sql: &'static str) -> Vec<Part> {
    let mut parts = Vec::new();
    let mut rest = sql;
    while let Some(at) = rest.find('$') {
        parts.push(Part::Text(&rest[..at]));
        let digits = rest[at + 1..]
            .bytes()
            .take_while(u8::is_ascii_digit)
            .count();
        let number = rest[at + 1..at + 1 + digits].parse::<usize>().ok();
        parts.push(match number.and_then(|n| n.checked_sub(1)) {
            Some(index) => Part::Bind(index),
            None => Part::Malformed,
        });
        rest = &rest[at + 1 + digits..];
    }
    parts.push(Part::Text(rest));
    parts
}

/// How diesel's statement cache finds a [`CachedSql`]: by its type (a statement of
/// [`keyed!`]) or by its text ([`ByText`]).
pub(crate) trait Key: 'static {
    /// True for a type that names one statement.
    const BY_TYPE: bool;
}

/// Found by its SQL text, built on each execution.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ByText;

impl Key for ByText {
    const BY_TYPE: bool = false;
}

/// A statement that is a type of its own, declared with [`keyed!`].
pub(crate) trait Keyed: 'static {
    /// Its text.
    fn statement() -> &'static Statement;
}

impl<K: Keyed> Key for K {
    const BY_TYPE: bool = true;
}

/// Declares statements that diesel's statement cache finds by type: each name is a
/// unit type implementing [`Keyed`], run with [`CachedSql::keyed`]. Each must be
/// run with binds of the same SQL types every time: its prepared statement is
/// found by the type alone, not by the types of its binds.
macro_rules! keyed {
    ($($(#[$doc:meta])* $vis:vis $name:ident = $sql:expr;)+) => {$(
        $(#[$doc])*
        #[allow(non_camel_case_types, clippy::upper_case_acronyms)]
        #[derive(Debug, Clone, Copy)]
        $vis struct $name;

        impl $crate::sql::Keyed for $name {
            fn statement() -> &'static $crate::sql::Statement {
                static STATEMENT: $crate::sql::Statement = $crate::sql::Statement::new($sql);
                &STATEMENT
            }
        }
    )+};
}
pub(crate) use keyed;

/// A [`Statement`] with its binds. The text is static, so the cache can never grow
/// without bound.
///
/// Loaded by column name (`QueryableByName`) unless given its row's SQL types with
/// [`CachedSql::typed`]; then rows load by position (`Queryable`), which skips a
/// name lookup per column per row.
#[derive(Debug, Clone)]
pub(crate) struct CachedSql<ST = Untyped, K = ByText> {
    statement: &'static Statement,
    binds: Vec<Bind>,
    tail: &'static str,
    row: PhantomData<fn() -> (ST, K)>,
}

impl CachedSql {
    /// A statement found by its text.
    pub(crate) fn new(statement: &'static Statement, binds: Vec<Bind>) -> Self {
        Self {
            statement,
            binds,
            tail: "",
            row: PhantomData,
        }
    }

    /// A statement of [`keyed!`], found by its type.
    pub(crate) fn keyed<K: Keyed>(binds: Vec<Bind>) -> CachedSql<Untyped, K> {
        CachedSql {
            statement: K::statement(),
            binds,
            tail: "",
            row: PhantomData,
        }
    }
}

impl<ST, K> CachedSql<ST, K> {
    /// The same query, its rows of SQL types `T` (in select-list order).
    pub(crate) fn typed<T>(self) -> CachedSql<T, K> {
        CachedSql {
            statement: self.statement,
            binds: self.binds,
            tail: self.tail,
            row: PhantomData,
        }
    }
}

impl<ST> CachedSql<ST, ByText> {
    /// Appends `tail` (static text, e.g. one of a few `LIMIT`s) after the statement.
    /// Only for a statement found by its text: a tail changes the text.
    pub(crate) fn with_tail(mut self, tail: &'static str) -> Self {
        self.tail = tail;
        self
    }
}

impl<ST: 'static, K: Key> QueryId for CachedSql<ST, K> {
    type QueryId = (K, ST);
    // Without a type of its own, diesel keys its statement cache by the SQL text.
    const HAS_STATIC_QUERY_ID: bool = K::BY_TYPE;
}

impl<ST, K> Query for CachedSql<ST, K> {
    type SqlType = ST;
}

impl<ST, K, Conn> RunQueryDsl<Conn> for CachedSql<ST, K> {}

impl<ST, K> QueryFragment<Pg> for CachedSql<ST, K> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        for part in self.statement.parts() {
            match part {
                Part::Text(text) => out.push_sql(text),
                Part::Bind(index) => match self.binds.get(*index) {
                    Some(bind) => push_bind(&mut out, bind)?,
                    None => return Err(malformed(self.statement)),
                },
                Part::Malformed => return Err(malformed(self.statement)),
            }
        }
        out.push_sql(self.tail);
        Ok(())
    }
}

fn malformed(statement: &Statement) -> diesel::result::Error {
    diesel::result::Error::QueryBuilderError(
        format!("placeholder without a bind in {:?}", statement.sql).into(),
    )
}

fn push_bind<'b>(out: &mut AstPass<'_, 'b, Pg>, bind: &'b Bind) -> QueryResult<()> {
    match bind {
        Bind::Int(v) => out.push_bind_param::<Integer, _>(v),
        Bind::Bool(v) => out.push_bind_param::<Bool, _>(v),
        Bind::BigInt(v) => out.push_bind_param::<BigInt, _>(v),
        Bind::NullableBigInt(v) => out.push_bind_param::<Nullable<BigInt>, _>(v),
        Bind::Text(v) => out.push_bind_param::<Text, _>(v),
        Bind::NullableText(v) => out.push_bind_param::<Nullable<Text>, _>(v),
        Bind::Bytea(v) => out.push_bind_param::<Bytea, _>(v),
        Bind::NullableBytea(v) => out.push_bind_param::<Nullable<Bytea>, _>(v),
        Bind::Uuid(v) => out.push_bind_param::<diesel::sql_types::Uuid, _>(v),
        Bind::BigIntArray(v) => out.push_bind_param::<Array<BigInt>, _>(v),
        Bind::Numeric(v) => out.push_bind_param::<Numeric, _>(v),
        Bind::NullableNumeric(v) => out.push_bind_param::<Nullable<Numeric>, _>(v),
        Bind::NullableTimestamptz(v) => out.push_bind_param::<Nullable<Timestamptz>, _>(v),
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
        static REUSED: Statement = Statement::new("SELECT $1, $2 WHERE x = $1 AND y = $10");
        let query = CachedSql::new(&REUSED, (1..=10).map(Bind::BigInt).collect());
        let sql = debug_query::<Pg, _>(&query).to_string();
        assert!(
            sql.starts_with("SELECT $1, $2 WHERE x = $3 AND y = $4 -- binds: [1, 2, 1, 10]"),
            "{sql}"
        );
    }

    #[test]
    fn a_placeholder_without_a_bind_is_an_error_not_a_panic() {
        static WRONG: [Statement; 4] = [
            Statement::new("SELECT $2"),
            Statement::new("SELECT $0"),
            Statement::new("SELECT $"),
            Statement::new("SELECT $x"),
        ];
        for statement in &WRONG {
            let sql = statement.sql;
            let query = CachedSql::new(statement, vec![Bind::Int(1)]);
            let mut out = String::new();
            let rendered =
                std::fmt::write(&mut out, format_args!("{}", debug_query::<Pg, _>(&query)));
            assert!(rendered.is_err(), "{sql} rendered as {out}");
        }
    }
}
