//! The layering rules of README's "How it is built", checked on the source itself:
//!
//! - `infra/` imports nothing but `infra/`, `error.rs` and `time_fmt.rs`;
//! - in a domain (every top-level folder but `infra`, `web`, `pages`, `components`),
//!   only `api.rs` may import `web/`, and no file imports `pages/`, `components/` or
//!   `app.rs`;
//! - `components/` imports neither `pages/` nor `web/`;
//! - no file imports itself back through any chain of imports;
//! - no domain imports itself back through other domains: the domains (`keys`,
//!   `wallet`, `orgs`, … and the `workspace` leaf under them) form a one-way graph.
//!
//! An import is any `crate::…`, `super::…` or `self::…` path, in a `use` or inline,
//! resolved to the file that defines the longest prefix of it. `mod x;` declarations
//! are not imports, and `#[cfg(test)] mod tests` blocks at the end of a file are left
//! out: tests may reach anywhere.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

const LAYERS: [&str; 4] = ["infra", "web", "pages", "components"];

#[test]
fn the_source_keeps_its_layers() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let problems = check(&root);
    assert!(
        problems.is_empty(),
        "layering rules broken:\n  {}",
        problems.join("\n  ")
    );
}

/// The checker finds each kind of wrong import in a small tree built to break them.
#[test]
fn the_checker_catches_each_kind_of_wrong_import() {
    let dir = tempfile::tempdir().unwrap();
    let files = [
        ("lib.rs", "pub mod infra; pub mod keys; pub mod orgs; pub mod web; pub mod components;"),
        ("error.rs", ""),
        ("infra/mod.rs", "pub mod db;"),
        // infra reaching up into a domain
        ("infra/db.rs", "use crate::keys::store::KeyStore;"),
        ("keys/mod.rs", "pub mod api; pub mod limits; pub mod store; pub mod verify;"),
        // allowed: the domain's HTTP edge uses the request context
        ("keys/api.rs", "use crate::web::request::Caller;"),
        // a store using web's context
        ("keys/store.rs", "fn f() { let _ = crate::web::state::AppState::new(); }"),
        // a three-file cycle: verify -> web/state -> web/request -> verify
        ("keys/verify.rs", "use crate::web::{state::AppState};"),
        ("web/mod.rs", "pub mod request; pub mod state;"),
        ("web/state.rs", "use super::request::Caller;"),
        ("web/request.rs", "use crate::keys::{verify::Refusal, Other};"),
        // two domains importing each other through different files: no file cycle
        ("orgs/mod.rs", "pub mod access; pub mod members;"),
        ("orgs/access.rs", "use crate::infra::db;"),
        ("orgs/members.rs", "use crate::keys::store::KeyStore;"),
        ("keys/limits.rs", "use crate::orgs::access::Need;"),
        ("components/mod.rs", "pub mod chart;"),
        (
            "components/chart.rs",
            "// use crate::web::state; (a comment is not an import)\nconst S: &str = \"crate::web::x\";\n#[cfg(test)]\nmod tests { use crate::web::state::AppState; }",
        ),
    ];
    for (path, text) in files {
        let path = dir.path().join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
    let problems = check(dir.path()).join("\n");
    assert!(
        problems.contains("infra/db.rs imports keys/store.rs"),
        "{problems}"
    );
    assert!(
        problems.contains("keys/store.rs imports web/state.rs"),
        "{problems}"
    );
    assert!(
        problems.contains("keys/verify.rs imports web/state.rs"),
        "{problems}"
    );
    assert!(problems.contains("cycle: "), "{problems}");
    assert!(
        problems.contains("domain cycle: keys -> orgs -> keys"),
        "{problems}"
    );
    assert!(!problems.contains("keys/api.rs"), "{problems}");
    assert!(!problems.contains("components/chart.rs"), "{problems}");
}

/// Every rule broken under `root` (a `src/` folder), one line each.
fn check(root: &Path) -> Vec<String> {
    let graph = import_graph(root);
    let mut problems = Vec::new();
    for (file, imports) in &graph {
        let top = top_level(file);
        let is_domain = file.contains('/') && !LAYERS.contains(&top);
        for import in imports {
            let target = top_level(import);
            let broken = if top == "infra" {
                !(target == "infra" || import == "error.rs" || import == "time_fmt.rs")
            } else if is_domain {
                (target == "web" && !file.ends_with("/api.rs"))
                    || matches!(target, "pages" | "components")
                    || import == "app.rs"
            } else if top == "components" {
                matches!(target, "pages" | "web")
            } else {
                false
            };
            if broken {
                problems.push(format!("{file} imports {import}"));
            }
        }
    }
    problems.extend(cycles(&graph));
    problems.extend(
        cycles(&domain_graph(&graph))
            .into_iter()
            .map(|cycle| format!("domain {cycle}")),
    );
    problems
}

/// Domain → the other domains its files import (a domain is a top-level folder that is
/// not a layer; files at the top, like `error.rs`, belong to none).
fn domain_graph(graph: &BTreeMap<String, BTreeSet<String>>) -> BTreeMap<String, BTreeSet<String>> {
    let domain = |file: &str| {
        let top = top_level(file);
        (file.contains('/') && !LAYERS.contains(&top)).then(|| top.to_string())
    };
    let mut domains: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (file, imports) in graph {
        let Some(from) = domain(file) else { continue };
        let entry = domains.entry(from.clone()).or_default();
        for to in imports.iter().filter_map(|import| domain(import)) {
            if to != from {
                entry.insert(to);
            }
        }
    }
    domains
}

fn top_level(file: &str) -> &str {
    file.split('/').next().unwrap_or(file)
}

/// File → the files it imports, for every `.rs` file under `root` but `main.rs`.
fn import_graph(root: &Path) -> BTreeMap<String, BTreeSet<String>> {
    let mut files = Vec::new();
    collect(root, root, &mut files);
    let known: BTreeSet<String> = files.iter().cloned().collect();
    let mut graph = BTreeMap::new();
    for file in files.iter().filter(|f| f.as_str() != "main.rs") {
        let text = std::fs::read_to_string(root.join(file)).unwrap_or_default();
        let module = module_of(file);
        let mut imports = BTreeSet::new();
        for path in paths_in(&without_tests(&strip_comments_and_strings(&text))) {
            if let Some(absolute) = absolute(&module, &path) {
                if let Some(target) = defining_file(&known, &absolute) {
                    if &target != file {
                        imports.insert(target);
                    }
                }
            }
        }
        graph.insert(file.clone(), imports);
    }
    graph
}

fn collect(root: &Path, dir: &Path, out: &mut Vec<String>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            collect(root, &path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            let relative = path.strip_prefix(root).unwrap_or(&path);
            out.push(relative.to_string_lossy().replace('\\', "/"));
        }
    }
}

/// `keys/store.rs` → `[keys, store]`; `keys/mod.rs` → `[keys]`; `lib.rs` → `[]`.
fn module_of(file: &str) -> Vec<String> {
    let trimmed = file.trim_end_matches(".rs");
    let mut parts: Vec<String> = trimmed.split('/').map(str::to_string).collect();
    if matches!(parts.last().map(String::as_str), Some("mod" | "lib")) {
        parts.pop();
    }
    parts
}

/// A path relative to `module` as a path from the crate root.
fn absolute(module: &[String], path: &[String]) -> Option<Vec<String>> {
    let (first, rest) = path.split_first()?;
    let mut base: Vec<String> = match first.as_str() {
        "crate" => Vec::new(),
        "self" => module.to_vec(),
        "super" => {
            let mut base = module.to_vec();
            base.pop()?;
            let mut rest = rest;
            while rest.first().map(String::as_str) == Some("super") {
                base.pop()?;
                rest = &rest[1..];
            }
            base.extend(rest.iter().cloned());
            return Some(base);
        }
        _ => return None,
    };
    base.extend(rest.iter().cloned());
    Some(base)
}

/// The file defining the longest prefix of `path` that is a module.
fn defining_file(known: &BTreeSet<String>, path: &[String]) -> Option<String> {
    for len in (0..=path.len()).rev() {
        let prefix = path[..len].join("/");
        let candidates = if len == 0 {
            vec!["lib.rs".to_string()]
        } else {
            vec![format!("{prefix}.rs"), format!("{prefix}/mod.rs")]
        };
        if let Some(found) = candidates.into_iter().find(|c| known.contains(c)) {
            return Some(found);
        }
    }
    None
}

/// Source text with comments, string and char literals blanked out.
fn strip_comments_and_strings(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        if c == '/' && next == Some('/') {
            while i < chars.len() && chars[i] != '\n' {
                i += 1;
            }
        } else if c == '/' && next == Some('*') {
            i += 2;
            while i + 1 < chars.len() && !(chars[i] == '*' && chars[i + 1] == '/') {
                i += 1;
            }
            i += 2;
            out.push(' ');
        } else if c == 'r' && (next == Some('#') || next == Some('"')) && is_raw_string(&chars, i) {
            let mut hashes = 0;
            i += 1;
            while chars.get(i) == Some(&'#') {
                hashes += 1;
                i += 1;
            }
            i += 1; // the opening quote
            while i < chars.len() {
                if chars[i] == '"' && (1..=hashes).all(|h| chars.get(i + h) == Some(&'#')) {
                    i += 1 + hashes;
                    break;
                }
                i += 1;
            }
            out.push_str("\"\"");
        } else if c == '"' {
            i += 1;
            while i < chars.len() && chars[i] != '"' {
                i += if chars[i] == '\\' { 2 } else { 1 };
            }
            i += 1;
            out.push_str("\"\"");
        } else if c == '\'' {
            // A char literal ('x', '\n', '\u{1F600}'), or else a lifetime ('a).
            if next == Some('\\') {
                i += 2;
                while i < chars.len() && chars[i] != '\'' {
                    i += 1;
                }
                i += 1;
                out.push_str("' '");
            } else if chars.get(i + 2) == Some(&'\'') {
                i += 3;
                out.push_str("' '");
            } else {
                out.push(c);
                i += 1;
            }
        } else {
            out.push(c);
            i += 1;
        }
    }
    out
}

fn is_raw_string(chars: &[char], i: usize) -> bool {
    // Not the end of an identifier such as `for` or `r#type`.
    let previous_is_ident = i > 0 && (chars[i - 1].is_alphanumeric() || chars[i - 1] == '_');
    if previous_is_ident {
        return false;
    }
    let mut j = i + 1;
    while chars.get(j) == Some(&'#') {
        j += 1;
    }
    chars.get(j) == Some(&'"')
}

/// Drops a trailing `#[cfg(test)] mod tests { … }`.
fn without_tests(text: &str) -> String {
    match text.find("#[cfg(test)]\nmod tests") {
        Some(at) => text[..at].to_string(),
        None => text.to_string(),
    }
}

/// Every `crate::`/`super::`/`self::` path, with `use` trees expanded.
fn paths_in(text: &str) -> Vec<Vec<String>> {
    let tokens = tokenize(text);
    let mut paths = Vec::new();
    let mut i = 0;
    while i < tokens.len() {
        if tokens[i] == "use" {
            let end = tokens[i..]
                .iter()
                .position(|t| t == ";")
                .map_or(tokens.len(), |p| i + p);
            expand_use_tree(&tokens[i + 1..end], &[], &mut paths);
            i = end;
        } else if matches!(tokens[i].as_str(), "crate" | "super" | "self")
            && tokens.get(i + 1).map(String::as_str) == Some("::")
        {
            let mut path = vec![tokens[i].clone()];
            let mut j = i + 1;
            while tokens.get(j).map(String::as_str) == Some("::")
                && tokens.get(j + 1).is_some_and(|t| is_ident(t))
            {
                path.push(tokens[j + 1].clone());
                j += 2;
            }
            paths.push(path);
            i = j;
        } else {
            i += 1;
        }
    }
    paths
        .into_iter()
        .filter(|p| {
            p.first()
                .is_some_and(|f| matches!(f.as_str(), "crate" | "super" | "self"))
        })
        .collect()
}

/// Expands `a::{b, c::{d, e}}` into `a::b`, `a::c::d`, `a::c::e`.
fn expand_use_tree(tokens: &[String], prefix: &[String], out: &mut Vec<Vec<String>>) {
    let mut path = prefix.to_vec();
    let mut i = 0;
    while i < tokens.len() {
        match tokens[i].as_str() {
            "{" => {
                let close = matching_brace(tokens, i);
                for item in split_top_level(&tokens[i + 1..close]) {
                    expand_use_tree(item, &path, out);
                }
                return;
            }
            "::" => {}
            "as" => break,
            "*" => break,
            t if is_ident(t) => path.push(t.to_string()),
            _ => {}
        }
        i += 1;
    }
    if path.len() > prefix.len() || !prefix.is_empty() {
        out.push(path);
    }
}

fn matching_brace(tokens: &[String], open: usize) -> usize {
    let mut depth = 0;
    for (j, t) in tokens.iter().enumerate().skip(open) {
        match t.as_str() {
            "{" => depth += 1,
            "}" => {
                depth -= 1;
                if depth == 0 {
                    return j;
                }
            }
            _ => {}
        }
    }
    tokens.len()
}

fn split_top_level(tokens: &[String]) -> Vec<&[String]> {
    let mut items = Vec::new();
    let (mut depth, mut start) = (0, 0);
    for (j, t) in tokens.iter().enumerate() {
        match t.as_str() {
            "{" => depth += 1,
            "}" => depth -= 1,
            "," if depth == 0 => {
                items.push(&tokens[start..j]);
                start = j + 1;
            }
            _ => {}
        }
    }
    items.push(&tokens[start..]);
    items.into_iter().filter(|i| !i.is_empty()).collect()
}

fn is_ident(token: &str) -> bool {
    token
        .chars()
        .next()
        .is_some_and(|c| c.is_alphabetic() || c == '_')
}

/// Identifiers, `::`, and single punctuation characters.
fn tokenize(text: &str) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_alphanumeric() || c == '_' {
            let start = i;
            while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_') {
                i += 1;
            }
            tokens.push(chars[start..i].iter().collect());
        } else if c == ':' && chars.get(i + 1) == Some(&':') {
            tokens.push("::".to_string());
            i += 2;
        } else {
            if !c.is_whitespace() {
                tokens.push(c.to_string());
            }
            i += 1;
        }
    }
    tokens
}

/// One line per import cycle (strongly connected group of files), naming a loop in it.
fn cycles(graph: &BTreeMap<String, BTreeSet<String>>) -> Vec<String> {
    // Tarjan's algorithm, iterative enough for a source tree.
    struct Tarjan<'g> {
        graph: &'g BTreeMap<String, BTreeSet<String>>,
        index: BTreeMap<&'g str, usize>,
        low: BTreeMap<&'g str, usize>,
        stack: Vec<&'g str>,
        on_stack: BTreeSet<&'g str>,
        groups: Vec<Vec<&'g str>>,
    }
    impl<'g> Tarjan<'g> {
        fn visit(&mut self, node: &'g str) {
            let n = self.index.len();
            self.index.insert(node, n);
            self.low.insert(node, n);
            self.stack.push(node);
            self.on_stack.insert(node);
            for next in self.graph.get(node).into_iter().flatten() {
                let next = next.as_str();
                if !self.graph.contains_key(next) {
                    continue;
                }
                if !self.index.contains_key(next) {
                    self.visit(next);
                    let low = self.low[node].min(self.low[next]);
                    self.low.insert(node, low);
                } else if self.on_stack.contains(next) {
                    let low = self.low[node].min(self.index[next]);
                    self.low.insert(node, low);
                }
            }
            if self.low[node] == self.index[node] {
                let mut group = Vec::new();
                while let Some(top) = self.stack.pop() {
                    self.on_stack.remove(top);
                    group.push(top);
                    if top == node {
                        break;
                    }
                }
                if group.len() > 1 {
                    group.sort();
                    self.groups.push(group);
                }
            }
        }
    }
    let mut tarjan = Tarjan {
        graph,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on_stack: BTreeSet::new(),
        groups: Vec::new(),
    };
    for node in graph.keys() {
        if !tarjan.index.contains_key(node.as_str()) {
            tarjan.visit(node);
        }
    }
    tarjan
        .groups
        .into_iter()
        .map(|group| format!("cycle: {}", loop_in(graph, &group).join(" -> ")))
        .collect()
}

/// A concrete loop through the group's first file, for the message.
fn loop_in<'g>(graph: &'g BTreeMap<String, BTreeSet<String>>, group: &[&'g str]) -> Vec<&'g str> {
    let start = group[0];
    let members: BTreeSet<&str> = group.iter().copied().collect();
    // Breadth-first search back to the start within the group.
    let mut previous: BTreeMap<&str, &str> = BTreeMap::new();
    let mut queue = std::collections::VecDeque::from([start]);
    while let Some(node) = queue.pop_front() {
        for next in graph.get(node).into_iter().flatten() {
            let next = next.as_str();
            if !members.contains(next) {
                continue;
            }
            if next == start {
                let mut path = vec![start, node];
                let mut at = node;
                while let Some(&p) = previous.get(at) {
                    path.insert(1, p);
                    at = p;
                }
                path.dedup();
                path.push(start);
                return path;
            }
            if !previous.contains_key(next) && next != start {
                previous.insert(next, node);
                queue.push_back(next);
            }
        }
    }
    group.to_vec()
}
