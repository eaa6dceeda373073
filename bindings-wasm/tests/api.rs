//! The WASM API in a WebAssembly host (`make test-wasm` runs these under Node with
//! wasm-bindgen-test-runner): errors are the right JavaScript classes with codes,
//! keys read as strings and bytes alike, and the visualizer's calls agree with the
//! plain lookups.
#![cfg(target_arch = "wasm32")]

use js_sys::{Array, Reflect, Uint8Array};
use shoal_wasm::{sample_key, GossipSim, JumpHash, PartitionTable, Rendezvous, Ring};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_test::wasm_bindgen_test;

fn code(e: &JsValue) -> String {
    Reflect::get(e, &"code".into())
        .ok()
        .and_then(|c| c.as_string())
        .unwrap_or_default()
}

fn obj(fields: &[(&str, JsValue)]) -> JsValue {
    let o = js_sys::Object::new();
    for (k, v) in fields {
        Reflect::set(&o, &(*k).into(), v).unwrap();
    }
    o.into()
}

fn ring(n: usize) -> Ring {
    let mut r = Ring::new(None, None).unwrap();
    for i in 0..n {
        r.add(format!("node-{i}"), None).unwrap();
    }
    r
}

#[wasm_bindgen_test]
fn errors_are_typed_with_codes() {
    let mut r = ring(3);
    let dup = r.add("node-1".into(), None).unwrap_err();
    assert!(dup.is_instance_of::<js_sys::RangeError>());
    assert_eq!(code(&dup), "ERR_SHOAL_INVALID_ARGUMENT");
    let unknown = r.remove("nope").unwrap_err();
    assert!(unknown.is_instance_of::<js_sys::RangeError>());
    assert_eq!(code(&unknown), "ERR_SHOAL_UNKNOWN_NODE");
    let bad_key = r.locate(JsValue::from_f64(3.0)).unwrap_err();
    assert!(bad_key.is_instance_of::<js_sys::TypeError>());
    assert_eq!(code(&bad_key), "ERR_SHOAL_INVALID_TYPE");
    let bad_weight = r
        .add(
            "w".into(),
            Some(obj(&[("weight", JsValue::from_f64(-1.0))])),
        )
        .unwrap_err();
    assert_eq!(code(&bad_weight), "ERR_SHOAL_INVALID_ARGUMENT");
    let bad_option = r
        .add("w".into(), Some(obj(&[("weight", "heavy".into())])))
        .unwrap_err();
    assert!(bad_option.is_instance_of::<js_sys::TypeError>());
    assert_eq!(r.size(), 3, "failed calls leave the ring unchanged");
    let empty = Ring::new(None, None)
        .unwrap()
        .sample_owners(10)
        .unwrap_err();
    assert!(empty.is_instance_of::<js_sys::Error>());
    assert_eq!(code(&empty), "ERR_SHOAL_EMPTY");
    assert!(Ring::new(Some(1.5), None).is_err());
    assert!(Ring::new(None, Some("md4".into())).is_err());
}

#[wasm_bindgen_test]
fn string_and_byte_keys_agree() {
    let r = ring(5);
    for i in 0..200 {
        let k = sample_key(f64::from(i)).unwrap();
        let bytes: JsValue = Uint8Array::from(k.as_bytes()).into();
        assert_eq!(
            r.locate(k.clone().into()).unwrap().as_string().unwrap(),
            r.locate(bytes.clone()).unwrap().as_string().unwrap()
        );
        assert_eq!(r.key_hash(k.into()).unwrap(), r.key_hash(bytes).unwrap());
    }
}

#[wasm_bindgen_test]
fn sample_owners_match_single_lookups() {
    let r = ring(7);
    let nodes: Vec<String> = r.nodes().iter().map(|v| v.as_string().unwrap()).collect();
    let owners = r.sample_owners(500).unwrap().to_vec();
    for (i, o) in owners.iter().enumerate() {
        let k = sample_key(i as f64).unwrap();
        assert_eq!(
            r.locate(k.into()).unwrap().as_string().unwrap(),
            nodes[*o as usize]
        );
    }
    let t = PartitionTable::new(
        Some(Array::of3(&"a".into(), &"b".into(), &"c".into()).into()),
        None,
    )
    .unwrap();
    let members: Vec<String> = t.members().iter().map(|v| v.as_string().unwrap()).collect();
    let idx = t.owner_indices().to_vec();
    let owners = t.owners();
    assert_eq!(idx.len(), 4096);
    for (p, i) in idx.iter().enumerate() {
        assert_eq!(
            owners.get(p as u32).as_string().unwrap(),
            members[*i as usize]
        );
    }
    let sample = t.sample_owners(300).unwrap().to_vec();
    for (i, o) in sample.iter().enumerate() {
        let k = sample_key(i as f64).unwrap();
        assert_eq!(
            t.locate(k.into()).unwrap().as_string().unwrap(),
            members[*o as usize]
        );
    }
    let mut j = JumpHash::new();
    let mut rv = Rendezvous::new();
    for id in ["x", "y", "z"] {
        j.push(id.into()).unwrap();
        rv.add(id.into(), None).unwrap();
    }
    for (alg_owners, locate) in [
        (
            j.sample_owners(100).unwrap().to_vec(),
            &(|k: String| j.locate(k.into()).unwrap().as_string().unwrap())
                as &dyn Fn(String) -> String,
        ),
        (rv.sample_owners(100).unwrap().to_vec(), &|k: String| {
            rv.locate(k.into()).unwrap().as_string().unwrap()
        }),
    ] {
        for (i, o) in alg_owners.iter().enumerate() {
            let k = sample_key(i as f64).unwrap();
            assert_eq!(locate(k), ["x", "y", "z"][*o as usize]);
        }
    }
}

#[wasm_bindgen_test]
fn bounded_load_respects_capacity() {
    let r = ring(10);
    let count = 10_000u32;
    let eps = 0.1;
    let owners = r.sample_owners_bounded(count, eps).unwrap().to_vec();
    let mut loads = [0u32; 10];
    for o in owners {
        loads[o as usize] += 1;
    }
    let cap = ((1.0 + eps) * f64::from(count) / 10.0).ceil() as u32;
    assert!(loads.iter().all(|&l| l <= cap), "{loads:?} over {cap}");
    assert_eq!(loads.iter().sum::<u32>(), count);
    // Plain ring lookups on the same keys are less even.
    let mut plain = [0u32; 10];
    for o in r.sample_owners(count).unwrap().to_vec() {
        plain[o as usize] += 1;
    }
    assert!(plain.iter().max() > loads.iter().max());
}

#[wasm_bindgen_test]
fn points_cover_the_circle_in_order() {
    let r = ring(4);
    let p = r.points();
    let positions = js_sys::Float64Array::from(Reflect::get(&p, &"positions".into()).unwrap());
    let owners = js_sys::Uint32Array::from(Reflect::get(&p, &"owners".into()).unwrap());
    assert_eq!(positions.length(), 4 * 160);
    assert_eq!(owners.length(), 4 * 160);
    let v = positions.to_vec();
    assert!(v.windows(2).all(|w| w[0] <= w[1]));
    assert!(v.iter().all(|&x| (0.0..1.0).contains(&x)));
}

#[wasm_bindgen_test]
fn gossip_sim_detects_a_crash_and_heals_a_partition() {
    let mut g = GossipSim::new(Some(obj(&[
        ("nodes", 16.into()),
        ("seed", js_sys::BigInt::from(9u64).into()),
    ])))
    .unwrap();
    assert_eq!(g.size(), 16);
    assert!(g.converged());
    g.crash(3).unwrap();
    assert!(!g.is_up(3));
    let mut t = 0;
    while !g.converged() && t < 600 {
        g.advance(100.0).unwrap();
        t += 1;
    }
    assert!(g.converged(), "crash detected within 60 simulated seconds");
    let events = g.take_events();
    assert!(events.iter().any(|e| {
        Reflect::get(&e, &"kind".into())
            .unwrap()
            .as_string()
            .as_deref()
            == Some("failed")
            && Reflect::get(&e, &"member".into()).unwrap().as_f64() == Some(3.0)
    }));
    let statuses = g.statuses().to_vec();
    assert_eq!(statuses.len(), 16 * 16);
    assert!(
        statuses[3 * 16..4 * 16].iter().all(|&s| s == 0),
        "a down row is empty"
    );
    assert_eq!(statuses[3], 3, "member 0 sees member 3 failed");
    assert!(g.take_messages().length() > 0);
    g.partition();
    assert!(g.partitioned());
    g.advance(30_000.0).unwrap();
    assert!(!g.converged(), "the halves lose sight of each other");
    g.heal();
    let mut t = 0;
    while !g.converged() && t < 1200 {
        g.advance(100.0).unwrap();
        t += 1;
    }
    assert!(g.converged(), "healed within 120 simulated seconds");
    assert!(g.crash(99).is_err());
    assert!(g.advance(-1.0).is_err());
    assert!(GossipSim::new(Some(obj(&[("protocol", "raft".into())]))).is_err());
    assert!(GossipSim::new(Some(obj(&[("nodes", 5000.into())]))).is_err());
}

#[wasm_bindgen_test]
fn lookups_follow_every_change() {
    // Owners come from cached id strings: every change must refresh them.
    let mut r = ring(3);
    let key: JsValue = "user:42".into();
    let before = r.locate(key.clone()).unwrap().as_string().unwrap();
    r.remove(&before).unwrap();
    let after = r.locate(key.clone()).unwrap().as_string().unwrap();
    assert_ne!(after, before);
    r.add(before.clone(), None).unwrap();
    assert_eq!(r.locate(key.clone()).unwrap().as_string().unwrap(), before);
    r.set_weight(&before, 0.001).unwrap();
    let many = r.locate_many(Array::of1(&key).into()).unwrap();
    let single = r.locate(key).unwrap();
    assert_eq!(Array::from(&many).get(0), single);
    let mut copy = r.copy();
    copy.remove(&single.as_string().unwrap()).unwrap();
    assert_ne!(copy.locate("user:42".into()).unwrap(), single);
    assert_eq!(r.locate("user:42".into()).unwrap(), single);
}
