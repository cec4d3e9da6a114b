//! Scopes the operator adds to the built-in ones (`KEYWARD_EXTRA_SCOPES`).

/// A scope the operator adds to the built-in ones (`KEYWARD_EXTRA_SCOPES`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExtraScope {
    pub name: String,
    pub description: String,
}

/// `name=description;name=description`, e.g. `jobs:submit=Submit quantum jobs`.
pub fn parse_scopes(spec: &str) -> Result<Vec<ExtraScope>, String> {
    spec.split(';')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|entry| {
            let (name, description) = entry.split_once('=').ok_or_else(|| {
                format!("KEYWARD_EXTRA_SCOPES entry {entry:?} must look like name=description")
            })?;
            let name = name.trim();
            let valid = !name.is_empty()
                && name.len() <= 64
                && name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, ':' | '_' | '-' | '.'));
            if !valid {
                return Err(format!(
                    "KEYWARD_EXTRA_SCOPES scope name {name:?} may use letters, digits and : _ - ."
                ));
            }
            Ok(ExtraScope {
                name: name.to_string(),
                description: description.trim().to_string(),
            })
        })
        .collect()
}
