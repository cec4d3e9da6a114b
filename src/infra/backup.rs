//! Backups of an SQLite database taken while the server runs (`VACUUM INTO`: one
//! consistent snapshot, in a read transaction, so writers go on), and restoring one in
//! place of a database no server is using. A serving process holds an advisory lock on
//! `<database>.serving` for its lifetime; a restore needs it. On Postgres, `pg_dump` and
//! `pg_restore` do this (README).

use super::db::{Backend, Db};
use std::fs::File;
use std::path::{Path, PathBuf};

/// The file an `sqlite:` URL names (None for Postgres or an in-memory database).
pub fn sqlite_path(url: &str) -> Option<PathBuf> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next().unwrap_or_default();
    (!path.is_empty() && path != ":memory:").then(|| PathBuf::from(path))
}

fn serving_lock_path(database: &Path) -> PathBuf {
    let mut name = database.as_os_str().to_owned();
    name.push(".serving");
    PathBuf::from(name)
}

/// Marks the database as in use by this process for as long as the answer is kept.
/// Fails when another process holds it.
pub fn hold_serving_lock(database: &Path) -> Result<File, String> {
    let path = serving_lock_path(database);
    let file = File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|e| format!("{}: {e}", path.display()))?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(_) => Err(format!(
            "a Keyward server is using {} (it holds {})",
            database.display(),
            path.display()
        )),
    }
}

/// Writes a consistent copy of the database to `target`, which must not exist yet.
/// Answers its size in bytes.
pub async fn backup(db: &Db, target: &Path) -> Result<u64, String> {
    if db.backend == Backend::Postgres {
        return Err(
            "this database is Postgres: back it up with pg_dump (see the README)".to_string(),
        );
    }
    if target.exists() {
        return Err(format!(
            "{} exists already; choose a new file",
            target.display()
        ));
    }
    let name = target
        .to_str()
        .ok_or_else(|| format!("{} is not a UTF-8 path", target.display()))?;
    sqlx::query("VACUUM INTO $1")
        .bind(name)
        .execute(&db.pool)
        .await
        .map_err(|e| format!("backup failed: {e}"))?;
    std::fs::metadata(target)
        .map(|m| m.len())
        .map_err(|e| format!("{}: {e}", target.display()))
}

/// Puts the backup `source` in place of the SQLite database `url` names, which no
/// server may be using. The backup must be a Keyward database (its migrations table
/// is read first).
pub async fn restore(url: &str, source: &Path) -> Result<(), String> {
    let database = sqlite_path(url).ok_or_else(|| {
        "restore works on an SQLite DATABASE_URL; restore Postgres with pg_restore (see the README)"
            .to_string()
    })?;
    let source_name = source
        .to_str()
        .ok_or_else(|| format!("{} is not a UTF-8 path", source.display()))?;
    if !source.is_file() {
        return Err(format!("{} is not a file", source.display()));
    }
    sqlx::any::install_default_drivers();
    let mut conn = <sqlx::AnyConnection as sqlx::Connection>::connect(&format!(
        "sqlite://{source_name}?mode=ro"
    ))
    .await
    .map_err(|e| format!("{} cannot be opened as SQLite: {e}", source.display()))?;
    let migrations: Result<(i64,), _> =
        sqlx::query_as("SELECT COUNT(*) FROM _sqlx_migrations WHERE success")
            .fetch_one(&mut conn)
            .await;
    let _ = sqlx::Connection::close(conn).await;
    match migrations {
        Ok((n,)) if n > 0 => {}
        _ => return Err(format!("{} is not a Keyward database", source.display())),
    }
    let _serving =
        hold_serving_lock(&database).map_err(|why| format!("{why}: stop it before restoring"))?;
    for suffix in ["-wal", "-shm"] {
        let mut side = database.as_os_str().to_owned();
        side.push(suffix);
        let _ = std::fs::remove_file(PathBuf::from(side));
    }
    // Copied next to the database, then renamed over it: never half a database.
    let mut partial = database.as_os_str().to_owned();
    partial.push(".restoring");
    let partial = PathBuf::from(partial);
    std::fs::copy(source, &partial).map_err(|e| format!("{}: {e}", partial.display()))?;
    std::fs::rename(&partial, &database).map_err(|e| format!("{}: {e}", database.display()))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::sqlite_path;
    use std::path::PathBuf;

    #[test]
    fn the_file_of_a_database_url() {
        assert_eq!(
            sqlite_path("sqlite://keyward.db"),
            Some(PathBuf::from("keyward.db"))
        );
        assert_eq!(
            sqlite_path("sqlite:///var/lib/k.db?mode=rwc"),
            Some(PathBuf::from("/var/lib/k.db"))
        );
        assert_eq!(sqlite_path("sqlite::memory:"), None);
        assert_eq!(sqlite_path("postgres://u@h/db"), None);
    }
}
