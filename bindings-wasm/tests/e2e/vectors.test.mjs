// Every algorithm of the page against the shared vectors: the page is set up like a
// vector case through its controls (algorithm select + layout JSON), then its key →
// owner answers (window.shoalDebug.ownersOf and the lookup box) must equal
// tests/vectors/*.json. Jump and rendezvous are also checked against a reference
// computed here from the page's xxh3 key hashes.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { pageSession, screenshot, sampleKey, loadVector, waitRender, REPO } from './harness.mjs';

const session = pageSession();
let page;
before(async () => {
  page = await session.open();
});

const KEYS = Array.from({ length: 2000 }, (_, i) => sampleKey(i));

async function setUp(algorithm, layout) {
  let s = await page.evaluate(() => window.shoalStats.renders);
  if ((await page.inputValue('#algorithm')) !== algorithm) {
    await page.selectOption('#algorithm', algorithm);
    await waitRender(page, s);
    s = await page.evaluate(() => window.shoalStats.renders);
  }
  await page.fill('#layout-json', JSON.stringify(layout));
  await page.click('#layout-apply');
  await waitRender(page, s);
  assert.equal(await page.isHidden('#error-box'), true, `page shows an error: ${await page.textContent('#error-list')}`);
  assert.equal(await page.evaluate(() => window.shoalStats.algorithm), algorithm);
}

const ownersOf = (keys) => page.evaluate((k) => window.shoalDebug.ownersOf(k), keys);

async function lookup(key) {
  await page.fill('#lookup-key', key);
  await page.click('#lookup-go');
  const owner = await page.getAttribute('#lookup-owner', 'data-owner');
  const reps = await page.getAttribute('#lookup-replicas', 'data-replicas');
  return { owner, replicas: reps ? JSON.parse(reps) : null, detail: await page.textContent('#lookup-detail') };
}

function assertOwners(actual, expected, what) {
  assert.equal(actual.length, expected.length);
  const bad = [];
  for (let i = 0; i < expected.length; i++) if (actual[i] !== expected[i]) bad.push(i);
  assert.equal(bad.length, 0, `${what}: ${bad.length} keys differ, first key ${bad[0]} (${KEYS[bad[0]]}): page ${actual[bad[0]]}, vector ${expected[bad[0]]}`);
}

test('the page hashes keys like the vectors (xxh3 key positions)', async () => {
  const v = loadVector('ring_xxh3.json');
  const inputs = v.key_positions.map((p) => p.input);
  const hashes = await page.evaluate((k) => window.shoalDebug.keyHashes(k), inputs);
  assert.deepEqual(hashes, v.key_positions.map((p) => p.position));
});

for (const [file, algorithm] of [['ring_xxh3.json', 'ring-xxh3'], ['ring_ketama.json', 'ring-ketama']]) {
  const v = loadVector(file);
  for (const c of v.cases) {
    test(`${algorithm}: ${c.name} owners and replicas equal ${file}`, { timeout: 60_000 }, async () => {
      await setUp(algorithm, { vnodes: c.vnodes, nodes: c.nodes });
      const ids = c.nodes.map((n) => n.id);
      assertOwners(await ownersOf(KEYS), c.owners.map((i) => ids[i]), `${file} ${c.name}`);
      const stats = await page.evaluate(() => window.shoalStats);
      assert.equal(stats.points, c.vnode_counts.reduce((a, b) => a + b, 0) * (v.hash === 'ketama' ? 4 : 1));
      for (let i = 0; i < 4; i++) {
        const r = await lookup(KEYS[i]);
        assert.equal(r.owner, ids[c.owners[i]], `lookup box owner of ${KEYS[i]}`);
        assert.deepEqual(r.replicas, c.replicas3[i].map((j) => ids[j]), `lookup box replicas of ${KEYS[i]}`);
      }
      if (c.nodes.some((n) => n.zone)) {
        await page.check('#lookup-zones');
        try {
          for (let i = 0; i < 4; i++) {
            const r = await lookup(KEYS[i]);
            assert.deepEqual(r.replicas, c.replicas3_distinct_zones[i].map((j) => ids[j]), `distinct-zone replicas of ${KEYS[i]}`);
          }
        } finally {
          await page.uncheck('#lookup-zones');
        }
      }
      if (c.name === 'weighted-zoned-25') await screenshot(page, `vector-${algorithm}-${c.name}`);
    });
  }
}

for (const [file, algorithm] of [['partition_classic.json', 'table-classic'], ['partition_balanced.json', 'table-balanced']]) {
  const v = loadVector(file);
  for (const c of v.cases) {
    test(`${algorithm}: ${c.name} partition owners and key owners equal ${file}`, { timeout: 60_000 }, async () => {
      await setUp(algorithm, { vnodes: c.vnodes, partitions: c.partitions, members: c.members });
      const ids = c.members.map((m) => m.id);
      assert.equal(await page.isVisible('#table-panel'), true, 'the partition grid is shown');
      const grid = await page.evaluate(() => window.shoalDebug.partitionOwnerIds());
      assertOwners(grid, c.owners.map((i) => ids[i]), `${file} ${c.name} partition owners`);
      assertOwners(await ownersOf(KEYS), c.key_partitions.map((p) => ids[c.owners[p]]), `${file} ${c.name} key owners`);
      for (let i = 0; i < 3; i++) {
        const r = await lookup(KEYS[i]);
        assert.equal(r.owner, ids[c.owners[c.key_partitions[i]]]);
        assert.equal(r.replicas, null);
        assert.match(await page.textContent('#lookup-replicas'), /no replicas/);
        assert.match(r.detail, new RegExp(`partition ${c.key_partitions[i]} of ${c.partitions}\\b`));
      }
      if (c.name === 'weighted-7') await screenshot(page, `vector-${algorithm}-${c.name}`);
    });
  }
}

// jump and weighted rendezvous, recomputed here from the key hashes (core's definitions)
const M64 = (1n << 64n) - 1n;
function jump(hash, n) {
  let key = hash;
  let b = -1;
  let j = 0;
  while (j < n) {
    b = j;
    key = (key * 2862933555777941757n + 1n) & M64;
    j = Math.trunc((b + 1) * (2 ** 31 / (Number(key >> 33n) + 1)));
  }
  return b;
}
function mix64(z) {
  z = ((z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n) & M64;
  z = ((z ^ (z >> 27n)) * 0x94d049bb133111ebn) & M64;
  return z ^ (z >> 31n);
}
function rendezvous(hash, nodes) {
  let best = null;
  let bestScore = -Infinity;
  for (const n of [...nodes].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))) {
    const x = mix64(hash ^ n.seed);
    const u = (Number(x >> 11n) + 0.5) / 2 ** 53;
    const s = -n.weight / Math.log(u);
    if (s > bestScore) {
      bestScore = s;
      best = n.id;
    }
  }
  return best;
}

const altFile = path.join(REPO, 'tests/vectors/placement_alternatives.json');
const alt = fs.existsSync(altFile) ? loadVector('placement_alternatives.json') : null;

test('jump: owners equal the reference (and placement_alternatives.json when present)', { timeout: 60_000 }, async () => {
  const ids = alt ? alt.jump.nodes : Array.from({ length: 10 }, (_, i) => `node-${i}`);
  await setUp('jump', { nodes: ids });
  const owners = await ownersOf(KEYS);
  const hashes = (await page.evaluate((k) => window.shoalDebug.keyHashes(k), KEYS)).map(BigInt);
  assertOwners(owners, hashes.map((h) => ids[jump(h, ids.length)]), 'jump reference');
  if (alt) assertOwners(owners, alt.jump.owners.map((i) => ids[i]), 'placement_alternatives.json jump');
  const r = await lookup(KEYS[0]);
  assert.equal(r.owner, owners[0]);
  assert.match(await page.textContent('#lookup-replicas'), /no replicas/);
  // removing a middle node renumbers the buckets: far more than the ideal moves
  const s = await page.evaluate(() => window.shoalStats.renders);
  await page.click(`button[data-action="remove"][data-id="${ids[2]}"]`);
  await waitRender(page, s);
  const st = await page.evaluate(() => window.shoalStats);
  assert.ok(st.movedPercent > 2 * st.idealPercent, `jump middle removal moved ${st.movedPercent}% vs ideal ${st.idealPercent}%`);
  assert.match(await page.textContent('#algo-note'), /only remove its last bucket/);
});

test('rendezvous: owners equal the reference (and placement_alternatives.json when present)', { timeout: 60_000 }, async () => {
  const nodes = alt ? alt.rendezvous.nodes : [
    { id: 'agent-0', weight: 1 }, { id: 'agent-1', weight: 2 }, { id: 'agent-2', weight: 0.5 }, { id: 'agent-3', weight: 3 },
  ];
  await setUp('rendezvous', { nodes });
  const owners = await ownersOf(KEYS);
  const seeds = await page.evaluate((k) => window.shoalDebug.keyHashes(k), nodes.map((n) => n.id));
  const withSeeds = nodes.map((n, i) => ({ ...n, seed: BigInt(seeds[i]) }));
  const hashes = (await page.evaluate((k) => window.shoalDebug.keyHashes(k), KEYS)).map(BigInt);
  assertOwners(owners, hashes.map((h) => rendezvous(h, withSeeds)), 'rendezvous reference');
  if (alt) assertOwners(owners, alt.rendezvous.owners.map((i) => nodes[i].id), 'placement_alternatives.json rendezvous');
});

test('bounded load: sample owners respect the capacity (and equal placement_alternatives.json when present)', { timeout: 60_000 }, async () => {
  const b = alt ? alt.bounded_load : { epsilon: 0.25, vnodes: 160, nodes: Array.from({ length: 10 }, (_, i) => ({ id: `node-${i}`, weight: 1 })) };
  await setUp('bounded', { vnodes: b.vnodes, epsilon: b.epsilon, nodes: b.nodes });
  assert.equal(await page.inputValue('#epsilon'), String(b.epsilon));
  let s = await page.evaluate(() => window.shoalStats.renders);
  await page.fill('#sample-count', '2000');
  await page.dispatchEvent('#sample-count', 'change');
  await waitRender(page, s);
  const owners = await page.evaluate(() => window.shoalDebug.sampleOwnerIds(2000));
  const W = b.nodes.reduce((a, n) => a + n.weight, 0);
  const counts = {};
  for (const o of owners) counts[o] = (counts[o] ?? 0) + 1;
  for (const n of b.nodes) {
    const cap = Math.ceil((1 + b.epsilon) * 2000 * n.weight / W);
    assert.ok((counts[n.id] ?? 0) <= cap, `${n.id} holds ${counts[n.id]} > capacity ${cap}`);
  }
  if (alt) assertOwners(owners, b.owners.map((i) => b.nodes[i].id), 'placement_alternatives.json bounded_load');
  // the lookup box gives a sample key its bounded owner
  const r = await lookup(KEYS[5]);
  assert.equal(r.owner, owners[5]);
  assert.match(r.detail, /bounded-load owner of sample key #5/);
  const worst = Number(await page.getAttribute('#peak-mean', 'data-worst'));
  assert.ok(worst <= 1 + b.epsilon + 0.01, `most loaded node vs its weight share ${worst}`);
  s = await page.evaluate(() => window.shoalStats.renders);
  await page.fill('#sample-count', '20000');
  await page.dispatchEvent('#sample-count', 'change');
  await waitRender(page, s);
  await screenshot(page, 'vector-bounded');
  assert.deepEqual(page.problems, []);
});
