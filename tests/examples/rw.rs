use shoal_core::{HashScheme, PartitionMode, PartitionTable, Ring, TableConfig};
use shoal_tests::key;
fn counts(r: &Ring, n: u64) -> Vec<f64> {
    let mut c = vec![0f64; r.len()];
    for i in 0..n {
        c[r.index_of(r.locate(key(i)).unwrap()).unwrap()] += 1.0;
    }
    c
}
fn ptm(c: &[f64]) -> f64 {
    let s: f64 = c.iter().sum();
    c.iter().cloned().fold(0.0, f64::max) / (s / c.len() as f64)
}
fn main() {
    for v in [10u32, 20, 40, 100] {
        for damp in [0.5, 1.0] {
            let mut ring =
                Ring::from_nodes(HashScheme::Xxh3, v, (0..20).map(|i| format!("node-{i}")))
                    .unwrap();
            let mut line = format!("V={v} d={damp}: {:.3}", ptm(&counts(&ring, 200_000)));
            for _ in 0..5 {
                let w = ring
                    .suggest_weights(&counts(&ring, 200_000), None, damp)
                    .unwrap();
                let ids: Vec<String> = ring.nodes().iter().map(|n| n.id().to_owned()).collect();
                for (id, w) in ids.iter().zip(w) {
                    ring.set_weight(id, w).unwrap();
                }
                line += &format!(" -> {:.3}", ptm(&counts(&ring, 200_000)));
            }
            println!("{line}");
        }
    }
    for n in [10usize, 50, 100] {
        let config = TableConfig {
            mode: PartitionMode::Balanced,
            ..TableConfig::default()
        };
        let cc = TableConfig {
            mode: PartitionMode::Classic,
            ..TableConfig::default()
        };
        let ids: Vec<String> = (0..n).map(|i| format!("m{i}")).collect();
        let t = PartitionTable::new(config, ids.iter().map(String::as_str)).unwrap();
        let j = t.with_member("newcomer").unwrap();
        let c = PartitionTable::new(cc, ids.iter().map(String::as_str)).unwrap();
        let cj = c.with_member("newcomer").unwrap();
        let l = t.without_member("m7").unwrap();
        println!("n={n} balanced join moved {} classic join moved {} ideal {:.0}; leave moved {} ideal {:.0}", t.diff(&j).unwrap().len(), c.diff(&cj).unwrap().len(), 4096.0/(n as f64+1.0), t.diff(&l).unwrap().len(), 4096.0/n as f64);
    }
}
