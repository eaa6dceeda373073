//! Property tests: order independence, minimal movement, replica distinctness, snapshot
//! round trips.

use proptest::prelude::*;
use shoal_core::{
    HashScheme, NodeSpec, PartitionMode, PartitionTable, Ring, RingSnapshot, TableConfig,
    TableSnapshot, ZonePolicy,
};
use shoal_tests::key;

fn id_set() -> impl Strategy<Value = Vec<String>> {
    prop::collection::btree_set("[a-z0-9:.-]{1,12}", 1..24).prop_map(|s| s.into_iter().collect())
}

fn specs(ids: &[String], weights: &[u8]) -> Vec<NodeSpec> {
    ids.iter()
        .zip(weights.iter().cycle())
        .map(|(id, &w)| {
            NodeSpec::new(id.clone())
                .weight(f64::from(w % 4 + 1) / 2.0)
                .zone(format!("z{}", w % 3))
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn ring_is_independent_of_insertion_order(ids in id_set(), weights in prop::collection::vec(any::<u8>(), 1..8), seed in any::<u64>()) {
        let nodes = specs(&ids, &weights);
        let bulk = Ring::from_nodes(HashScheme::Xxh3, 16, nodes.clone()).unwrap();
        let mut shuffled = nodes.clone();
        // Deterministic shuffle from the seed.
        for i in (1..shuffled.len()).rev() {
            let j = (shoal_core::hash::splitmix64(seed ^ i as u64) % (i as u64 + 1)) as usize;
            shuffled.swap(i, j);
        }
        let mut one_by_one = Ring::with_scheme(HashScheme::Xxh3, 16).unwrap();
        for n in shuffled {
            one_by_one.add(n).unwrap();
        }
        prop_assert_eq!(bulk.layout_digest(), one_by_one.layout_digest());
        prop_assert_eq!(bulk.points(), one_by_one.points());
    }

    #[test]
    fn table_is_independent_of_member_order(ids in id_set(), balanced in any::<bool>(), partitions in 1u32..3000) {
        let mode = if balanced { PartitionMode::Balanced } else { PartitionMode::Classic };
        let config = TableConfig { partitions, vnodes: 10, mode };
        let a = PartitionTable::new(config, ids.iter().map(String::as_str)).unwrap();
        let b = PartitionTable::new(config, ids.iter().rev().map(String::as_str)).unwrap();
        prop_assert_eq!(a.digest(), b.digest());
        prop_assert_eq!(a.owners(), b.owners());
        // Every partition is owned, and the incremental path gives the same table.
        prop_assert!(a.owners().iter().all(|&o| (o as usize) < ids.len()));
        let mut c = PartitionTable::new(config, ids[1..].iter().map(String::as_str)).unwrap();
        c.add(ids[0].as_str()).unwrap();
        prop_assert_eq!(c.digest(), a.digest());
    }

    #[test]
    fn adding_a_node_moves_keys_only_to_it(ids in id_set(), newcomer in "[A-Z]{1,8}") {
        let before = Ring::from_nodes(HashScheme::Xxh3, 32, ids.iter().map(String::as_str)).unwrap();
        let mut after = before.clone();
        after.add(newcomer.as_str()).unwrap();
        for i in 0..2000 {
            let (a, b) = (before.locate(key(i)).unwrap(), after.locate(key(i)).unwrap());
            prop_assert!(a == b || b == newcomer, "key {} moved {} -> {}", i, a, b);
        }
        // The migration plan says the same thing.
        let plan = before.diff(&after).unwrap();
        prop_assert!(plan.moves.iter().all(|m| m.to == newcomer));
    }

    #[test]
    fn removing_a_node_moves_only_its_keys(ids in id_set(), pick in any::<prop::sample::Index>()) {
        prop_assume!(ids.len() >= 2);
        let gone = ids[pick.index(ids.len())].clone();
        let before = Ring::from_nodes(HashScheme::Xxh3, 32, ids.iter().map(String::as_str)).unwrap();
        let mut after = before.clone();
        after.remove(&gone).unwrap();
        for i in 0..2000 {
            let (a, b) = (before.locate(key(i)).unwrap(), after.locate(key(i)).unwrap());
            prop_assert!(a == b || a == gone, "key {} moved {} -> {}", i, a, b);
        }
    }

    #[test]
    fn ketama_add_remove_roundtrip_is_identity(ids in id_set()) {
        let full = Ring::from_nodes(HashScheme::Ketama, 40, ids.iter().map(String::as_str)).unwrap();
        let mut ring = full.clone();
        ring.add("zz-extra").unwrap();
        ring.remove("zz-extra").unwrap();
        prop_assert_eq!(ring.layout_digest(), full.layout_digest());
    }

    #[test]
    fn locate_n_gives_distinct_nodes_and_zones(ids in id_set(), weights in prop::collection::vec(any::<u8>(), 1..8), n in 1usize..30) {
        let ring = Ring::from_nodes(HashScheme::Xxh3, 16, specs(&ids, &weights)).unwrap();
        let zones: std::collections::BTreeSet<_> = ring.nodes().iter().map(|x| x.zone().unwrap()).collect();
        for i in 0..50 {
            let r = ring.locate_n(key(i), n);
            prop_assert_eq!(r.len(), n.min(ids.len()));
            prop_assert_eq!(r[0], ring.locate(key(i)).unwrap());
            let set: std::collections::BTreeSet<_> = r.iter().collect();
            prop_assert_eq!(set.len(), r.len());
            let z = ring.locate_n_with(key(i), n, ZonePolicy::Distinct);
            prop_assert_eq!(z.len(), n.min(zones.len()));
            let zs: std::collections::BTreeSet<_> = z.iter().map(|id| ring.node(id).unwrap().zone().unwrap()).collect();
            prop_assert_eq!(zs.len(), z.len());
        }
    }

    #[test]
    fn ring_snapshot_roundtrips(ids in id_set(), weights in prop::collection::vec(any::<u8>(), 1..8), ketama in any::<bool>()) {
        let scheme = if ketama { HashScheme::Ketama } else { HashScheme::Xxh3 };
        let ring = Ring::from_nodes(scheme, 20, specs(&ids, &weights)).unwrap();
        let snap = ring.snapshot();
        let json = serde_json::to_string(&snap).unwrap();
        let back: RingSnapshot = serde_json::from_str(&json).unwrap();
        prop_assert_eq!(&back, &snap);
        let bytes = postcard::to_allocvec(&snap).unwrap();
        let back2: RingSnapshot = postcard::from_bytes(&bytes).unwrap();
        let restored = Ring::from_snapshot(&back2).unwrap();
        prop_assert_eq!(restored.layout_digest(), ring.layout_digest());
    }

    #[test]
    fn table_snapshot_roundtrips(ids in id_set(), balanced in any::<bool>()) {
        let mode = if balanced { PartitionMode::Balanced } else { PartitionMode::Classic };
        let t = PartitionTable::new(TableConfig { partitions: 512, vnodes: 8, mode }, ids.iter().map(String::as_str)).unwrap();
        let snap = t.snapshot();
        let back: TableSnapshot = serde_json::from_str(&serde_json::to_string(&snap).unwrap()).unwrap();
        prop_assert_eq!(PartitionTable::from_snapshot(&back).unwrap().digest(), t.digest());
        let bytes = postcard::to_allocvec(&snap).unwrap();
        let back2: TableSnapshot = postcard::from_bytes(&bytes).unwrap();
        let restored = PartitionTable::from_snapshot(&back2).unwrap();
        prop_assert_eq!(restored.owners(), t.owners());
    }

    #[test]
    fn locate_many_matches_locate(ids in id_set()) {
        let ring = Ring::from_nodes(HashScheme::Xxh3, 16, ids.iter().map(String::as_str)).unwrap();
        let keys: Vec<String> = (0..300).map(key).collect();
        let many = ring.locate_many(&keys).unwrap();
        for (k, o) in keys.iter().zip(many) {
            prop_assert_eq!(Some(o), ring.locate(k));
        }
    }
}
