//! Which unique rule of the schema a refused write broke.

/// A unique rule of the schema, as each database names it when a write breaks it:
/// Postgres by the constraint's (or unique index's) name, SQLite by its columns in the
/// message (`UNIQUE constraint failed: api_keys.user_id, api_keys.name`). Lets a store
/// answer the rule that was broken instead of guessing from "some unique violation".
pub struct UniqueRule {
    pub postgres: &'static str,
    pub sqlite_columns: &'static str,
}

impl UniqueRule {
    /// Whether `error` is this rule refusing a write.
    pub fn broken_by(&self, error: &sqlx::Error) -> bool {
        let sqlx::Error::Database(e) = error else {
            return false;
        };
        e.is_unique_violation()
            && (e.constraint() == Some(self.postgres) || e.message().ends_with(self.sqlite_columns))
    }
}
