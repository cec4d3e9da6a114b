//! SQL for a group's writes: one `CASE` that gives each row its own amount, so a group
//! of any size updates its wallets (or its keys' monthly spending) in one statement.

use crate::infra::db::{param, Backend, Value};

/// `CASE {column} WHEN … THEN … ELSE 0 END` over `amounts`, its placeholders numbered
/// from `first`; answers the SQL and its values.
pub fn case_of(
    backend: Backend,
    column: &str,
    amounts: &[(&str, i64)],
    first: usize,
) -> (String, Vec<Value>) {
    let mut sql = format!("CASE {column}");
    let mut values = Vec::with_capacity(amounts.len() * 2);
    for (i, (id, amount)) in amounts.iter().enumerate() {
        sql.push_str(&format!(
            " WHEN {} THEN {}",
            param(backend, first + 2 * i),
            param(backend, first + 2 * i + 1)
        ));
        values.push(Value::from(*id));
        values.push(Value::Int(*amount));
    }
    sql.push_str(" ELSE 0 END");
    (sql, values)
}
