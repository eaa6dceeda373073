//! The libraries under test and the scenarios run on them.
//!
//! Every library gets the same node ids (`node-{i}`) and the same keys; every per-key
//! measurement hashes the key inside the timed loop.

use std::collections::HashMap;
use std::hint::black_box;

use consistent_hash_ring::RingBuilder;
use hashring::HashRing;
use shoal_core::{
    HashScheme, JumpHash, PartitionMode, PartitionTable, Placement, Rendezvous, Ring, TableConfig,
    ZonePolicy,
};

use super::measure::{self, Budget, Sample};

/// What to run.
#[derive(Debug, Clone)]
pub struct Plan {
    /// Number of shared keys.
    pub keys: usize,
    /// Vnodes per node for every ring.
    pub vnodes: u32,
    /// Node counts of the lookup scenarios.
    pub lookup_nodes: Vec<u32>,
    /// Node count at which the partition table is added to the lookup scenario.
    pub partition_nodes: u32,
    /// Node counts of the replica scenarios.
    pub replica_nodes: Vec<u32>,
    /// Distinct replicas per key.
    pub replicas: usize,
    /// Node count of the build scenario.
    pub build_nodes: u32,
    /// Keys used for the (untimed) correctness checks of replica results.
    pub check_keys: usize,
    /// Timing budget.
    pub budget: Budget,
}

impl Plan {
    /// Number of scenarios the plan produces.
    pub fn scenario_count(&self) -> usize {
        self.lookup_nodes.len() + self.replica_nodes.len() + 1
    }
}

/// The role of a row in its scenario.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// The shoal row every ratio of the scenario is relative to.
    Anchor,
    /// Another shoal row (for information).
    Shoal,
    /// Another crate.
    Competitor,
}

/// One measured (or unavailable) library/API in a scenario.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Row {
    /// Library (crate and type).
    pub library: String,
    /// The call that was timed.
    pub api: String,
    /// Anchor, other shoal row, or competitor.
    pub kind: Kind,
    /// Median ns per operation (`None` when the library has no such API).
    pub ns_per_op: Option<f64>,
    /// `ns_per_op / anchor ns_per_op` (1 for the anchor; > 1 means slower than shoal).
    pub ratio_to_shoal: Option<f64>,
    /// Fastest batch, ns per operation.
    pub min_ns_per_op: Option<f64>,
    /// Slowest batch, ns per operation.
    pub max_ns_per_op: Option<f64>,
    /// Timed batches.
    pub batches: usize,
    /// Operations per batch.
    pub ops_per_batch: usize,
    /// Caveats (what the library really does, or why it is missing).
    pub note: Option<String>,
}

impl Row {
    fn timed(library: &str, api: &str, kind: Kind, s: Sample, note: Option<String>) -> Row {
        Row {
            library: library.to_owned(),
            api: api.to_owned(),
            kind,
            ns_per_op: Some(s.median_ns),
            ratio_to_shoal: None,
            min_ns_per_op: Some(s.min_ns),
            max_ns_per_op: Some(s.max_ns),
            batches: s.batches,
            ops_per_batch: s.ops_per_batch,
            note,
        }
    }

    fn missing(library: &str, note: &str) -> Row {
        Row {
            library: library.to_owned(),
            api: "-".to_owned(),
            kind: Kind::Competitor,
            ns_per_op: None,
            ratio_to_shoal: None,
            min_ns_per_op: None,
            max_ns_per_op: None,
            batches: 0,
            ops_per_batch: 0,
            note: Some(note.to_owned()),
        }
    }
}

/// One scenario: a table of rows.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Scenario {
    /// Stable id, e.g. `lookup-n100`.
    pub id: String,
    /// Human title.
    pub title: String,
    /// Nodes in every ring of the scenario.
    pub nodes: u32,
    /// What one operation is.
    pub unit: &'static str,
    /// The rows, anchor first.
    pub rows: Vec<Row>,
    /// Scenario-wide remarks.
    pub notes: Vec<String>,
}

impl Scenario {
    /// Fills `ratio_to_shoal` of every timed row from the anchor row.
    fn finish(mut self) -> Scenario {
        let anchor = self
            .rows
            .iter()
            .find(|r| r.kind == Kind::Anchor)
            .and_then(|r| r.ns_per_op);
        for r in &mut self.rows {
            r.ratio_to_shoal = match (r.ns_per_op, anchor) {
                (Some(t), Some(a)) if a > 0.0 => Some(t / a),
                _ => None,
            };
        }
        self
    }
}

type BoxError = Box<dyn std::error::Error>;

// Library labels (kept identical across scenarios).
const SHOAL_RING: &str = "shoal Ring (xxh3)";
const SHOAL_KETAMA: &str = "shoal Ring (ketama, MD5)";
const HASHRING: &str = "hashring 0.3.6 (SipHash-2-4)";
const CHR: &str = "consistent_hash_ring 0.8.0 (FNV-1a)";
const JUMPHASH: &str = "jumphash 0.1.9 (SipHash-1-3)";
const SHOAL_JUMP: &str = "shoal JumpHash (xxh3)";
const SHOAL_RENDEZVOUS: &str = "shoal Rendezvous (xxh3)";
const SHOAL_PARTITIONS: &str = "shoal PartitionTable";

/// A hashring entry: one virtual node of a physical node, the way the crate's docs build
/// vnodes on top of `HashRing` (a hashable (node, index) value per vnode).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct HrVnode<'a> {
    node: &'a str,
    vnode: u32,
}

/// The node ids `node-0 .. node-{n-1}`.
pub fn node_ids(n: u32) -> Vec<String> {
    (0..n).map(|i| format!("node-{i}")).collect()
}

fn build_shoal(ids: &[String], vnodes: u32) -> shoal_core::Result<Ring> {
    Ring::from_nodes(HashScheme::Xxh3, vnodes, ids.iter().map(String::as_str))
}

/// Ketama vnodes are 4 points each, so `vnodes / 4` of them give the same point count.
fn ketama_vnodes(vnodes: u32) -> u32 {
    (vnodes / 4).max(1)
}

fn build_ketama(ids: &[String], vnodes: u32) -> shoal_core::Result<Ring> {
    Ring::from_nodes(
        HashScheme::Ketama,
        ketama_vnodes(vnodes),
        ids.iter().map(String::as_str),
    )
}

fn build_hashring(ids: &[String], vnodes: u32) -> HashRing<HrVnode<'_>> {
    let mut ring = HashRing::new();
    ring.batch_add(
        ids.iter()
            .flat_map(|id| (0..vnodes).map(move |v| HrVnode { node: id, vnode: v }))
            .collect(),
    );
    ring
}

fn build_chr(ids: &[String], vnodes: u32) -> consistent_hash_ring::Ring<&str> {
    RingBuilder::default()
        .vnodes(vnodes as usize)
        .nodes_iter(ids.iter().map(String::as_str))
        .build()
}

/// Every structure under test, built over the same ids.
struct Fixture<'a> {
    ids: &'a [String],
    ring: Ring,
    ketama: Ring,
    hashring: HashRing<HrVnode<'a>>,
    chr: consistent_hash_ring::Ring<&'a str>,
    jump: jumphash::JumpHasher,
    shoal_jump: JumpHash,
    rendezvous: Rendezvous,
}

/// The four vnode rings over one id set (what the build scenario makes).
struct Rings<'a> {
    ring: Ring,
    ketama: Ring,
    hashring: HashRing<HrVnode<'a>>,
    chr: consistent_hash_ring::Ring<&'a str>,
}

impl<'a> Fixture<'a> {
    fn new(ids: &'a [String], vnodes: u32) -> Result<Self, BoxError> {
        let rings = Rings {
            ring: build_shoal(ids, vnodes)?,
            ketama: build_ketama(ids, vnodes)?,
            hashring: build_hashring(ids, vnodes),
            chr: build_chr(ids, vnodes),
        };
        Fixture::assemble(ids, vnodes, rings)
    }

    fn assemble(ids: &'a [String], vnodes: u32, rings: Rings<'a>) -> Result<Self, BoxError> {
        let mut shoal_jump = JumpHash::new();
        let mut rendezvous = Rendezvous::new();
        for id in ids {
            shoal_jump.push(id.as_str())?;
            rendezvous.add(id.as_str(), 1.0)?;
        }
        let fx = Fixture {
            ids,
            ring: rings.ring,
            ketama: rings.ketama,
            hashring: rings.hashring,
            chr: rings.chr,
            // Fixed keys: deterministic slots (the crate's `new()` seeds randomly).
            jump: jumphash::JumpHasher::new_with_keys(0, 0),
            shoal_jump,
            rendezvous,
        };
        let n = ids.len();
        let points = n * vnodes as usize;
        if fx.ring.point_count() != points
            || fx.hashring.len() != points
            || fx.chr.vnodes() != points
            || fx.chr.len() != n
            || fx.ketama.point_count() != n * 4 * ketama_vnodes(vnodes) as usize
        {
            return Err(format!(
                "fixture mismatch at n={n}: shoal {} points, ketama {}, hashring {}, consistent_hash_ring {} vnodes / {} nodes",
                fx.ring.point_count(),
                fx.ketama.point_count(),
                fx.hashring.len(),
                fx.chr.vnodes(),
                fx.chr.len()
            )
            .into());
        }
        Ok(fx)
    }
}

/// Runs every scenario of the plan, calling `progress(title)` before each.
pub fn run_all(plan: &Plan, mut progress: impl FnMut(&str)) -> Result<Vec<Scenario>, BoxError> {
    if plan.keys == 0 || plan.replicas == 0 || plan.vnodes == 0 {
        return Err("keys, replicas and vnodes must be positive".into());
    }
    let keys = crate::keys::keys(plan.keys as u64);
    let mut sizes: Vec<u32> = plan
        .lookup_nodes
        .iter()
        .chain(&plan.replica_nodes)
        .copied()
        .chain([plan.build_nodes])
        .collect();
    sizes.sort_unstable();
    sizes.dedup();
    if sizes.first().is_none_or(|&n| n == 0) {
        return Err("node counts must be positive".into());
    }
    let id_sets: HashMap<u32, Vec<String>> = sizes.iter().map(|&n| (n, node_ids(n))).collect();

    // The build scenario runs first (its output is still printed last) so the rings it
    // builds are reused by the lookups: consistent_hash_ring's build is quadratic.
    let title = format!("build, {} nodes x {} vnodes", plan.build_nodes, plan.vnodes);
    progress(&title);
    let build_ids = &id_sets[&plan.build_nodes];
    let (build_scenario, built) = build(plan, build_ids, title)?;

    let mut fixtures: HashMap<u32, Fixture<'_>> = HashMap::new();
    let mut built = Some(built);
    for &n in plan.lookup_nodes.iter().chain(&plan.replica_nodes) {
        if fixtures.contains_key(&n) {
            continue;
        }
        let fx = match built.take() {
            Some(rings) if n == plan.build_nodes => {
                Fixture::assemble(build_ids, plan.vnodes, rings)?
            }
            other => {
                built = other;
                Fixture::new(&id_sets[&n], plan.vnodes)?
            }
        };
        fixtures.insert(n, fx);
    }
    drop(built);

    let mut out = Vec::with_capacity(plan.scenario_count());
    for &n in &plan.lookup_nodes {
        let title = format!("lookup, {n} nodes x {} vnodes", plan.vnodes);
        progress(&title);
        out.push(lookup(plan, &keys, &fixtures[&n], n, title)?);
    }
    for &n in &plan.replica_nodes {
        let title = format!(
            "{} distinct replicas, {n} nodes x {} vnodes",
            plan.replicas, plan.vnodes
        );
        progress(&title);
        out.push(replicas(plan, &keys, &fixtures[&n], n, title)?);
    }
    out.push(build_scenario);
    Ok(out)
}

fn lookup(
    plan: &Plan,
    keys: &[String],
    fx: &Fixture<'_>,
    n: u32,
    title: String,
) -> Result<Scenario, BoxError> {
    let b = &plan.budget;
    let mut rows = Vec::new();
    let s = measure::per_key(keys, b, |k| {
        black_box(fx.ring.locate(k));
    });
    rows.push(Row::timed(SHOAL_RING, "locate(key)", Kind::Anchor, s, None));

    let s = measure::per_key(keys, b, |k| {
        black_box(fx.hashring.get(&k).map(|v| v.node));
    });
    rows.push(Row::timed(
        HASHRING,
        "get(&key)",
        Kind::Competitor,
        s,
        Some(format!(
            "{} entries per node ((id, i) vnode values)",
            plan.vnodes
        )),
    ));

    let s = measure::per_key(keys, b, |k| {
        black_box(fx.chr.try_get(k));
    });
    rows.push(Row::timed(
        CHR,
        "try_get(key)",
        Kind::Competitor,
        s,
        Some(format!("RingBuilder::vnodes({})", plan.vnodes)),
    ));

    let s = measure::per_key(keys, b, |k| {
        let slot = fx.jump.slot(&k, n);
        black_box(fx.ids[slot as usize].as_str());
    });
    rows.push(Row::timed(
        JUMPHASH,
        "slot(&key, n) + id",
        Kind::Competitor,
        s,
        Some("jump: no vnodes, n buckets".to_owned()),
    ));

    let s = measure::per_key(keys, b, |k| {
        black_box(Placement::locate(&fx.shoal_jump, k.as_bytes()));
    });
    rows.push(Row::timed(
        SHOAL_JUMP,
        "locate(key)",
        Kind::Shoal,
        s,
        Some("jump: no vnodes, n buckets".to_owned()),
    ));

    let s = measure::per_key(keys, b, |k| {
        black_box(fx.ketama.locate(k));
    });
    rows.push(Row::timed(
        SHOAL_KETAMA,
        "locate(key)",
        Kind::Shoal,
        s,
        Some(format!(
            "info: {} vnodes x 4 points = {} points/node, libketama-compatible",
            ketama_vnodes(plan.vnodes),
            4 * ketama_vnodes(plan.vnodes)
        )),
    ));

    let s = measure::per_key(keys, b, |k| {
        black_box(Placement::locate(&fx.rendezvous, k.as_bytes()));
    });
    rows.push(Row::timed(
        SHOAL_RENDEZVOUS,
        "locate(key)",
        Kind::Shoal,
        s,
        Some("info: O(n) per lookup".to_owned()),
    ));

    if n == plan.partition_nodes {
        let config = TableConfig {
            partitions: 4096,
            vnodes: 10,
            mode: PartitionMode::Classic,
        };
        let table = PartitionTable::new(config, fx.ids.iter().map(String::as_str))?;
        let s = measure::per_key(keys, b, |k| {
            black_box(table.locate(k));
        });
        rows.push(Row::timed(
            SHOAL_PARTITIONS,
            "locate(key)",
            Kind::Shoal,
            s,
            Some("info: P = 4096, 10 vnodes/node, classic".to_owned()),
        ));
    }

    Ok(Scenario {
        id: format!("lookup-n{n}"),
        title,
        nodes: n,
        unit: "ns per key (hashing included)",
        rows,
        notes: vec![
            "single thread; each op hashes a key-{splitmix64(i):016x} string and finds its owner"
                .to_owned(),
        ],
    }
    .finish())
}

fn distinct(ids: &[&str]) -> bool {
    ids.iter()
        .enumerate()
        .all(|(i, a)| ids[..i].iter().all(|b| a != b))
}

fn replicas(
    plan: &Plan,
    keys: &[String],
    fx: &Fixture<'_>,
    n: u32,
    title: String,
) -> Result<Scenario, BoxError> {
    let b = &plan.budget;
    let r = plan.replicas;
    let want = r.min(n as usize);
    let check = &keys[..plan.check_keys.clamp(1, keys.len())];

    // Untimed correctness checks: the APIs compared really return `want` distinct nodes.
    let mut buf: Vec<u32> = Vec::with_capacity(r);
    for k in check {
        let owned = fx.ring.locate_n(k, r);
        fx.ring.locate_n_hash_into(
            fx.ring.key_position(k.as_bytes()),
            r,
            ZonePolicy::Any,
            &mut buf,
        );
        let via_into: Vec<&str> = buf
            .iter()
            .map(|&i| fx.ring.nodes()[i as usize].id())
            .collect();
        let chr: Vec<&str> = fx.chr.replicas(k.as_str()).take(r).copied().collect();
        if owned.len() != want || !distinct(&owned) || owned != via_into {
            return Err(format!("shoal locate_n gave {owned:?} / {via_into:?} for {k}").into());
        }
        if owned.first().copied() != fx.ring.locate(k) {
            return Err(format!("shoal locate_n primary differs from locate for {k}").into());
        }
        if chr.len() != want || !distinct(&chr) {
            return Err(format!("consistent_hash_ring replicas gave {chr:?} for {k}").into());
        }
    }
    let hashring_distinct = check
        .iter()
        .filter(|k| {
            fx.hashring
                .get_with_replicas(&k.as_str(), r - 1)
                .map(|v| distinct(&v.iter().map(|e| e.node).collect::<Vec<_>>()))
                .unwrap_or(false)
        })
        .count();

    let mut rows = Vec::new();
    let s = measure::per_key(keys, b, |k| {
        black_box(fx.ring.locate_n(k, r));
    });
    rows.push(Row::timed(
        SHOAL_RING,
        &format!("locate_n(key, {r})"),
        Kind::Anchor,
        s,
        Some("returns Vec<&str>".to_owned()),
    ));

    let s = measure::per_key(keys, b, |k| {
        fx.ring.locate_n_hash_into(
            fx.ring.key_position(k.as_bytes()),
            r,
            ZonePolicy::Any,
            &mut buf,
        );
        black_box(buf.as_slice());
    });
    rows.push(Row::timed(
        SHOAL_RING,
        &format!("locate_n_hash_into(pos, {r}, Any, &mut buf)"),
        Kind::Shoal,
        s,
        Some("allocation-free, node indices".to_owned()),
    ));

    let s = measure::per_key(keys, b, |k| {
        for node in fx.chr.replicas(k).take(r) {
            black_box(node);
        }
    });
    rows.push(Row::timed(
        CHR,
        &format!("replicas(key).take({r})"),
        Kind::Competitor,
        s,
        Some("distinct nodes; iterator allocates a seen-set of capacity n".to_owned()),
    ));

    let s = measure::per_key(keys, b, |k| {
        black_box(fx.hashring.get_with_replicas(&k, r - 1));
    });
    rows.push(Row::timed(
        HASHRING,
        &format!("get_with_replicas(&key, {})", r - 1),
        Kind::Competitor,
        s,
        Some(format!(
            "NOT distinct nodes: the next {r} ring entries (only {:.1}% of {} checked keys got {want} distinct nodes); clones the whole ring per call",
            100.0 * hashring_distinct as f64 / check.len() as f64,
            check.len()
        )),
    ));

    rows.push(Row::missing(
        JUMPHASH,
        "no replica API (jump hash gives one bucket per key)",
    ));

    Ok(Scenario {
        id: format!("replicas{r}-n{n}"),
        title,
        nodes: n,
        unit: "ns per key (hashing included)",
        rows,
        notes: vec![format!(
            "shoal and consistent_hash_ring results checked on {} keys: {want} distinct nodes each",
            check.len()
        )],
    }
    .finish())
}

fn build<'a>(
    plan: &Plan,
    ids: &'a [String],
    title: String,
) -> Result<(Scenario, Rings<'a>), BoxError> {
    let b = &plan.budget;
    let v = plan.vnodes;

    let mut rows = Vec::new();
    let (s, ring) = measure::per_call(b, || build_shoal(ids, v));
    rows.push(Row::timed(
        SHOAL_RING,
        &format!("Ring::from_nodes(Xxh3, {v}, ids)"),
        Kind::Anchor,
        s,
        None,
    ));
    let (s, hashring) = measure::per_call(b, || build_hashring(ids, v));
    rows.push(Row::timed(
        HASHRING,
        "batch_add(n x vnodes entries)",
        Kind::Competitor,
        s,
        Some("one push per entry, then one sort".to_owned()),
    ));
    let (s, chr) = measure::per_call(b, || build_chr(ids, v));
    rows.push(Row::timed(
        CHR,
        &format!("RingBuilder::vnodes({v}).nodes_iter(ids).build()"),
        Kind::Competitor,
        s,
        Some("sorted-Vec insert per vnode (quadratic)".to_owned()),
    ));
    let (s, ketama) = measure::per_call(b, || build_ketama(ids, v));
    rows.push(Row::timed(
        SHOAL_KETAMA,
        &format!("Ring::from_nodes(Ketama, {}, ids)", ketama_vnodes(v)),
        Kind::Shoal,
        s,
        Some(format!("info: {} points/node, MD5", 4 * ketama_vnodes(v))),
    ));
    let rings = Rings {
        ring: ring?,
        ketama: ketama?,
        hashring,
        chr,
    };

    let builds: Vec<usize> = rows.iter().map(|r| r.batches).collect();
    let scenario = Scenario {
        id: format!("build-n{}", ids.len()),
        title,
        nodes: ids.len() as u32,
        unit: "ns per build",
        rows,
        notes: vec![
            format!(
                "timed builds per row: {builds:?} (slow builds are capped by the time budget); the result is dropped outside the timed region"
            ),
            "competitor rings hold borrowed &str ids (their cheapest option); shoal copies the ids"
                .to_owned(),
            "the last ring built here is the one the lookup/replica scenarios use".to_owned(),
        ],
    }
    .finish();
    Ok((scenario, rings))
}
