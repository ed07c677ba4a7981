//! The layering rules of ARCHITECTURE.md, checked over the source tree: a
//! module may use its own layer and the layers below it, never one above;
//! no two source files import each other, directly or through others; the
//! binary reaches the library through its façades only.
//!
//! Test code (`tests.rs`, `tests/` folders, `#[cfg(test)]` items) is left
//! out: tests may build fixtures from any layer.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The library's top-level modules, lowest layer first. A module may use
/// modules of its own rank or below.
const LAYERS: &[(&str, &[&str])] = &[
    ("foundation", &["record", "paths", "test_hooks", "units"]),
    ("values", &["normalize", "schema"]),
    ("reading and deciding", &["connectors", "resolve"]),
    ("source of truth", &["store"]),
    ("derived index", &["index"]),
    (
        "domain services",
        &[
            "customers",
            "writeback",
            "export",
            "snapshot",
            "auth",
            "jobs",
        ],
    ),
    ("configuration", &["config"]),
    ("sources", &["sources"]),
    ("engine façade", &["engine"]),
    ("edges", &["api", "bench"]),
];

/// What the binary (src/main.rs, src/cli/) may use of the library: the
/// engine façade, and the modules that hold no data (settings, identities'
/// types, the HTTP server, sources' status files, connectors for `rapport
/// connectors test`, export's row writers, benchmarks). Never the store,
/// the index or the customer view directly.
const BINARY_MAY_USE: &[&str] = &[
    "engine",
    "config",
    "api",
    "auth",
    "bench",
    "sources",
    "record",
    "export",
    "connectors",
];

fn rank(module: &str) -> Option<usize> {
    LAYERS
        .iter()
        .position(|(_, modules)| modules.contains(&module))
}

/// A source file with its module path (`["index", "search", "query"]`).
struct SourceFile {
    path: PathBuf,
    module: Vec<String>,
    code: String,
}

fn source_files(root: &Path) -> Vec<SourceFile> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                if path.file_name().is_some_and(|n| n != "tests") {
                    stack.push(path);
                }
                continue;
            }
            if path.extension().is_none_or(|e| e != "rs")
                || path.file_name().is_some_and(|n| n == "tests.rs")
            {
                continue;
            }
            let relative = path.strip_prefix(root).unwrap_or(&path);
            let mut module: Vec<String> = relative
                .with_extension("")
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect();
            if module.last().is_some_and(|m| m == "mod" || m == "lib") {
                module.pop();
            }
            let text = std::fs::read_to_string(&path).unwrap_or_default();
            out.push(SourceFile {
                path,
                module,
                code: without_test_code(&strip_comments(&text)),
            });
        }
    }
    out.sort_by(|a, b| a.path.cmp(&b.path));
    out
}

fn strip_comments(text: &str) -> String {
    text.lines()
        .map(|line| match line.find("//") {
            Some(i) if !line[..i].contains('"') => &line[..i],
            _ => line,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The code without the items marked `#[cfg(test)]` (a module or a
/// function: everything up to the end of the item's braces or its `;`).
fn without_test_code(code: &str) -> String {
    let mut out = String::new();
    let mut rest = code;
    while let Some(at) = rest.find("#[cfg(test)]") {
        out.push_str(&rest[..at]);
        let item = &rest[at + "#[cfg(test)]".len()..];
        let mut depth = 0usize;
        let mut end = item.len();
        for (i, c) in item.char_indices() {
            match c {
                '{' => depth += 1,
                '}' => {
                    depth = depth.saturating_sub(1);
                    if depth == 0 {
                        end = i + 1;
                        break;
                    }
                }
                ';' if depth == 0 => {
                    end = i + 1;
                    break;
                }
                _ => {}
            }
        }
        rest = &item[end..];
    }
    out.push_str(rest);
    out
}

/// Every path the code names from the crate root or its parent module:
/// `use` trees expanded (`use crate::a::{b, c::d}` → `crate::a::b`,
/// `crate::a::c::d`) and paths written inline (`crate::x::y(…)`).
fn named_paths(code: &str) -> Vec<String> {
    let mut paths = Vec::new();
    let mut rest = code;
    while let Some(at) = rest.find("use ") {
        let before_ok = at == 0
            || !rest[..at]
                .chars()
                .next_back()
                .is_some_and(|c| c.is_alphanumeric() || c == '_');
        let tail = &rest[at + 4..];
        let end = tail.find(';').unwrap_or(tail.len());
        if before_ok {
            expand_use_tree("", tail[..end].trim(), &mut paths);
        }
        rest = &tail[end.min(tail.len())..];
    }
    for prefix in ["crate::", "super::", "rapport::"] {
        let mut rest = code;
        while let Some(at) = rest.find(prefix) {
            let before = rest[..at].chars().next_back();
            let tail = &rest[at..];
            let len = tail
                .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':'))
                .unwrap_or(tail.len());
            if !before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == ':') {
                paths.push(tail[..len].trim_end_matches(':').to_string());
            }
            rest = &tail[len.max(1)..];
        }
    }
    paths
}

fn expand_use_tree(prefix: &str, tree: &str, out: &mut Vec<String>) {
    let tree = tree.trim();
    if let Some(open) = tree.find('{') {
        let head = tree[..open].trim().trim_end_matches("::");
        let inner = tree[open + 1..].trim_end().trim_end_matches('}');
        let joined = join(prefix, head);
        for part in split_top_level(inner) {
            expand_use_tree(&joined, part, out);
        }
    } else {
        let path = tree.split(" as ").next().unwrap_or(tree).trim();
        if !path.is_empty() {
            out.push(join(prefix, path));
        }
    }
}

fn join(prefix: &str, path: &str) -> String {
    match (prefix.is_empty(), path.is_empty()) {
        (true, _) => path.to_string(),
        (_, true) => prefix.to_string(),
        _ => format!("{prefix}::{path}"),
    }
}

fn split_top_level(list: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let (mut depth, mut start) = (0usize, 0usize);
    for (i, c) in list.char_indices() {
        match c {
            '{' => depth += 1,
            '}' => depth = depth.saturating_sub(1),
            ',' if depth == 0 => {
                parts.push(&list[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&list[start..]);
    parts
}

/// The module path a named path points into, from the file's own module
/// (`crate::a::b` and `super::b` resolved), or `None` for other crates.
fn absolute(path: &str, own: &[String]) -> Option<Vec<String>> {
    let mut parts = path.split("::").map(str::to_string);
    let first = parts.next()?;
    let mut base: Vec<String> = match first.as_str() {
        "crate" => Vec::new(),
        "super" => own[..own.len().saturating_sub(1)].to_vec(),
        "self" => own.to_vec(),
        _ => return None,
    };
    for part in parts {
        match part.as_str() {
            "super" => {
                base.pop();
            }
            "self" => {}
            _ => base.push(part),
        }
    }
    Some(base)
}

struct Tree {
    files: Vec<SourceFile>,
    /// Module path → index in `files`.
    by_module: BTreeMap<Vec<String>, usize>,
}

impl Tree {
    fn library() -> Tree {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let files: Vec<SourceFile> = source_files(&root)
            .into_iter()
            .filter(|f| !(f.module.first().is_some_and(|m| m == "main" || m == "cli")))
            .collect();
        let by_module = files
            .iter()
            .enumerate()
            .map(|(i, f)| (f.module.clone(), i))
            .collect();
        Tree { files, by_module }
    }

    /// The file a module path lands in: its longest prefix that is a file.
    fn file_of(&self, module: &[String]) -> Option<usize> {
        (1..=module.len())
            .rev()
            .find_map(|n| self.by_module.get(&module[..n]).copied())
    }

    /// For each file, the other files of the library it names.
    fn file_edges(&self) -> Vec<BTreeSet<usize>> {
        self.files
            .iter()
            .enumerate()
            .map(|(i, file)| {
                named_paths(&file.code)
                    .iter()
                    .filter_map(|p| absolute(p, &file.module))
                    .filter_map(|m| self.file_of(&m))
                    .filter(|&j| j != i)
                    // A parent naming its own children (`mod x; pub use
                    // x::Y`) is the module tree, not an import.
                    .filter(|&j| !self.files[j].module.starts_with(&file.module))
                    .collect()
            })
            .collect()
    }
}

fn top(module: &[String]) -> &str {
    module.first().map(String::as_str).unwrap_or("")
}

#[test]
fn every_top_level_module_has_a_layer() {
    let tree = Tree::library();
    let unplaced: BTreeSet<&str> = tree
        .files
        .iter()
        .map(|f| top(&f.module))
        .filter(|m| !m.is_empty() && rank(m).is_none())
        .collect();
    assert!(
        unplaced.is_empty(),
        "modules with no layer in tests/layers.rs (add them to LAYERS and ARCHITECTURE.md): {unplaced:?}"
    );
}

#[test]
fn no_module_uses_a_layer_above_its_own() {
    let tree = Tree::library();
    let edges = tree.file_edges();
    let mut violations = Vec::new();
    for (i, targets) in edges.iter().enumerate() {
        let from = top(&tree.files[i].module);
        let Some(from_rank) = rank(from) else {
            continue;
        };
        for &j in targets {
            let to = top(&tree.files[j].module);
            if rank(to).is_some_and(|to_rank| to_rank > from_rank) {
                violations.push(format!(
                    "{} uses {} ({} is above {})",
                    tree.files[i].path.display(),
                    tree.files[j].path.display(),
                    to,
                    from
                ));
            }
        }
    }
    assert!(
        violations.is_empty(),
        "lower layers import higher ones:\n{}",
        violations.join("\n")
    );
}

#[test]
fn no_source_files_import_each_other_in_a_cycle() {
    let tree = Tree::library();
    let edges = tree.file_edges();
    let cycles = strongly_connected(&edges)
        .into_iter()
        .filter(|component| component.len() > 1)
        .map(|component| {
            component
                .iter()
                .map(|&i| tree.files[i].path.display().to_string())
                .collect::<Vec<_>>()
                .join(" ↔ ")
        })
        .collect::<Vec<_>>();
    assert!(
        cycles.is_empty(),
        "import cycles between files:\n{}",
        cycles.join("\n")
    );
}

#[test]
fn the_binary_uses_only_the_library_facades() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut bypasses = Vec::new();
    for file in source_files(&root)
        .iter()
        .filter(|f| top(&f.module) == "main" || top(&f.module) == "cli")
    {
        for path in named_paths(&file.code) {
            let Some(module) = path.strip_prefix("rapport::") else {
                continue;
            };
            let module = module.split("::").next().unwrap_or("");
            if !module.is_empty() && !BINARY_MAY_USE.contains(&module) {
                bypasses.push(format!("{} uses rapport::{module}", file.path.display()));
            }
        }
    }
    assert!(
        bypasses.is_empty(),
        "the binary bypasses the library's façades:\n{}",
        bypasses.join("\n")
    );
}

/// The places in `code` where a `Result` has `String` as its error type
/// (`Result<T, String>`, with any `T`, nested generics included).
fn string_errors(code: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut rest = code;
    while let Some(at) = rest.find("Result<") {
        let tail = &rest[at + "Result<".len()..];
        let mut depth = 1usize;
        let mut last_comma = None;
        let mut end = tail.len();
        for (i, c) in tail.char_indices() {
            match c {
                '<' | '(' | '[' => depth += 1,
                '>' | ')' | ']' => {
                    depth -= 1;
                    if depth == 0 {
                        end = i;
                        break;
                    }
                }
                ',' if depth == 1 => last_comma = Some(i),
                _ => {}
            }
        }
        if let Some(comma) = last_comma
            && tail[comma + 1..end].trim() == "String"
        {
            found.push(format!("Result<{}>", &tail[..end]));
        }
        rest = tail;
    }
    found
}

#[test]
fn the_library_returns_typed_errors_not_strings() {
    let offenders: Vec<String> = Tree::library()
        .files
        .iter()
        .flat_map(|f| {
            string_errors(&f.code)
                .into_iter()
                .map(move |r| format!("{}: {r}", f.path.display()))
        })
        .collect();
    assert!(
        offenders.is_empty(),
        "library code must return a thiserror type, not `Result<_, String>`:\n{}",
        offenders.join("\n")
    );
    assert_eq!(
        string_errors("fn f() -> Result<Vec<(u8, u8)>, String> {} fn g() -> Result<String, E> {}"),
        vec!["Result<Vec<(u8, u8)>, String>".to_string()],
        "the checker must see a string error and only that"
    );
}

#[test]
fn the_checker_sees_an_upward_import_and_a_cycle() {
    // The rules above are only as good as the parsing: a planted upward use
    // and a planted cycle must be found.
    let paths = named_paths(
        "use crate::{engine::Rapport, index::{self, search::Query}};\nfn f() { crate::api::serve(); }",
    );
    for expected in [
        "crate::engine::Rapport",
        "crate::index::self",
        "crate::index::search::Query",
        "crate::api::serve",
    ] {
        assert!(
            paths.iter().any(|p| p == expected),
            "{expected} in {paths:?}"
        );
    }
    let code = without_test_code("use a;\n#[cfg(test)]\nmod tests { use crate::api; }\nuse b;");
    assert!(
        !code.contains("crate::api") && code.contains("use b;"),
        "{code}"
    );
    let cyclic = vec![
        BTreeSet::from([1]),
        BTreeSet::from([2]),
        BTreeSet::from([0]),
    ];
    assert!(strongly_connected(&cyclic).iter().any(|c| c.len() == 3));
    let acyclic = vec![BTreeSet::from([1]), BTreeSet::from([2]), BTreeSet::new()];
    assert!(strongly_connected(&acyclic).iter().all(|c| c.len() == 1));
    assert!(rank("api") > rank("store"));
}

/// Tarjan's strongly connected components.
fn strongly_connected(edges: &[BTreeSet<usize>]) -> Vec<Vec<usize>> {
    struct State<'e> {
        edges: &'e [BTreeSet<usize>],
        index: Vec<Option<usize>>,
        low: Vec<usize>,
        on_stack: Vec<bool>,
        stack: Vec<usize>,
        next: usize,
        out: Vec<Vec<usize>>,
    }
    fn visit(s: &mut State, v: usize) {
        s.index[v] = Some(s.next);
        s.low[v] = s.next;
        s.next += 1;
        s.stack.push(v);
        s.on_stack[v] = true;
        for &w in s.edges[v].iter() {
            match s.index[w] {
                None => {
                    visit(s, w);
                    s.low[v] = s.low[v].min(s.low[w]);
                }
                Some(wi) if s.on_stack[w] => s.low[v] = s.low[v].min(wi),
                _ => {}
            }
        }
        if Some(s.low[v]) == s.index[v] {
            let mut component = Vec::new();
            while let Some(w) = s.stack.pop() {
                s.on_stack[w] = false;
                component.push(w);
                if w == v {
                    break;
                }
            }
            s.out.push(component);
        }
    }
    let n = edges.len();
    let mut state = State {
        edges,
        index: vec![None; n],
        low: vec![0; n],
        on_stack: vec![false; n],
        stack: Vec::new(),
        next: 0,
        out: Vec::new(),
    };
    for v in 0..n {
        if state.index[v].is_none() {
            visit(&mut state, v);
        }
    }
    state.out
}
