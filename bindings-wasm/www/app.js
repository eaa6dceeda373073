// The page's entry point: loads the WASM package, holds the layout (algorithm, nodes,
// parameters), applies each change to the WASM placement, measures what moved, and
// hands the result to the views. Exposes window.shoalStats and window.shoalDebug.

import init, * as shoal from './pkg/shoal_wasm.js';
import { ALGORITHMS, DEFAULT_VNODES, algorithmByKey, buildPlacement, effectiveWeight } from './algorithms.js';
import { Palette } from './palette.js';
import { UidTable, compareOwners, shares, idealMovement } from './moves.js';
import { Samples } from './samples.js';
import { RingView } from './ring-view.js';
import { TableView } from './table-view.js';
import { Histogram, balance } from './histogram.js';
import { LookupBox } from './lookup.js';
import { GossipView } from './gossip-view.js';
import { LivePanel, probeLive } from './live.js';
import { ErrorBox } from './errors.js';
import { parseLayout, layoutToJson } from './layout.js';

const $ = (id) => {
  const e = document.getElementById(id);
  if (!e) throw new Error(`page is missing #${id}`);
  return e;
};

const NOTES = {
  'ring-xxh3': 'Consistent-hash ring, xxh3 points: each node gets weight × vnodes points; a key belongs to the first point clockwise.',
  'ring-ketama': 'libketama-compatible ring (MD5, 4 points per hash, points per node from its share of the total weight).',
  'table-classic': 'Fixed partitions: each member claims point(id, v) mod P; a partition belongs to the nearest claim at or before it.',
  'table-balanced': 'Fixed partitions, balanced mode: deterministic, peak/mean close to ⌈P/n⌉/(P/n), near-minimal movement.',
  bounded: 'Ring with bounded loads (Mirrokni–Thorup–Zadimoghaddam): sample keys assigned in order, capacity ⌈(1+ε)·K/n⌉ per node.',
  jump: 'Jump consistent hash: no memory, equal shares (weights ignored); nodes can only be added or removed at the end.',
  rendezvous: 'Weighted rendezvous (highest random weight): score −w/ln(u) per node; O(n) per lookup.',
};

class App {
  constructor(shoal, errors) {
    this.shoal = shoal;
    this.errors = errors;
    this.palette = new Palette();
    this.uids = new UidTable();
    this.samples = new Samples(shoal);
    this.hasher = new shoal.Ring(160, 'xxh3'); // xxh3 key hashes for the non-ring algorithms
    this.state = {
      algorithm: 'ring-xxh3',
      vnodes: { ...DEFAULT_VNODES },
      partitions: 4096,
      epsilon: 0.25,
      sampleCount: 20000,
      nodes: Array.from({ length: 8 }, (_, i) => ({ id: `node-${i}`, weight: 1 })),
    };
    this.placement = null;
    this.prev = null; // {uids, shares, partitionUids}
    this.current = null;
    this.stats = {
      lastRenderMs: null,
      lastUpdateMs: null,
      lastDrawMs: null,
      lastFrameMs: null,
      lastAction: null,
      movedPercent: null,
      idealPercent: null,
      movedKeys: null,
      sampleKeys: this.state.sampleCount,
      algorithm: this.state.algorithm,
      nodes: 0,
      points: 0,
      peakToMean: null,
      renders: 0,
    };
    window.shoalStats = this.stats;

    this.ringView = new RingView($('ring-canvas'), this.palette);
    this.tableView = new TableView($('table-canvas'), this.palette);
    this.histogram = new Histogram($('histogram-canvas'), this.palette);
    this.lookup = new LookupBox(
      { form: $('lookup-form'), input: $('lookup-key'), zones: $('lookup-zones'), owner: $('lookup-owner'), replicas: $('lookup-replicas'), detail: $('lookup-detail') },
      this.palette,
      () => ({
        placement: this.placement,
        algo: this.algo,
        samples: this.samples,
        boundedOwner: (i) => (this.current && this.algo.bounded && i < this.current.owners.length ? this.current.nodes[this.current.owners[i]] : null),
      }),
      errors,
    );
    this.fillAlgorithms();
    this.wire();
    this.commit('initial layout', () => this.rebuild({}));
  }

  get algo() {
    return algorithmByKey(this.state.algorithm);
  }

  params(state) {
    const algo = algorithmByKey(state.algorithm);
    return { vnodes: state.vnodes[algo.vnodesKey], partitions: state.partitions, epsilon: state.epsilon };
  }

  /** Builds a placement for the state with `patch` applied; only on success does the
   *  page switch to it (so a refused value leaves the old layout in place). */
  rebuild(patch) {
    const next = { ...this.state, ...patch, vnodes: { ...this.state.vnodes, ...(patch.vnodes || {}) } };
    const algo = algorithmByKey(next.algorithm);
    const p = buildPlacement(this.shoal, algo, next.nodes, this.params(next));
    const old = this.placement;
    this.placement = p;
    this.state = next;
    if (old) old.free();
  }

  /** Runs one change: `mutate` calls the WASM placement (its errors are shown and the
   *  layout stays as it was); then recompute owners and movement and redraw, timed. */
  commit(label, mutate) {
    const t0 = performance.now();
    try {
      mutate();
    } catch (e) {
      this.errors.show(e, label);
      this.recover();
      this.syncControls();
      return false;
    }
    const t1 = performance.now();
    this.stats.lastAction = label;
    try {
      this.recompute();
    } catch (e) {
      this.errors.show(e, `${label} (computing owners)`);
      return false;
    }
    const t2 = performance.now();
    this.draw();
    const t3 = performance.now();
    const s = this.stats;
    s.lastUpdateMs = t2 - t0;
    s.lastMutateMs = t1 - t0;
    s.lastDrawMs = t3 - t2;
    s.lastRenderMs = t3 - t0;
    s.renders++;
    requestAnimationFrame(() => {
      s.lastFrameMs = performance.now() - t0;
      this.renderStats();
    });
    this.renderStats();
    return true;
  }

  /** After a failed call the WASM object may be half-changed: rebuild it from the
   *  layout, which was not touched. */
  recover() {
    try {
      this.rebuild({});
    } catch (e) {
      this.errors.show(e, 'rebuilding the layout');
    }
  }

  shares(state = this.state) {
    const algo = algorithmByKey(state.algorithm);
    const vpw = state.vnodes[algo.vnodesKey];
    return shares(new Map(state.nodes.map((n) => [n.id, effectiveWeight(algo, n, vpw)])));
  }

  recompute() {
    const K = this.state.sampleCount;
    const p = this.placement;
    const nodes = p.nodes;
    const owners = p.sampleOwners(K);
    const uids = this.uids.toUids(nodes, owners);
    const prev = this.prev;
    const cmp = prev && prev.K === K ? compareOwners(prev.uids, uids) : null;
    const sh = this.shares();
    const ideal = cmp ? idealMovement(prev.shares, sh) : null;
    const counts = new Uint32Array(nodes.length);
    for (let i = 0; i < owners.length; i++) counts[owners[i]]++;
    const pOwners = p.partitionOwners();
    let pUids = null;
    let pChanged = null;
    if (pOwners) {
      pUids = this.uids.toUids(nodes, pOwners);
      const pc = prev && prev.partitionUids ? compareOwners(prev.partitionUids, pUids) : null;
      pChanged = pc ? pc : null;
    }
    this.prev = { K, uids, shares: sh, partitionUids: pUids };
    this.current = { nodes, owners, counts, cmp, ideal, shares: sh, pOwners, pChanged, K };
    const b = balance(nodes, counts);
    const st = this.stats;
    st.movedPercent = cmp ? cmp.fraction * 100 : null;
    st.idealPercent = ideal == null ? null : ideal * 100;
    st.movedKeys = cmp ? cmp.moved : null;
    st.sampleKeys = K;
    st.algorithm = this.state.algorithm;
    st.nodes = nodes.length;
    st.points = p.points() ? p.points().positions.length : 0;
    st.partitions = pOwners ? pOwners.length : 0;
    st.partitionsChanged = pChanged ? pChanged.moved : null;
    st.peakToMean = b.peakToMean;
  }

  keyPositions() {
    const p = this.placement;
    const hasher = p.keyHash ? p : this.hasher;
    return this.samples.positionsFor(p.hashName, hasher, this.state.sampleCount);
  }

  draw() {
    const c = this.current;
    const p = this.placement;
    const algo = this.algo;
    const pts = p.points();
    const caption = [algo.label, `${c.nodes.length} nodes`];
    if (pts) caption.push(`${pts.positions.length} vnode points`);
    if (c.pOwners) caption.push(`${c.pOwners.length} partitions`);
    this.ringView.setData({
      nodes: c.nodes,
      points: pts,
      partitionOwners: c.pOwners,
      keyPos: this.keyPositions(),
      keyOwners: c.owners,
      moved: c.cmp ? c.cmp.mask : null,
      caption,
    });
    this.ringView.draw();
    const K = c.K;
    this.histogram.setData({ ids: c.nodes, counts: c.counts, expected: c.nodes.map((id) => (c.shares.get(id) ?? 0) * K) });
    this.histogram.draw();
    const tablePanel = $('table-panel');
    tablePanel.hidden = !c.pOwners;
    if (c.pOwners) {
      this.tableView.setData({ nodes: c.nodes, owners: c.pOwners, changed: c.pChanged ? c.pChanged.mask : null });
      this.tableView.draw();
      const st = p.stats();
      $('table-stats').textContent =
        `${c.pOwners.length} partitions · ${c.pChanged ? `${c.pChanged.moved} changed owner · ` : ''}` +
        `claims ${st.claims}, collisions ${st.collisions} (predicted probability ${((st.collisionProbability ?? st.predictedCollisionProbability ?? 0) * 100).toFixed(1)}%) · ` +
        `peak/mean ${st.peakToMean.toFixed(3)} (ideal ${st.idealPeakToMean.toFixed(3)})`;
    }
    this.renderReadout();
    this.renderNodes();
    if (this.lookup.el.input.value) this.lookup.run();
  }

  renderReadout() {
    const c = this.current;
    const st = this.stats;
    const moved = $('moved-percent');
    const ideal = $('ideal-percent');
    moved.textContent = st.movedPercent == null ? '—' : `${st.movedPercent.toFixed(2)}%`;
    moved.dataset.value = st.movedPercent == null ? '' : String(st.movedPercent);
    ideal.textContent = st.idealPercent == null ? '—' : `${st.idealPercent.toFixed(2)}%`;
    ideal.dataset.value = st.idealPercent == null ? '' : String(st.idealPercent);
    $('moved-detail').textContent = c.cmp
      ? `${c.cmp.moved} of ${c.K} sample keys changed owner after “${st.lastAction ?? ''}”` +
        (st.idealPercent > 0 ? ` (${(st.movedPercent / st.idealPercent).toFixed(2)}× the minimum)` : '')
      : `${c.K} sample keys placed (nothing to compare yet)`;
    const b = balance(c.nodes, c.counts);
    const pm = $('peak-mean');
    // with unequal weights peak/mean mixes imbalance with intent: also show the worst
    // ratio of a node's keys to its ideal share
    let worst = null;
    c.nodes.forEach((id, i) => {
      const want = (c.shares.get(id) ?? 0) * c.K;
      if (want > 0) worst = Math.max(worst ?? 0, c.counts[i] / want);
    });
    pm.textContent = b.peakToMean == null ? '—' : `peak/mean ${b.peakToMean.toFixed(3)} (peak ${b.peak} on ${b.peakId}, mean ${b.mean.toFixed(1)})` +
      (worst == null ? '' : ` · most loaded vs its weight share ${worst.toFixed(3)}×`);
    pm.dataset.value = b.peakToMean == null ? '' : String(b.peakToMean);
    pm.dataset.worst = worst == null ? '' : String(worst);
    this.stats.worstToIdeal = worst;
    const note = [NOTES[this.state.algorithm]];
    if (this.placement.note) note.push(this.placement.note);
    $('algo-note').textContent = note.join(' ');
  }

  /** The node table (which doubles as the legend with weights) and the legend under
   *  the ring, keyed by id: a change touches only the rows and cells that differ, so
   *  100+ nodes stay cheap to update. */
  renderNodes() {
    const c = this.current;
    const noWeights = this.algo.kind === 'jump';
    const countOf = new Map(c.nodes.map((id, i) => [id, c.counts[i]]));
    const tbody = $('node-rows');
    const legend = $('legend');
    const rows = (this.rows ??= new Map());
    const live = new Set();
    this.state.nodes.forEach((n, at) => {
      live.add(n.id);
      let r = rows.get(n.id);
      if (!r) {
        r = this.makeRow(n.id);
        rows.set(n.id, r);
      }
      setText(r.label, `${n.vnodes != null ? ` (${n.vnodes} vnodes)` : ''}${n.zone != null ? ` ${n.zone}` : ''}`);
      if (document.activeElement !== r.range && r.range.value !== String(n.weight)) r.range.value = String(n.weight);
      setText(r.out, String(n.weight));
      r.range.disabled = noWeights;
      setText(r.keys, `${(((countOf.get(n.id) ?? 0) / c.K) * 100).toFixed(2)}%`);
      setText(r.ideal, `${((c.shares.get(n.id) ?? 0) * 100).toFixed(2)}%`);
      if (tbody.children[at] !== r.tr) tbody.insertBefore(r.tr, tbody.children[at] ?? null);
      if (legend.children[at] !== r.li) legend.insertBefore(r.li, legend.children[at] ?? null);
    });
    for (const [id, r] of rows) {
      if (!live.has(id)) {
        r.tr.remove();
        r.li.remove();
        rows.delete(id);
      }
    }
    setText($('node-total'), `${this.state.nodes.length} nodes`);
  }

  makeRow(id) {
    const color = this.palette.color(id);
    const el = (tag, props = {}, ...kids) => {
      const e = Object.assign(document.createElement(tag), props);
      e.append(...kids);
      return e;
    };
    const swatch = () => {
      const s = document.createElement('span');
      s.className = 'swatch';
      s.style.background = color;
      return s;
    };
    const label = el('small');
    const range = el('input', { type: 'range', min: '0.1', max: '5', step: '0.1' });
    range.dataset.action = 'weight';
    range.dataset.id = id;
    range.setAttribute('aria-label', `weight of ${id}`);
    const out = el('output');
    const keys = el('td', { className: 'num' });
    const ideal = el('td', { className: 'num' });
    const remove = el('button', { type: 'button', textContent: '✕' });
    remove.dataset.action = 'remove';
    remove.dataset.id = id;
    remove.setAttribute('aria-label', `remove ${id}`);
    const tr = el('tr', {}, el('td', {}, swatch(), id, label), el('td', {}, range, out), keys, ideal, el('td', {}, remove));
    tr.dataset.testid = 'node-row';
    tr.dataset.id = id;
    const li = el('li', {}, swatch(), id);
    li.dataset.id = id;
    return { tr, li, label, range, out, keys, ideal };
  }

  renderStats() {
    const s = this.stats;
    const fmt = (v, d = 2) => (v == null ? '—' : typeof v === 'number' ? (Number.isInteger(v) ? String(v) : v.toFixed(d)) : String(v));
    const fields = [
      ['lastRenderMs', 'last update + draw (ms)'],
      ['lastUpdateMs', 'of which update (ms)'],
      ['lastDrawMs', 'of which draw (ms)'],
      ['lastFrameMs', 'until next frame (ms)'],
      ['lastAction', 'last change'],
      ['nodes', 'nodes'],
      ['points', 'vnode points'],
      ['partitions', 'partitions'],
      ['sampleKeys', 'sample keys'],
      ['movedPercent', 'moved %'],
      ['idealPercent', 'ideal %'],
      ['peakToMean', 'peak/mean'],
      ['renders', 'renders'],
    ];
    $('stats').innerHTML = fields
      .map(([k, label]) => `<dt>${label}</dt><dd data-testid="stat-${k}" id="stat-${k}">${escapeHtml(fmt(s[k], k === 'peakToMean' ? 3 : 2))}</dd>`)
      .join('');
  }

  fillAlgorithms() {
    $('algorithm').innerHTML = ALGORITHMS.map((a) => `<option value="${a.key}">${escapeHtml(a.label)}</option>`).join('');
    this.syncControls();
  }

  /** Puts the layout's values back into the inputs (after a change or a refused one). */
  syncControls() {
    const s = this.state;
    const algo = algorithmByKey(s.algorithm);
    $('algorithm').value = s.algorithm;
    const vn = $('vnodes');
    vn.disabled = !algo.vnodesKey;
    vn.value = algo.vnodesKey ? String(s.vnodes[algo.vnodesKey]) : '';
    $('vnodes-label').textContent = algo.kind === 'table' ? 'vnodes (claims) per member' : 'vnodes per unit weight';
    $('partitions').value = String(s.partitions);
    $('partitions-field').hidden = algo.kind !== 'table';
    $('epsilon').value = String(s.epsilon);
    $('epsilon-field').hidden = !algo.bounded;
    $('sample-count').value = String(s.sampleCount);
    $('node-count').value = String(s.nodes.length);
    $('new-node-id').placeholder = this.nextNodeId();
  }

  nextNodeId(taken = this.state.nodes) {
    const ids = new Set(taken.map((n) => n.id));
    let k = taken.length;
    for (const id of ids) {
      const m = /^node-(\d+)$/.exec(id);
      if (m) k = Math.max(k, Number(m[1]) + 1);
    }
    while (ids.has(`node-${k}`)) k++;
    return `node-${k}`;
  }

  addNode(id, weight) {
    return this.commit(`add ${id}`, () => {
      const node = { id, weight };
      this.placement.add(node);
      this.state = { ...this.state, nodes: [...this.state.nodes, node] };
    });
  }

  removeNode(id) {
    return this.commit(`remove ${id}`, () => {
      this.placement.remove(id);
      this.state = { ...this.state, nodes: this.state.nodes.filter((n) => n.id !== id) };
    });
  }

  setWeight(id, weight) {
    return this.commit(`weight of ${id} → ${weight}`, () => {
      this.placement.setWeight(id, weight);
      this.state = { ...this.state, nodes: this.state.nodes.map((n) => (n.id === id ? { ...n, weight } : n)) };
    });
  }

  setNodeCount(count) {
    return this.commit(`set ${count} nodes`, () => {
      if (!Number.isInteger(count) || count < 0 || count > 5000) throw new RangeError(`node count must be an integer in 0..5000, got ${count}`);
      let nodes = this.state.nodes.slice(0, count);
      while (nodes.length < count) nodes = [...nodes, { id: this.nextNodeId(nodes), weight: 1 }];
      this.rebuild({ nodes });
    });
  }

  setAlgorithm(key) {
    return this.commit(`switch to ${key}`, () => {
      algorithmByKey(key);
      this.rebuild({ algorithm: key });
    });
  }

  /** Applies a layout ({algorithm?, vnodes?, partitions?, epsilon?, nodes|members}). */
  loadLayout(layout) {
    return this.commit('load layout', () => {
      const l = parseLayout(layout);
      const algorithm = l.algorithm ?? this.state.algorithm;
      const algo = algorithmByKey(algorithm);
      const patch = { algorithm, nodes: l.nodes };
      if (l.vnodes != null && algo.vnodesKey) patch.vnodes = { [algo.vnodesKey]: l.vnodes };
      if (l.partitions != null) patch.partitions = l.partitions;
      if (l.epsilon != null) patch.epsilon = l.epsilon;
      this.rebuild(patch);
    });
  }

  wire() {
    const num = (id) => Number($(id).value);
    $('algorithm').addEventListener('change', () => {
      this.setAlgorithm($('algorithm').value);
      this.syncControls();
    });
    $('vnodes').addEventListener('change', () => {
      const key = this.algo.vnodesKey;
      if (!key) return;
      this.commit(`vnodes → ${num('vnodes')}`, () => this.rebuild({ vnodes: { [key]: num('vnodes') } }));
      this.syncControls();
    });
    $('partitions').addEventListener('change', () => {
      this.commit(`partitions → ${num('partitions')}`, () => this.rebuild({ partitions: num('partitions') }));
      this.syncControls();
    });
    $('epsilon').addEventListener('change', () => {
      this.commit(`ε → ${num('epsilon')}`, () => this.rebuild({ epsilon: num('epsilon') }));
      this.syncControls();
    });
    $('sample-count').addEventListener('change', () => {
      const k = num('sample-count');
      this.commit(`sample keys → ${k}`, () => {
        if (!Number.isInteger(k) || k < 100 || k > 200000) throw new RangeError(`sample keys must be an integer in 100..200000, got ${$('sample-count').value}`);
        this.state = { ...this.state, sampleCount: k };
      });
      this.syncControls();
    });
    $('add-form').addEventListener('submit', (ev) => {
      ev.preventDefault();
      const id = $('new-node-id').value.trim() || this.nextNodeId();
      if (this.addNode(id, num('new-node-weight'))) $('new-node-id').value = '';
      this.syncControls();
    });
    $('count-form').addEventListener('submit', (ev) => {
      ev.preventDefault();
      this.setNodeCount(num('node-count'));
      this.syncControls();
    });
    const rows = $('node-rows');
    rows.addEventListener('click', (ev) => {
      const b = ev.target.closest('button[data-action="remove"]');
      if (!b) return;
      this.removeNode(b.dataset.id);
      this.syncControls();
    });
    rows.addEventListener('input', (ev) => {
      const r = ev.target.closest('input[data-action="weight"]');
      if (r && r.nextElementSibling) r.nextElementSibling.textContent = r.value;
    });
    rows.addEventListener('change', (ev) => {
      const r = ev.target.closest('input[data-action="weight"]');
      if (!r) return;
      this.setWeight(r.dataset.id, Number(r.value));
      this.syncControls();
    });
    $('layout-apply').addEventListener('click', () => {
      let parsed;
      try {
        parsed = JSON.parse($('layout-json').value);
      } catch (e) {
        this.errors.show(e, 'layout JSON');
        return;
      }
      this.loadLayout(parsed);
      this.syncControls();
    });
    $('layout-export').addEventListener('click', () => {
      $('layout-json').value = layoutToJson(this.state, this.algo);
    });
  }

  /** For the end-to-end tests and the console. */
  debugApi() {
    return {
      ownersOf: (keys) => this.placement.locateMany(keys),
      keyHashes: (keys) => keys.map((k) => this.hasher.keyHash(k).toString()),
      sampleOwnerIds: (count) => {
        const c = this.current;
        const n = Math.min(count ?? c.owners.length, c.owners.length);
        return Array.from(c.owners.subarray(0, n), (i) => c.nodes[i]);
      },
      partitionOwnerIds: () => {
        const c = this.current;
        return c.pOwners ? Array.from(c.pOwners, (i) => c.nodes[i]) : null;
      },
      counts: () => Object.fromEntries(this.current.nodes.map((id, i) => [id, this.current.counts[i]])),
      nodes: () => [...this.placement.nodes],
      layout: () => JSON.parse(layoutToJson(this.state, this.algo)),
      loadLayout: (l) => {
        const ok = this.loadLayout(l);
        this.syncControls();
        return ok;
      },
      setAlgorithm: (k) => {
        const ok = this.setAlgorithm(k);
        this.syncControls();
        return ok;
      },
      algorithms: () => ALGORITHMS.map((a) => a.key),
    };
  }
}

function setText(el, text) {
  if (el.textContent !== text) el.textContent = text;
}

function escapeHtml(s) {
  return String(s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);
}

async function main() {
  const errors = new ErrorBox($('error-box'), $('error-list'), $('error-clear'));
  const status = $('wasm-status');
  try {
    await init();
  } catch (e) {
    status.textContent = 'WASM package failed to load (build it with `make wasm`)';
    status.dataset.ready = 'false';
    errors.show(e, 'loading ./pkg/shoal_wasm.js');
    return;
  }
  const app = new App(shoal, errors);
  const gossip = new GossipView(
    shoal,
    {
      canvas: $('gossip-canvas'),
      play: $('gossip-play'),
      step: $('gossip-step'),
      stepMs: $('gossip-step-ms'),
      speed: $('gossip-speed'),
      seed: $('gossip-seed'),
      nodes: $('gossip-nodes'),
      protocol: $('gossip-protocol'),
      loss: $('gossip-loss'),
      reset: $('gossip-reset'),
      member: $('gossip-member'),
      crash: $('gossip-crash'),
      restart: $('gossip-restart'),
      join: $('gossip-join'),
      leave: $('gossip-leave'),
      partition: $('gossip-partition'),
      heal: $('gossip-heal'),
      converged: $('gossip-converged'),
      time: $('gossip-time'),
      summary: $('gossip-summary'),
      log: $('gossip-log'),
    },
    errors,
  );
  let live = null;
  window.shoalDebug = {
    ...app.debugApi(),
    gossip: () => gossip.snapshot(),
    live: () => (live ? live.state() : null),
    shoal,
  };
  status.textContent = 'WASM loaded';
  status.dataset.ready = 'true';
  document.body.dataset.ready = 'true';

  const snap = await probeLive();
  if (snap) {
    live = new LivePanel(
      shoal,
      {
        panel: $('live-panel'),
        connection: $('live-connection'),
        observer: $('live-observer'),
        summary: $('live-summary'),
        members: $('live-members'),
        ringCanvas: $('live-ring-canvas'),
        ringNote: $('live-ring-note'),
        legend: $('live-legend'),
        trafficCanvas: $('live-traffic-canvas'),
        trafficNote: $('live-traffic-note'),
        log: $('live-log'),
      },
      app.palette,
      app.uids,
      app.samples,
      errors,
    );
    try {
      live.start(snap);
    } catch (e) {
      errors.show(e, 'live snapshot');
    }
  }
  document.body.dataset.liveProbed = snap ? 'live' : 'static';
}

main();
