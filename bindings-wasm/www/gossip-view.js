// The gossip view: drives a WASM GossipSim step by step and draws its members on a
// circle, coloured by how the other up members see them (the majority of their
// statuses() rows), datagrams as short-lived lines, and membership events as a log.

import { fitCanvas, onResize } from './canvas.js';

export const STATUS = ['unknown', 'alive', 'suspect', 'failed', 'left'];
export const STATUS_COLOR = ['#b9bec8', '#2e9d57', '#f0a020', '#d63a3a', '#6b6f7a'];
const LINE_MS = 700; // how long a datagram line stays visible (real time)
const MAX_LINES = 4000;
const MAX_LOG = 300;
const TAU = Math.PI * 2;

/** Status of each member as the up members other than itself see it: the most common
 *  non-zero status in its column (ties go to the worse status); its own row if no one
 *  else is up; 0 when nobody knows it. */
export function majorityView(statuses, size, isUp) {
  const out = new Uint8Array(size);
  const tally = new Int32Array(5);
  for (let m = 0; m < size; m++) {
    tally.fill(0);
    let voters = 0;
    for (let o = 0; o < size; o++) {
      if (o === m || !isUp[o]) continue;
      const s = statuses[o * size + m];
      if (s > 0 && s < 5) {
        tally[s]++;
        voters++;
      }
    }
    if (voters === 0) {
      out[m] = isUp[m] ? statuses[m * size + m] : 0;
      continue;
    }
    let best = 0;
    for (let s = 1; s < 5; s++) if (tally[s] > 0 && tally[s] >= tally[best]) best = s;
    out[m] = best;
  }
  return out;
}

export class GossipView {
  constructor(shoal, el, errors) {
    this.shoal = shoal;
    this.el = el;
    this.errors = errors;
    this.sim = null;
    this.playing = false;
    this.lines = []; // {from, to, born}
    this.view = new Uint8Array(0);
    this.up = [];
    this.selected = 0;
    this.convergedAt = null;
    this.lastFrame = 0;
    this.loopRunning = false;
    this.wire();
    this.reset();
    onResize(el.canvas, () => this.draw());
  }

  wire() {
    const el = this.el;
    const act = (name, fn) =>
      el[name].addEventListener('click', () => {
        try {
          fn();
        } catch (e) {
          this.errors.show(e, `gossip ${name}`);
        }
        this.refresh();
      });
    act('reset', () => this.reset());
    act('play', () => this.setPlaying(!this.playing));
    act('step', () => this.step(Number(el.stepMs.value) || 200));
    act('crash', () => {
      const i = this.member();
      this.sim.crash(i);
      this.logAction(`crash node-${i}`);
    });
    act('restart', () => {
      const i = this.member();
      this.sim.restart(i);
      this.logAction(`restart node-${i}`);
    });
    act('join', () => {
      const i = this.sim.join();
      this.logAction(`join node-${i} (knows only node-0)`);
      this.fillMembers();
      el.member.value = String(i);
    });
    act('leave', () => {
      const i = this.member();
      this.sim.leave(i);
      this.logAction(`leave node-${i}`);
    });
    act('partition', () => {
      this.sim.partition();
      this.logAction('partition into halves');
    });
    act('heal', () => {
      this.sim.heal();
      this.logAction('heal partition');
    });
    el.member.addEventListener('change', () => {
      this.selected = Number(el.member.value);
      this.draw();
    });
    el.canvas.addEventListener('click', (ev) => {
      const r = el.canvas.getBoundingClientRect();
      const hit = this.memberAt(ev.clientX - r.left, ev.clientY - r.top);
      if (hit >= 0) {
        this.selected = hit;
        el.member.value = String(hit);
        this.draw();
      }
    });
  }

  member() {
    const i = Number(this.el.member.value);
    if (!Number.isInteger(i) || i < 0 || i >= this.sim.size) {
      throw new RangeError(`no member ${this.el.member.value}`);
    }
    return i;
  }

  /** New simulation from the seed / node count / protocol / loss inputs. */
  reset() {
    const el = this.el;
    const seedText = el.seed.value.trim() || '1';
    if (!/^\d+$/.test(seedText)) throw new RangeError(`seed must be a non-negative integer, got ${JSON.stringify(seedText)}`);
    const options = {
      nodes: Number(el.nodes.value),
      seed: BigInt(seedText),
      protocol: el.protocol.value,
      loss: Number(el.loss.value) || 0,
    };
    const sim = new this.shoal.GossipSim(options);
    if (this.sim) this.sim.free();
    this.sim = sim;
    this.lines = [];
    this.convergedAt = null;
    el.log.replaceChildren();
    this.logAction(`new simulation: ${options.nodes} members, seed ${seedText}, ${options.protocol}, loss ${options.loss}`);
    this.fillMembers();
    this.collect();
  }

  fillMembers() {
    const sel = this.el.member;
    const keep = sel.value;
    const n = this.sim.size;
    if (sel.options.length !== n) {
      const frag = document.createDocumentFragment();
      for (let i = 0; i < n; i++) {
        const o = document.createElement('option');
        o.value = String(i);
        o.textContent = `node-${i}`;
        frag.append(o);
      }
      sel.replaceChildren(frag);
    }
    sel.value = keep !== '' && Number(keep) < n ? keep : String(Math.min(this.selected, n - 1));
    this.selected = Number(sel.value);
  }

  setPlaying(on) {
    this.playing = on;
    this.el.play.textContent = on ? 'Pause' : 'Play';
    this.el.play.setAttribute('aria-pressed', String(on));
    if (on) this.startLoop();
  }

  step(ms) {
    this.sim.advance(ms);
    this.collect();
    this.startLoop();
  }

  startLoop() {
    if (this.loopRunning) return;
    this.loopRunning = true;
    this.lastFrame = performance.now();
    const frame = (now) => {
      const dt = Math.min(100, Math.max(0, now - this.lastFrame));
      this.lastFrame = now;
      if (this.playing) {
        try {
          let simMs = dt * Number(this.el.speed.value);
          while (simMs > 0) {
            const chunk = Math.min(simMs, 100);
            this.sim.advance(chunk);
            simMs -= chunk;
          }
          this.collect();
        } catch (e) {
          this.setPlaying(false);
          this.errors.show(e, 'gossip advance');
        }
      }
      this.draw();
      if (this.playing || this.lines.length) {
        requestAnimationFrame(frame);
      } else {
        this.loopRunning = false;
      }
    };
    requestAnimationFrame(frame);
  }

  /** Pulls messages, events, statuses and convergence out of the simulation. */
  collect() {
    const sim = this.sim;
    const born = performance.now();
    const msgs = sim.takeMessages();
    const start = Math.max(0, msgs.length - 2 * MAX_LINES);
    for (let k = start; k + 1 < msgs.length; k += 2) this.lines.push({ from: msgs[k], to: msgs[k + 1], born });
    if (this.lines.length > MAX_LINES) this.lines.splice(0, this.lines.length - MAX_LINES);
    this.appendEvents(sim.takeEvents());
    this.refresh();
  }

  refresh() {
    const sim = this.sim;
    const n = sim.size;
    this.up = Array.from({ length: n }, (_, i) => sim.isUp(i));
    this.view = majorityView(sim.statuses(), n, this.up);
    const converged = sim.converged();
    if (converged && this.convergedAt === null) this.convergedAt = sim.nowMs;
    if (!converged) this.convergedAt = null;
    const el = this.el;
    el.time.textContent = `t = ${(sim.nowMs / 1000).toFixed(2)} s`;
    el.converged.dataset.converged = String(converged);
    el.converged.textContent = converged
      ? `converged (since t = ${(this.convergedAt / 1000).toFixed(2)} s)`
      : 'not converged';
    const counts = [0, 0, 0, 0, 0];
    for (const s of this.view) counts[s]++;
    const upCount = this.up.filter(Boolean).length;
    el.summary.textContent = `${n} members, ${upCount} up · seen as: ${STATUS.map((s, i) => `${s} ${counts[i]}`).join(' · ')}${sim.partitioned ? ' · PARTITIONED' : ''}`;
    STATUS.forEach((s, i) => (el.summary.dataset[s] = String(counts[i])));
    el.summary.dataset.up = String(upCount);
    el.summary.dataset.partitioned = String(sim.partitioned);
    if (n !== el.member.options.length) this.fillMembers();
    this.draw();
  }

  appendEvents(events) {
    if (!events.length) return;
    const frag = document.createDocumentFragment();
    for (const ev of events.slice(-MAX_LOG)) {
      const li = document.createElement('li');
      li.className = `ev-${ev.kind}`;
      li.textContent = `t=${Math.round(ev.atMs)}ms node-${ev.observer}: node-${ev.member} ${ev.kind}`;
      frag.prepend(li);
    }
    this.el.log.prepend(frag);
    this.trimLog();
  }

  logAction(text) {
    const li = document.createElement('li');
    li.className = 'ev-action';
    li.textContent = `t=${Math.round(this.sim ? this.sim.nowMs : 0)}ms ▶ ${text}`;
    this.el.log.prepend(li);
    this.trimLog();
  }

  trimLog() {
    const log = this.el.log;
    while (log.children.length > MAX_LOG) log.lastElementChild.remove();
  }

  layout() {
    const c = this.el.canvas;
    const w = c.clientWidth;
    const h = c.clientHeight;
    const n = this.sim ? this.sim.size : 0;
    const R = Math.min(w, h) / 2 - 34;
    const dot = Math.max(3, Math.min(12, (Math.PI * R) / Math.max(n, 1) - 1));
    const pos = (i) => {
      const a = (i / n) * TAU - Math.PI / 2;
      return [w / 2 + Math.cos(a) * R, h / 2 + Math.sin(a) * R];
    };
    return { w, h, n, R, dot, pos };
  }

  memberAt(x, y) {
    const { n, dot, pos } = this.layout();
    let best = -1;
    let bestD = (dot + 6) ** 2;
    for (let i = 0; i < n; i++) {
      const [px, py] = pos(i);
      const d = (px - x) ** 2 + (py - y) ** 2;
      if (d < bestD) {
        bestD = d;
        best = i;
      }
    }
    return best;
  }

  draw() {
    if (!this.sim) return;
    const { ctx } = fitCanvas(this.el.canvas);
    const { w, h, n, R, dot, pos } = this.layout();
    ctx.clearRect(0, 0, w, h);
    if (this.sim.partitioned && n > 1) {
      const half = Math.floor(n / 2);
      const a0 = (-0.5 / n) * TAU - Math.PI / 2;
      const a1 = ((half - 0.5) / n) * TAU - Math.PI / 2;
      ctx.setLineDash([6, 4]);
      ctx.strokeStyle = '#8a5cf6';
      ctx.lineWidth = 2;
      ctx.beginPath();
      ctx.moveTo(w / 2 + Math.cos(a0) * (R + 18), h / 2 + Math.sin(a0) * (R + 18));
      ctx.lineTo(w / 2 + Math.cos(a1) * (R + 18), h / 2 + Math.sin(a1) * (R + 18));
      ctx.stroke();
      ctx.setLineDash([]);
    }
    // datagrams: bucket lines by age so each bucket is one path
    const now = performance.now();
    // at high speed a frame carries seconds of traffic: keep lines shorter and fainter
    const speed = Math.max(1, Number(this.el.speed.value) || 1);
    const life = Math.max(80, LINE_MS / Math.sqrt(speed));
    this.lines = this.lines.filter((l) => now - l.born < life);
    const fade = Math.min(1, 400 / Math.max(1, this.lines.length));
    const buckets = [new Path2D(), new Path2D(), new Path2D(), new Path2D()];
    for (const l of this.lines) {
      if (l.from >= n || l.to >= n) continue;
      const b = Math.min(3, Math.floor(((now - l.born) / life) * 4));
      const [x0, y0] = pos(l.from);
      const [x1, y1] = pos(l.to);
      buckets[b].moveTo(x0, y0);
      buckets[b].lineTo(x1, y1);
    }
    ctx.lineWidth = 1;
    ctx.strokeStyle = '#3b6fd8';
    buckets.forEach((p, b) => {
      ctx.globalAlpha = Math.max(0.04, 0.55 * fade * (1 - b / 4));
      ctx.stroke(p);
    });
    ctx.globalAlpha = 1;
    // members
    ctx.font = `${Math.max(8, Math.min(11, dot))}px system-ui, sans-serif`;
    ctx.textAlign = 'center';
    ctx.textBaseline = 'middle';
    for (let i = 0; i < n; i++) {
      const [x, y] = pos(i);
      ctx.beginPath();
      ctx.arc(x, y, dot, 0, TAU);
      ctx.fillStyle = STATUS_COLOR[this.view[i] ?? 0];
      ctx.fill();
      if (!this.up[i]) {
        // ground truth: this member's process is down
        ctx.strokeStyle = '#111';
        ctx.lineWidth = 2;
        ctx.beginPath();
        ctx.moveTo(x - dot * 0.6, y - dot * 0.6);
        ctx.lineTo(x + dot * 0.6, y + dot * 0.6);
        ctx.moveTo(x + dot * 0.6, y - dot * 0.6);
        ctx.lineTo(x - dot * 0.6, y + dot * 0.6);
        ctx.stroke();
      }
      if (i === this.selected) {
        ctx.strokeStyle = '#1f2430';
        ctx.lineWidth = 2;
        ctx.beginPath();
        ctx.arc(x, y, dot + 4, 0, TAU);
        ctx.stroke();
      }
      if (n <= 64) {
        const a = (i / n) * TAU - Math.PI / 2;
        ctx.fillStyle = '#333';
        ctx.fillText(String(i), w / 2 + Math.cos(a) * (R + dot + 10), h / 2 + Math.sin(a) * (R + dot + 10));
      }
    }
  }

  /** For tests and the console: per member {id, up, view}. */
  snapshot() {
    return {
      nowMs: this.sim.nowMs,
      converged: this.sim.converged(),
      convergedAtMs: this.convergedAt,
      partitioned: this.sim.partitioned,
      members: Array.from({ length: this.sim.size }, (_, i) => ({
        id: `node-${i}`,
        up: this.up[i],
        view: STATUS[this.view[i] ?? 0],
      })),
    };
  }
}
