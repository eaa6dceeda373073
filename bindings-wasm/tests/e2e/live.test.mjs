// Live mode end to end: starts `target/release/shoal demo` with 4 agents serving
// bindings-wasm/www, opens the page it serves, and checks that the "Live cluster" panel
// connects to /api/events and shows all 4 agents alive and placed on the ring.
// Skipped (with the reason) when the binary or its `demo` subcommand is missing. The
// demo is stopped at the end whatever happens (SIGTERM, then SIGKILL of its group).

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import { launchBrowser, openPage, screenshot, REPO, WWW } from './harness.mjs';

const SHOAL = process.env.SHOAL_BIN || path.join(REPO, 'target/release/shoal');
const AGENTS = 4;

function demoMissing() {
  if (!fs.existsSync(SHOAL)) return `${SHOAL} does not exist (cargo build --release -p shoal-cli)`;
  const r = spawnSync(SHOAL, ['demo', '--help'], { timeout: 15_000, encoding: 'utf8' });
  if (r.error) return `${SHOAL} demo --help: ${r.error.message}`;
  if (r.status !== 0 || !/shoal demo/.test(r.stdout)) return `${SHOAL} has no demo subcommand yet (demo --help exited ${r.status})`;
  return null;
}

let demo = null;
let demoLog = '';

/** Starts the demo in its own process group; resolves to the page URL it prints. */
function startDemo() {
  demo = spawn(
    SHOAL,
    ['demo', '--agents', String(AGENTS), '--port', '0', '--web', WWW, '--churn-secs', '0', '--duration', '90'],
    { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'], detached: true },
  );
  demo.stderr.on('data', (d) => (demoLog += d));
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`shoal demo printed no URL within 60 s; stderr:\n${demoLog}`)), 60_000);
    demo.stdout.on('data', (d) => {
      out += d;
      const m = /shoal demo: (http:\/\/127\.0\.0\.1:\d+\/)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
    demo.once('exit', (code, sig) => {
      clearTimeout(timer);
      reject(new Error(`shoal demo exited early (${code ?? sig}); stderr:\n${demoLog}`));
    });
    demo.once('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
  });
}

function killGroup(sig) {
  try {
    process.kill(-demo.pid, sig);
  } catch {
    /* already gone */
  }
}

async function stopDemo() {
  if (!demo || demo.exitCode !== null || demo.signalCode !== null) return;
  const exited = new Promise((r) => demo.once('exit', r));
  killGroup('SIGTERM');
  const timeout = new Promise((r) => setTimeout(() => r('timeout'), 15_000));
  if ((await Promise.race([exited, timeout])) === 'timeout') {
    killGroup('SIGKILL');
    await Promise.race([exited, new Promise((r) => setTimeout(r, 5_000))]);
  }
}

// if the runner is torn down mid-test, do not leave the demo behind
process.on('exit', () => {
  if (demo && demo.exitCode === null && demo.signalCode === null) killGroup('SIGKILL');
});

let browser;
after(async () => {
  await browser?.close().catch(() => {});
  await stopDemo();
});

test(`live panel shows the ${AGENTS} agents of shoal demo alive`, { timeout: 180_000 }, async (t) => {
  const missing = demoMissing();
  if (missing) {
    t.skip(`live-mode test skipped: ${missing}`);
    return;
  }
  try {
    const url = await startDemo();
    browser = await launchBrowser();
    const page = await openPage(browser, url);
    try {
      assert.equal(await page.getAttribute('body', 'data-live-probed'), 'live');
      await page.waitForSelector('#live-panel:not([hidden])');
      await page.waitForSelector('#live-connection[data-state="open"]', { timeout: 30_000 });
      const agentIds = Array.from({ length: AGENTS }, (_, i) => `agent-${i}`);
      try {
        await page.waitForFunction(
          (ids) =>
            ids.every((id) => {
              const row = document.querySelector(`#live-members tr[data-id="${id}"]`);
              return row && row.dataset.status === 'alive' && row.dataset.up === 'true';
            }) && Number(document.querySelector('#live-ring-note').dataset.placed) === ids.length,
          agentIds,
          { timeout: 60_000, polling: 250 },
        );
      } catch (e) {
        const state = await page.evaluate(() => window.shoalDebug.live());
        throw new Error(`live panel never showed ${AGENTS} agents alive: ${JSON.stringify(state)}: ${e.message}`);
      }
      const live = await page.evaluate(() => window.shoalDebug.live());
      assert.deepEqual([...live.placed].sort(), agentIds);
      // the ring is built as API.md says: weight × placement.vnodes points per member
      const want = await page.evaluate(async () => {
        const s = await (await fetch('/api/state')).json();
        return s.members
          .filter((m) => (m.status === 'alive' || m.status === 'suspect') && m.weight > 0)
          .reduce((a, m) => a + m.weight * s.placement.vnodes, 0);
      });
      assert.equal(live.points, want, 'live ring points = Σ weight × placement.vnodes');
      const summary = await page.$eval('#live-summary', (e) => ({ ...e.dataset }));
      assert.ok(Number(summary.alive) >= AGENTS, `summary ${JSON.stringify(summary)}`);
      // a fresh snapshot arrives at least every second over SSE
      const before = live.snapshots;
      await page.waitForFunction((n) => window.shoalDebug.live().snapshots > n, before, { timeout: 10_000 });
      // traffic per owner is drawn once the demo routes messages
      await page.waitForFunction(() => /routed [1-9]/.test(document.querySelector('#live-traffic-note').textContent), null, { timeout: 30_000 });
      await screenshot(page, 'live-cluster', '#live-panel');
      assert.deepEqual(page.problems, []);
    } finally {
      await page.context().close();
    }
  } finally {
    await browser?.close().catch(() => {});
    browser = null;
    await stopDemo();
  }
});
