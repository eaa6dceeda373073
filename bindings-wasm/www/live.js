// Live mode: when the page is served by `shoal demo`, GET /api/state answers and the
// page shows the running cluster: it follows /api/events (SSE), builds the ring from
// each snapshot exactly as the agents do (new Ring(placement.vnodes, placement.hash),
// add(id, {weight}) for members alive or suspect with weight > 0), draws it with the
// same RingView, and lists members, events and traffic per owner.

import { RingView } from './ring-view.js';
import { Histogram, balance } from './histogram.js';
import { compareOwners } from './moves.js';

const LIVE_SAMPLE_KEYS = 5000;
const MAX_LOG = 200;

/** The snapshot from /api/state, or null when there is no live cluster behind the page. */
export async function probeLive(timeoutMs = 2500) {
  const ctl = new AbortController();
  const timer = setTimeout(() => ctl.abort(), timeoutMs);
  try {
    const res = await fetch('./api/state', { cache: 'no-store', signal: ctl.signal });
    if (!res.ok) return null;
    const text = await res.text();
    let snap;
    try {
      snap = JSON.parse(text);
    } catch {
      return null;
    }
    return snap && Array.isArray(snap.members) ? snap : null;
  } catch {
    return null;
  } finally {
    clearTimeout(timer);
  }
}

/** Members the agents place on their ring. */
export function placedMembers(snapshot) {
  return snapshot.members.filter((m) => (m.status === 'alive' || m.status === 'suspect') && m.weight > 0);
}

export class LivePanel {
  constructor(shoal, el, palette, uids, samples, errors) {
    this.shoal = shoal;
    this.el = el;
    this.uids = uids;
    this.samples = samples;
    this.errors = errors;
    this.ringView = new RingView(el.ringCanvas, palette);
    this.traffic = new Histogram(el.trafficCanvas, palette);
    this.ring = null;
    this.signature = '';
    this.prevOwners = null;
    this.snapshot = null;
    this.lastMoved = null;
    this.snapshots = 0;
    this.source = null;
  }

  start(first) {
    this.el.panel.hidden = false;
    this.el.panel.dataset.live = 'true';
    this.onSnapshot(first);
    this.setConnection('connecting');
    const es = new EventSource('./api/events');
    this.source = es;
    es.addEventListener('open', () => this.setConnection('open'));
    es.addEventListener('error', () => this.setConnection(es.readyState === EventSource.CLOSED ? 'closed' : 'reconnecting'));
    es.addEventListener('snapshot', (ev) => this.handle(ev, (d) => this.onSnapshot(d)));
    es.addEventListener('member', (ev) => this.handle(ev, (d) => this.onMember(d)));
    es.addEventListener('action', (ev) => this.handle(ev, (d) => this.onAction(d)));
  }

  handle(ev, fn) {
    try {
      fn(JSON.parse(ev.data));
    } catch (e) {
      this.errors.show(e, `live ${ev.type} event`);
    }
  }

  setConnection(state) {
    this.el.connection.dataset.state = state;
    this.el.connection.textContent = state;
  }

  onSnapshot(s) {
    this.snapshot = s;
    this.snapshots++;
    this.el.observer.textContent = `observer ${s.observer} · t = ${(s.timeMs / 1000).toFixed(1)} s · snapshot #${this.snapshots}`;
    this.renderMembers(s);
    this.renderRing(s);
    this.renderTraffic(s);
  }

  renderMembers(s) {
    const tbody = this.el.members;
    const frag = document.createDocumentFragment();
    const per = (s.traffic && s.traffic.perOwner) || {};
    for (const m of s.members) {
      const tr = document.createElement('tr');
      tr.dataset.testid = 'live-member';
      tr.dataset.id = m.id;
      tr.dataset.status = m.status;
      tr.dataset.up = String(m.up);
      const cells = [
        m.id,
        m.status,
        m.up ? 'up' : 'down',
        m.role ?? '',
        String(m.weight ?? ''),
        String(m.incarnation ?? ''),
        m.addr ?? '',
        m.zone ?? '',
        String(per[m.id] ?? 0),
      ];
      cells.forEach((text, i) => {
        const td = document.createElement('td');
        td.textContent = text;
        if (i === 1) td.className = `status status-${m.status}`;
        if (i === 2) td.className = m.up ? 'up' : 'down';
        tr.append(td);
      });
      if ((m.status === 'alive') !== !!m.up) tr.classList.add('mismatch');
      frag.append(tr);
    }
    tbody.replaceChildren(frag);
    const count = (st) => s.members.filter((m) => m.status === st).length;
    const up = s.members.filter((m) => m.up).length;
    const sum = this.el.summary;
    sum.dataset.members = String(s.members.length);
    sum.dataset.alive = String(count('alive'));
    sum.dataset.up = String(up);
    sum.textContent = `${s.members.length} members: ${count('alive')} alive, ${count('suspect')} suspect, ${count('failed')} failed, ${count('left')} left; ${up} processes up`;
  }

  renderRing(s) {
    const p = s.placement || {};
    if (p.kind !== 'ring') {
      this.el.ringNote.textContent = `placement kind ${JSON.stringify(p.kind)} is not drawn (the page draws rings)`;
      return;
    }
    const placed = placedMembers(s);
    const sig = `${p.hash}|${p.vnodes}|${placed.map((m) => `${m.id}:${m.weight}`).sort().join(',')}`;
    if (sig === this.signature && this.ring) return;
    const t0 = performance.now();
    const ring = new this.shoal.Ring(p.vnodes, p.hash);
    try {
      for (const m of placed) ring.add(m.id, { weight: m.weight });
    } catch (e) {
      ring.free();
      throw e;
    }
    if (this.ring) this.ring.free();
    this.ring = ring;
    this.signature = sig;
    const nodes = ring.nodes;
    const owners = nodes.length ? ring.sampleOwners(LIVE_SAMPLE_KEYS) : new Uint32Array(0);
    const uidOwners = this.uids.toUids(nodes, owners);
    const cmp = this.prevOwners ? compareOwners(this.prevOwners, uidOwners) : null;
    this.prevOwners = uidOwners;
    if (cmp) this.lastMoved = cmp.fraction;
    const points = ring.points();
    this.ringView.setData({
      nodes,
      points,
      keyPos: this.samples.positionsFor(p.hash, ring, LIVE_SAMPLE_KEYS),
      keyOwners: owners,
      moved: cmp ? cmp.mask : null,
      caption: [`${nodes.length} placed`, `${points.positions.length} points (${p.hash}, ${p.vnodes}/weight)`],
    });
    this.ringView.draw();
    this.el.ringNote.textContent =
      `ring rebuilt from ${placed.length} placed members in ${(performance.now() - t0).toFixed(1)} ms` +
      (cmp ? ` · ${(cmp.fraction * 100).toFixed(1)}% of ${LIVE_SAMPLE_KEYS} sample keys moved` : '');
    this.el.ringNote.dataset.placed = String(placed.length);
    this.renderLegend(nodes);
  }

  renderLegend(nodes) {
    const frag = document.createDocumentFragment();
    for (const id of nodes) {
      const li = document.createElement('li');
      const sw = document.createElement('span');
      sw.className = 'swatch';
      sw.style.background = this.ringView.palette.color(id);
      li.append(sw, document.createTextNode(id));
      frag.append(li);
    }
    this.el.legend.replaceChildren(frag);
  }

  renderTraffic(s) {
    const per = (s.traffic && s.traffic.perOwner) || {};
    // owners: the placed members, plus anyone the traffic names (e.g. just failed)
    const placed = placedMembers(s);
    const ids = [...new Set([...placed.map((m) => m.id), ...Object.keys(per)])];
    const counts = ids.map((id) => per[id] ?? 0);
    // counts are cumulative since the demo started, so no "ideal share" line here
    this.traffic.setData({ ids, counts });
    this.traffic.draw();
    const b = balance(ids, counts);
    const t = s.traffic || {};
    this.el.trafficNote.textContent = `routed ${t.routed ?? 0}, delivered ${t.delivered ?? 0}` +
      (b.peakToMean ? ` · peak/mean ${b.peakToMean.toFixed(2)} (${b.peakId})` : '');
  }

  onMember(ev) {
    this.log(`t=${(ev.timeMs / 1000).toFixed(1)}s ${ev.observer}: ${ev.id} ${ev.kind}`, `ev-${ev.kind}`);
  }

  onAction(ev) {
    this.log(`t=${(ev.timeMs / 1000).toFixed(1)}s ▶ ${ev.kind} ${ev.id}`, 'ev-action');
  }

  log(text, cls) {
    const li = document.createElement('li');
    li.className = cls;
    li.textContent = text;
    this.el.log.prepend(li);
    while (this.el.log.children.length > MAX_LOG) this.el.log.lastElementChild.remove();
  }

  /** For tests and the console. */
  state() {
    return {
      connection: this.el.connection.dataset.state,
      snapshots: this.snapshots,
      members: this.snapshot ? this.snapshot.members.map((m) => ({ id: m.id, status: m.status, up: m.up })) : [],
      placed: this.ring ? this.ring.nodes : [],
      points: this.ring ? this.ring.pointCount ?? this.ring.points().positions.length : 0,
      movedPercent: this.lastMoved == null ? null : this.lastMoved * 100,
    };
  }
}
