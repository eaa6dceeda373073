//! Checks the shared vectors in tests/vectors against shoal-core, independently of the
//! generator (which lives in the CLI). The same files are checked by every binding.

use serde_json::Value;
use shoal_core::{
    hash, HashScheme, NodeSpec, PartitionMode, PartitionTable, Ring, TableConfig, ZonePolicy,
};
use shoal_tests::{key, load_vector, u64_of};

fn spec_of(v: &Value) -> NodeSpec {
    let mut s = NodeSpec::new(v["id"].as_str().unwrap()).weight(v["weight"].as_f64().unwrap());
    if let Some(n) = v.get("vnodes").and_then(Value::as_u64) {
        s = s.vnodes(n as u32);
    }
    if let Some(z) = v.get("zone").and_then(Value::as_str) {
        s = s.zone(z);
    }
    s
}

fn check_ring_file(name: &str, scheme: HashScheme) {
    let file = load_vector(name);
    assert_eq!(file["hash"], scheme.name());
    for kp in file["key_positions"].as_array().unwrap() {
        let input = kp["input"].as_str().unwrap().as_bytes();
        let expected = u64_of(&kp["position"]);
        let got = match scheme {
            HashScheme::Xxh3 => hash::key_hash(input),
            HashScheme::Ketama => hash::ketama::key_position(input),
        };
        assert_eq!(got, expected, "{name}: position of {:?}", kp["input"]);
    }
    for vp in file["vnode_points"].as_array().unwrap() {
        let id = vp["id"].as_str().unwrap();
        let v = vp["vnode"].as_u64().unwrap() as u32;
        let want: Vec<u64> = vp["points"]
            .as_array()
            .unwrap()
            .iter()
            .map(u64_of)
            .collect();
        let got: Vec<u64> = match scheme {
            HashScheme::Xxh3 => vec![hash::vnode_point(id.as_bytes(), v)],
            HashScheme::Ketama => hash::ketama::vnode_points(id, v)
                .iter()
                .map(|&p| u64::from(p))
                .collect(),
        };
        assert_eq!(got, want, "{name}: points of {id}/{v}");
    }
    let keys = file["keys"].as_u64().unwrap();
    for case in file["cases"].as_array().unwrap() {
        let cname = case["name"].as_str().unwrap();
        let nodes: Vec<NodeSpec> = case["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .map(spec_of)
            .collect();
        let ids: Vec<String> = nodes.iter().map(|n| n.id.clone()).collect();
        // Insert in reverse order: the layout must not depend on it.
        let mut ring = Ring::with_scheme(scheme, case["vnodes"].as_u64().unwrap() as u32).unwrap();
        for n in nodes.iter().rev() {
            ring.add(n.clone()).unwrap();
        }
        assert_eq!(
            ring.layout_digest(),
            u64_of(&case["layout_digest"]),
            "{name}/{cname}: layout"
        );
        let owners = case["owners"].as_array().unwrap();
        assert_eq!(owners.len() as u64, keys);
        for (i, o) in owners.iter().enumerate() {
            let want = &ids[o.as_u64().unwrap() as usize];
            assert_eq!(
                ring.locate(key(i as u64)),
                Some(want.as_str()),
                "{name}/{cname}: key {i}"
            );
        }
        for (field, policy) in [
            ("replicas3", ZonePolicy::Any),
            ("replicas3_distinct_zones", ZonePolicy::Distinct),
        ] {
            for (i, r) in case[field].as_array().unwrap().iter().enumerate() {
                let want: Vec<&str> = r
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|x| ids[x.as_u64().unwrap() as usize].as_str())
                    .collect();
                assert_eq!(
                    ring.locate_n_with(key(i as u64), 3, policy),
                    want,
                    "{name}/{cname}: {field} of key {i}"
                );
            }
        }
    }
}

#[test]
fn ring_xxh3_vectors() {
    check_ring_file("ring_xxh3.json", HashScheme::Xxh3);
}

#[test]
fn ring_ketama_vectors() {
    check_ring_file("ring_ketama.json", HashScheme::Ketama);
}

fn check_table_file(name: &str, mode: PartitionMode) {
    let file = load_vector(name);
    for case in file["cases"].as_array().unwrap() {
        let cname = case["name"].as_str().unwrap();
        let config = TableConfig {
            partitions: case["partitions"].as_u64().unwrap() as u32,
            vnodes: case["vnodes"].as_u64().unwrap() as u32,
            mode,
        };
        let members: Vec<NodeSpec> = case["members"]
            .as_array()
            .unwrap()
            .iter()
            .map(spec_of)
            .collect();
        let t = PartitionTable::new(config, members.iter().rev().cloned()).unwrap();
        assert_eq!(
            t.digest(),
            u64_of(&case["digest"]),
            "{name}/{cname}: digest"
        );
        let owners: Vec<u32> = case["owners"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_u64().unwrap() as u32)
            .collect();
        assert_eq!(t.owners(), owners.as_slice(), "{name}/{cname}: owners");
        for (i, p) in case["key_partitions"]
            .as_array()
            .unwrap()
            .iter()
            .enumerate()
        {
            assert_eq!(
                u64::from(t.partition_of(key(i as u64))),
                p.as_u64().unwrap(),
                "{name}/{cname}: key {i}"
            );
        }
        let counts: Vec<u32> = case["counts"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_u64().unwrap() as u32)
            .collect();
        assert_eq!(t.stats().counts, counts);
        assert_eq!(t.stats().collisions, case["collisions"].as_u64().unwrap());
    }
}

#[test]
fn partition_classic_vectors() {
    check_table_file("partition_classic.json", PartitionMode::Classic);
}

#[test]
fn partition_balanced_vectors() {
    check_table_file("partition_balanced.json", PartitionMode::Balanced);
}

/// Acceptance: ketama mode agrees with uhashring's ketama ring on every one of 100 000
/// keys for a 10-server weighted list (vectors generated by uhashring itself, see
/// tests/vectors/gen_ketama_uhashring.py).
#[test]
fn ketama_agrees_with_uhashring_on_100k_keys() {
    let file = load_vector("ketama_uhashring.json");
    let servers = file["servers"].as_array().unwrap();
    let names: Vec<&str> = servers
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    let mut ring =
        Ring::with_scheme(HashScheme::Ketama, file["vnodes"].as_u64().unwrap() as u32).unwrap();
    for s in servers {
        ring.add(NodeSpec::new(s["name"].as_str().unwrap()).weight(s["weight"].as_f64().unwrap()))
            .unwrap();
    }
    let per_server: Vec<u64> = file["points_per_server"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_u64().unwrap())
        .collect();
    for (name, want) in names.iter().zip(&per_server) {
        assert_eq!(
            u64::from(ring.node(name).unwrap().vnodes()) * 4,
            *want,
            "points of {name}"
        );
    }
    let owners = file["owners"].as_array().unwrap();
    assert_eq!(owners.len(), 100_000);
    let mut agree = 0;
    for (i, o) in owners.iter().enumerate() {
        if ring.locate(key(i as u64)) == Some(names[o.as_u64().unwrap() as usize]) {
            agree += 1;
        }
    }
    assert_eq!(agree, 100_000, "keys agreeing with uhashring");
}
