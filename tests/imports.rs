//! The plugin's modules form layers, not a circle: every `crate::` (and `super::super::`) path in
//! `src/` is an edge between top-level modules, and the graph must have no cycle. `boundary`, what
//! both sides of the thread boundary share, imports nothing of the crate; `rt` and `bridge` never
//! import each other. Reads the source text, so it needs no extra tool (`cargo modules` is not in CI).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Top-level module → the top-level modules its files name.
type Graph = BTreeMap<String, BTreeSet<String>>;

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The module path of a file under `src/`: `rt/capture.rs` → `[rt, capture]`, `rt/mod.rs` → `[rt]`.
fn module_path(rel: &Path) -> Vec<String> {
    let mut parts: Vec<String> = rel.iter().map(|p| p.to_string_lossy().into_owned()).collect();
    let last = parts.pop().unwrap();
    let stem = last.trim_end_matches(".rs");
    if stem != "mod" && stem != "lib" {
        parts.push(stem.to_string());
    }
    parts
}

/// The text without `//` comments (doc links are not imports).
fn code(text: &str) -> String {
    text.lines().map(|l| l.split("//").next().unwrap_or("")).collect::<Vec<_>>().join("\n")
}

fn ident_at(s: &str) -> String {
    s.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect()
}

/// The first segments named by the path that starts at `s`: `a::b` → `[a]`, `{a::b, c}` → `[a, c]`.
fn first_segments(s: &str) -> Vec<String> {
    let s = s.trim_start();
    let Some(group) = s.strip_prefix('{') else { return vec![ident_at(s)] };
    let (mut depth, mut out, mut start) = (0usize, Vec::new(), true);
    for (i, c) in group.char_indices() {
        match c {
            '{' => depth += 1,
            '}' if depth == 0 => break,
            '}' => depth -= 1,
            ',' if depth == 0 => start = true,
            c if start && !c.is_whitespace() => {
                out.push(ident_at(&group[i..]));
                start = false;
            }
            _ => {}
        }
    }
    out
}

/// The top-level modules `text` (a file at `path`) names outside its own.
fn references(path: &[String], text: &str) -> BTreeSet<String> {
    let text = code(text);
    let mut out = BTreeSet::new();
    for (i, _) in text.match_indices("crate::") {
        // `redance_engine::`, `$crate::` and the like are other crates.
        if text[..i].chars().next_back().is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '$') {
            continue;
        }
        out.extend(first_segments(&text[i + "crate::".len()..]));
    }
    for (i, _) in text.match_indices("super::") {
        if text[..i].ends_with("super::") || text[..i].chars().next_back().is_some_and(|c| c.is_alphanumeric()) {
            continue;
        }
        let mut rest = &text[i..];
        let mut ups = 0;
        while let Some(r) = rest.strip_prefix("super::") {
            rest = r;
            ups += 1;
        }
        // `mod.rs` files are their module: `super` from `rt/capture.rs` is `rt`, from `rt/mod.rs` the crate.
        if ups >= path.len() {
            out.extend(first_segments(rest));
        }
    }
    out.retain(|m| path.first() != Some(m));
    out
}

fn graph() -> Graph {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut modules = BTreeSet::new();
    for f in &files {
        let path = module_path(f.strip_prefix(&src).unwrap());
        if let Some(top) = path.first() {
            modules.insert(top.clone());
        }
    }
    modules.remove("bin"); // binaries are crates of their own: `crate::` there is not the library
    let mut graph = Graph::new();
    for f in &files {
        let path = module_path(f.strip_prefix(&src).unwrap());
        let Some(top) = path.first().cloned() else { continue }; // lib.rs declares every module
        if top == "bin" {
            continue;
        }
        let text = std::fs::read_to_string(f).unwrap();
        let refs = references(&path, &text).into_iter().filter(|m| modules.contains(m));
        graph.entry(top).or_default().extend(refs);
    }
    for m in modules {
        graph.entry(m).or_default();
    }
    graph
}

/// A cycle in `graph`, as the modules along it, if there is one.
fn find_cycle(graph: &Graph) -> Option<Vec<String>> {
    fn visit(m: &str, graph: &Graph, stack: &mut Vec<String>, done: &mut BTreeSet<String>) -> Option<Vec<String>> {
        if let Some(at) = stack.iter().position(|s| s == m) {
            let mut cycle = stack[at..].to_vec();
            cycle.push(m.to_string());
            return Some(cycle);
        }
        if done.contains(m) {
            return None;
        }
        stack.push(m.to_string());
        for next in &graph[m] {
            if let Some(c) = visit(next, graph, stack, done) {
                return Some(c);
            }
        }
        stack.pop();
        done.insert(m.to_string());
        None
    }
    let mut done = BTreeSet::new();
    graph.keys().find_map(|m| visit(m, graph, &mut Vec::new(), &mut done))
}

#[test]
fn no_import_circle_in_src() {
    let graph = graph();
    for (m, deps) in &graph {
        println!("{m} -> {}", deps.iter().cloned().collect::<Vec<_>>().join(", "));
    }
    if let Some(cycle) = find_cycle(&graph) {
        panic!("import circle in src/: {}", cycle.join(" -> "));
    }
}

#[test]
fn boundary_is_a_leaf_and_rt_and_bridge_do_not_meet() {
    let graph = graph();
    assert_eq!(graph.get("boundary"), Some(&BTreeSet::new()), "boundary must import nothing of the crate");
    assert!(!graph["rt"].contains("bridge"), "rt imports bridge");
    assert!(!graph["bridge"].contains("rt"), "bridge imports rt");
}

#[test]
fn the_checker_sees_imports() {
    let path = vec!["rt".to_string(), "capture".to_string()];
    let text = "use crate::{boundary::{A, B}, status::Status};\nuse super::super::bridge::X;\n\
                // crate::params is a comment\nlet e = redance_engine::x; let c = $crate::y;";
    let refs: Vec<String> = references(&path, text).into_iter().collect();
    assert_eq!(refs, ["boundary", "bridge", "status"]);
    let mut g = Graph::new();
    g.insert("a".into(), ["b".to_string()].into());
    g.insert("b".into(), ["a".to_string()].into());
    assert_eq!(find_cycle(&g), Some(vec!["a".to_string(), "b".to_string(), "a".to_string()]));
}
