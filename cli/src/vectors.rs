//! `shoal vectors write|check DIR`: the shared cross-language test vectors.
//!
//! Every binding's test suite reads these files and must reproduce them exactly. Keys
//! follow the rule `key-{splitmix64(i):016x}`; 64-bit values are decimal strings (safe
//! in JavaScript); owners are indices into the case's `nodes`/`members` list.
//! `ketama_uhashring.json` is not written here: it comes from uhashring itself (see
//! `gen_ketama_uhashring.py` next to it).

use std::path::PathBuf;

use serde_json::{json, Value};
use shoal_core::{
    hash, HashScheme, JumpHash, NodeSpec, PartitionMode, PartitionTable, Placement, Rendezvous,
    Ring, TableConfig, ZonePolicy,
};

use crate::keys;

/// Arguments of `shoal vectors write|check`.
#[derive(clap::Args)]
pub struct Args {
    /// Folder holding the vectors.
    #[arg(default_value = "tests/vectors")]
    dir: PathBuf,
}

/// Keys per case.
const KEYS: u64 = 2000;
/// Keys per case that also get replica vectors.
const REPLICA_KEYS: u64 = 200;

/// Writes every vector file into the folder.
pub fn write(args: Args) -> crate::CliResult {
    std::fs::create_dir_all(&args.dir)?;
    for (name, value) in generate()? {
        let path = args.dir.join(name);
        std::fs::write(&path, render(&value))?;
        println!("wrote {}", path.display());
    }
    Ok(())
}

/// Fails when a vector file differs from what this build generates.
pub fn check(args: Args) -> crate::CliResult {
    let mut stale = Vec::new();
    for (name, value) in generate()? {
        let path = args.dir.join(name);
        let on_disk = std::fs::read_to_string(&path).unwrap_or_default();
        if on_disk != render(&value) {
            stale.push(path.display().to_string());
        }
    }
    if stale.is_empty() {
        println!("vectors in {} match this build", args.dir.display());
        Ok(())
    } else {
        Err(format!(
            "vectors differ from this build: {} (run `shoal vectors write {}` if the change is intended)",
            stale.join(", "),
            args.dir.display()
        )
        .into())
    }
}

fn render(v: &Value) -> String {
    // One entry per line at the top levels, long arrays on one line: diffable and small.
    let mut s = serde_json::to_string_pretty(v).expect("serializable");
    s = collapse_number_arrays(&s);
    s.push('\n');
    s
}

/// Puts arrays of plain numbers/strings of numbers on one line.
fn collapse_number_arrays(pretty: &str) -> String {
    let mut out = String::with_capacity(pretty.len());
    let mut buf: Option<String> = None;
    for line in pretty.lines() {
        let t = line.trim();
        if let Some(b) = buf.as_mut() {
            if t == "]" || t == "]," {
                b.push_str(t);
                out.push_str(b);
                out.push('\n');
                buf = None;
            } else if t.starts_with(['[', '{', ']', '}']) {
                // Not a flat array after all: flush as is.
                out.push_str(&buf.take().unwrap_or_default());
                out.push('\n');
                out.push_str(line);
                out.push('\n');
            } else {
                b.push_str(t);
                if t.ends_with(',') {
                    b.push(' ');
                }
            }
        } else if t.ends_with('[') && !t.starts_with('[') || t == "[" {
            buf = Some(line.to_owned());
        } else {
            out.push_str(line);
            out.push('\n');
        }
    }
    if let Some(b) = buf {
        out.push_str(&b);
    }
    out
}

fn u64s(v: u64) -> Value {
    Value::String(v.to_string())
}

fn node_json(n: &NodeSpec) -> Value {
    let mut o = json!({ "id": n.id, "weight": n.weight });
    if let Some(v) = n.vnodes {
        o["vnodes"] = json!(v);
    }
    if let Some(z) = &n.zone {
        o["zone"] = json!(z);
    }
    o
}

/// All vector files: (file name, contents).
fn generate() -> Result<Vec<(&'static str, Value)>, shoal_core::Error> {
    Ok(vec![
        (
            "ring_xxh3.json",
            ring_file(HashScheme::Xxh3, ring_cases_xxh3())?,
        ),
        (
            "ring_ketama.json",
            ring_file(HashScheme::Ketama, ring_cases_ketama())?,
        ),
        (
            "partition_classic.json",
            table_file(PartitionMode::Classic)?,
        ),
        (
            "partition_balanced.json",
            table_file(PartitionMode::Balanced)?,
        ),
        ("placement_alternatives.json", alternatives_file()?),
    ])
}

/// The position of `id` in `ids` (every owner is one of the case's nodes).
fn index_in(ids: &[&str], id: &str) -> usize {
    ids.iter().position(|x| *x == id).expect("owner is a node")
}

/// Jump hash, weighted rendezvous and bounded-load lookups: owners of the keys.
fn alternatives_file() -> Result<Value, shoal_core::Error> {
    let jump_ids: Vec<String> = (0..10).map(|i| format!("node-{i}")).collect();
    let mut jump = JumpHash::new();
    for id in &jump_ids {
        jump.push(id.clone())?;
    }
    let refs: Vec<&str> = jump_ids.iter().map(String::as_str).collect();
    let jump_owners: Vec<usize> = (0..KEYS)
        .map(|i| {
            index_in(
                &refs,
                jump.locate(keys::key(i).as_bytes()).expect("non-empty"),
            )
        })
        .collect();

    let weights = [1.0, 2.0, 0.5, 1.0, 3.0, 1.5, 1.0, 2.5];
    let rv_nodes: Vec<NodeSpec> = weights
        .iter()
        .enumerate()
        .map(|(i, &w)| NodeSpec::new(format!("agent-{i}")).weight(w))
        .collect();
    let mut rv = Rendezvous::new();
    for n in &rv_nodes {
        rv.add(n.id.clone(), n.weight)?;
    }
    let refs: Vec<&str> = rv_nodes.iter().map(|n| n.id.as_str()).collect();
    let rv_owners: Vec<usize> = (0..KEYS)
        .map(|i| {
            index_in(
                &refs,
                rv.locate(keys::key(i).as_bytes()).expect("non-empty"),
            )
        })
        .collect();

    // Bounded load: keys assigned in order, each to the first node clockwise with
    // room under the capacity ⌈(1+ε)·(m+1)·wᵢ/W⌉; loads count the keys so far.
    let epsilon = 0.25;
    let bl_nodes: Vec<NodeSpec> = (0..10)
        .map(|i| NodeSpec::new(format!("node-{i}")).weight(if i < 2 { 2.0 } else { 1.0 }))
        .collect();
    let ring = Ring::from_nodes(HashScheme::Xxh3, 160, bl_nodes.iter().cloned())?;
    let ids: Vec<&str> = ring.nodes().iter().map(|n| n.id()).collect();
    let refs: Vec<&str> = bl_nodes.iter().map(|n| n.id.as_str()).collect();
    let mut loads = vec![0u64; ring.len()];
    let mut bl_owners = Vec::new();
    for i in 0..KEYS {
        let position = ring.key_position(keys::key(i).as_bytes());
        let at = ring.locate_bounded_index(position, &loads, epsilon)? as usize;
        loads[at] += 1;
        bl_owners.push(index_in(&refs, ids[at]));
    }
    Ok(header(json!({
        "kind": "alternatives",
        "jump": { "nodes": jump_ids, "owners": jump_owners },
        "rendezvous": {
            "nodes": rv_nodes.iter().map(node_json).collect::<Vec<_>>(),
            "owners": rv_owners,
        },
        "bounded_load": {
            "hash": "xxh3",
            "vnodes": 160,
            "epsilon": epsilon,
            "nodes": bl_nodes.iter().map(node_json).collect::<Vec<_>>(),
            "owners": bl_owners,
        },
    })))
}

fn header(extra: Value) -> Value {
    let mut v = json!({
        "format": 1,
        "scheme_version": hash::SCHEME_VERSION,
        "generator": "shoal vectors write (shoal-cli)",
        "key_rule": "key i = \"key-\" + 16 lowercase hex digits of splitmix64(i); u64 values are decimal strings; owners index the case's node list",
        "keys": KEYS,
    });
    if let (Value::Object(a), Value::Object(b)) = (&mut v, extra) {
        a.extend(b);
    }
    v
}

type RingCase = (&'static str, u32, Vec<NodeSpec>);

fn ring_cases_xxh3() -> Vec<RingCase> {
    let uniform: Vec<NodeSpec> = (0..10)
        .map(|i| NodeSpec::new(format!("node-{i}")))
        .collect();
    let zoned: Vec<NodeSpec> = (0..25)
        .map(|i| {
            NodeSpec::new(format!("10.1.{}.{}:7000", i / 5, i % 5))
                .weight([1.0, 0.5, 2.0, 1.5, 1.0][i % 5])
                .zone(format!("zone-{}", i % 3))
        })
        .collect();
    // The source system's agent types with 100/80/120/60 vnodes, two of each.
    let agents: Vec<NodeSpec> = [
        "QueryEngine",
        "MediaEngine",
        "InsightEngine",
        "ReportEngine",
    ]
    .iter()
    .zip([100u32, 80, 120, 60])
    .flat_map(|(kind, v)| (1..=2).map(move |i| NodeSpec::new(format!("{kind}-{i}")).vnodes(v)))
    .collect();
    vec![
        ("uniform-10", 160, uniform),
        ("weighted-zoned-25", 160, zoned),
        ("source-agents", 160, agents),
    ]
}

fn ring_cases_ketama() -> Vec<RingCase> {
    let servers: Vec<NodeSpec> = [1.0, 2.0, 3.0, 1.0, 5.0, 2.0, 1.0, 4.0, 2.0, 3.0]
        .iter()
        .enumerate()
        .map(|(i, &w)| NodeSpec::new(format!("10.0.0.{}:11211", i + 1)).weight(w))
        .collect();
    let plain: Vec<NodeSpec> = (0..5)
        .map(|i| NodeSpec::new(format!("cache-{i}")))
        .collect();
    vec![("weighted-10", 40, servers), ("uniform-5", 40, plain)]
}

fn ring_file(scheme: HashScheme, cases: Vec<RingCase>) -> Result<Value, shoal_core::Error> {
    let mut out = Vec::new();
    for (name, vnodes, specs) in cases {
        let ring = Ring::from_nodes(scheme, vnodes, specs.iter().cloned())?;
        let ids: Vec<&str> = ring.nodes().iter().map(|n| n.id()).collect();
        let owners: Vec<usize> = (0..KEYS)
            .map(|i| ring.locate(keys::key(i)).expect("non-empty"))
            .map(|id| ids.iter().position(|x| *x == id).expect("known"))
            .collect();
        let replicas = |policy| -> Vec<Vec<u32>> {
            (0..REPLICA_KEYS)
                .map(|i| {
                    let mut out = Vec::new();
                    let position = ring.key_position(keys::key(i).as_bytes());
                    ring.locate_n_hash_into(position, 3, policy, &mut out);
                    out
                })
                .collect()
        };
        let any = replicas(ZonePolicy::Any);
        let zones = replicas(ZonePolicy::Distinct);
        let nodes: Vec<Value> = ring.nodes().iter().map(|n| node_json(n.spec())).collect();
        out.push(json!({
            "name": name,
            "vnodes": vnodes,
            "nodes": nodes,
            "vnode_counts": ring.nodes().iter().map(|n| n.vnodes()).collect::<Vec<_>>(),
            "layout_digest": u64s(ring.layout_digest()),
            "owners": owners,
            "replicas3": any,
            "replicas3_distinct_zones": zones,
        }));
    }
    let samples = [
        "",
        "a",
        "key-e220a8397b1dcdaf",
        "user:42",
        "QueryEngine-1",
        "日本語",
    ];
    let hashes: Vec<Value> = samples
        .iter()
        .map(|s| {
            json!({
                "input": s,
                "position": u64s(match scheme {
                    HashScheme::Xxh3 => hash::key_hash(s.as_bytes()),
                    HashScheme::Ketama => hash::ketama::key_position(s.as_bytes()),
                }),
            })
        })
        .collect();
    let points: Vec<Value> = [("node-0", 0u32), ("node-0", 1), ("node-0", 159), ("10.0.0.1:11211", 0)]
        .iter()
        .map(|&(id, v)| match scheme {
            HashScheme::Xxh3 => json!({ "id": id, "vnode": v, "points": [u64s(hash::vnode_point(id.as_bytes(), v))] }),
            HashScheme::Ketama => json!({
                "id": id, "vnode": v,
                "points": hash::ketama::vnode_points(id, v).iter().map(|&p| u64s(u64::from(p))).collect::<Vec<_>>(),
            }),
        })
        .collect();
    Ok(header(json!({
        "kind": "ring",
        "hash": scheme.name(),
        "key_positions": hashes,
        "vnode_points": points,
        "cases": out,
    })))
}

fn table_file(mode: PartitionMode) -> Result<Value, shoal_core::Error> {
    let cases: Vec<(&str, TableConfig, Vec<NodeSpec>)> = vec![
        (
            "source-figure-10x10",
            TableConfig {
                partitions: 4096,
                vnodes: 10,
                mode,
            },
            (0..10)
                .map(|i| NodeSpec::new(format!("node-{i}")))
                .collect(),
        ),
        (
            "weighted-7",
            TableConfig {
                partitions: 1024,
                vnodes: 16,
                mode,
            },
            (0..7)
                .map(|i| {
                    NodeSpec::new(format!("agent-{i}"))
                        .weight([1.0, 2.0, 0.5, 1.0, 1.5, 1.0, 3.0][i])
                })
                .collect(),
        ),
        (
            "hundred-members",
            TableConfig {
                partitions: 4096,
                vnodes: 10,
                mode,
            },
            (0..100)
                .map(|i| NodeSpec::new(format!("m{i:03}")))
                .collect(),
        ),
    ];
    let mut out = Vec::new();
    for (name, config, members) in cases {
        let t = PartitionTable::new(config, members)?;
        let key_partitions: Vec<u32> = (0..KEYS).map(|i| t.partition_of(keys::key(i))).collect();
        let stats = t.stats();
        out.push(json!({
            "name": name,
            "partitions": config.partitions,
            "vnodes": config.vnodes,
            "mode": mode.name(),
            "members": t.members().iter().map(node_json).collect::<Vec<_>>(),
            "digest": u64s(t.digest()),
            "counts": stats.counts,
            "claims": stats.claims,
            "collisions": stats.collisions,
            "key_partitions": key_partitions,
            "owners": t.owners(),
        }));
    }
    Ok(header(
        json!({ "kind": "partition_table", "mode": mode.name(), "cases": out }),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn collapsed_json_is_still_the_same_json() {
        let v = json!({"a": [1, 2, 3], "b": {"c": [["x"], ["y", "z"]], "d": []}, "e": "s"});
        let s = collapse_number_arrays(&serde_json::to_string_pretty(&v).unwrap());
        let back: Value = serde_json::from_str(&s).unwrap();
        assert_eq!(back, v);
        assert!(s.contains("[1, 2, 3]"));
    }

    #[test]
    fn generation_is_deterministic() {
        let a: Vec<String> = generate().unwrap().iter().map(|(_, v)| render(v)).collect();
        let b: Vec<String> = generate().unwrap().iter().map(|(_, v)| render(v)).collect();
        assert_eq!(a, b);
    }
}
