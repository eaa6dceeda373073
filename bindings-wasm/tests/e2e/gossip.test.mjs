// The gossip view end to end: crash a member through the page's buttons, play the
// WASM GossipSim fast, and wait for the page to report convergence with the crashed
// member seen as failed; then restart it and converge again with everyone alive.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pageSession, screenshot } from './harness.mjs';

const session = pageSession();

const gossip = (page) => page.evaluate(() => window.shoalDebug.gossip());

async function waitConverged(page, check, what) {
  try {
    await page.waitForFunction(
      (src) => {
        const g = window.shoalDebug.gossip();
        return g.converged && document.querySelector('#gossip-converged').dataset.converged === 'true' && new Function('g', src)(g);
      },
      check,
      { timeout: 60_000, polling: 100 },
    );
  } catch (e) {
    const g = await gossip(page);
    throw new Error(`${what}: no convergence (t=${g.nowMs} ms, ${JSON.stringify(g.members.filter((m) => m.view !== 'alive' || !m.up))}): ${e.message}`);
  }
}

test('gossip view converges after a crash, a restart, a join, a partition and a leave', { timeout: 180_000 }, async () => {
  const page = await session.open();
  try {
    await page.fill('#gossip-nodes', '24');
    await page.fill('#gossip-seed', '7');
    await page.selectOption('#gossip-protocol', 'shoal');
    await page.click('#gossip-reset');
    let g = await gossip(page);
    assert.equal(g.members.length, 24);
    assert.equal(g.converged, true, 'starts converged');
    assert.equal(await page.getAttribute('#gossip-converged', 'data-converged'), 'true');

    await page.selectOption('#gossip-member', '3');
    await page.click('#gossip-crash');
    g = await gossip(page);
    assert.equal(g.members[3].up, false);
    assert.equal(g.converged, false, 'a fresh crash is not converged');
    assert.equal(await page.getAttribute('#gossip-converged', 'data-converged'), 'false');

    await page.selectOption('#gossip-speed', '50');
    await page.click('#gossip-play');
    assert.equal(await page.textContent('#gossip-play'), 'Pause');
    await page.waitForTimeout(150);
    await screenshot(page, 'gossip-after-crash', '#gossip-panel');
    await waitConverged(page, "return g.members[3].view === 'failed' && g.members.every((m, i) => i === 3 || m.view === 'alive')", 'after crash');
    g = await gossip(page);
    console.log(`# gossip: 24 members (shoal protocol, seed 7) converged on node-3 failed by t=${(g.convergedAtMs / 1000).toFixed(1)} s simulated (crash at t=0)`);
    const summary = await page.$eval('#gossip-summary', (e) => ({ ...e.dataset }));
    assert.equal(summary.failed, '1');
    assert.equal(summary.alive, '23');
    const log = await page.textContent('#gossip-log');
    assert.match(log, /node-3 (suspected|failed)/, 'the event log shows the detection');
    await page.click('#gossip-play'); // pause
    await screenshot(page, 'gossip-converged-after-crash', '#gossip-panel');

    await page.click('#gossip-restart');
    await page.click('#gossip-play');
    await waitConverged(page, "return g.members.every((m) => m.up && m.view === 'alive')", 'after restart');
    await page.click('#gossip-play');
    assert.equal(await page.textContent('#gossip-play'), 'Play');

    // join + step: the new member is a rumor that spreads
    await page.click('#gossip-join');
    g = await gossip(page);
    assert.equal(g.members.length, 25);
    assert.equal(await page.inputValue('#gossip-member'), '24');
    for (let i = 0; i < 200 && !(await gossip(page)).converged; i++) {
      await page.fill('#gossip-step-ms', '500');
      await page.click('#gossip-step');
    }
    g = await gossip(page);
    assert.equal(g.converged, true, 'the joined member becomes known to all by stepping');
    assert.ok(g.members.every((m) => m.view === 'alive'));
    await screenshot(page, 'gossip-after-join', '#gossip-panel');

    // partition: the halves declare each other failed; heal: everyone alive again
    await page.click('#gossip-partition');
    assert.equal(await page.getAttribute('#gossip-summary', 'data-partitioned'), 'true');
    await page.click('#gossip-play');
    await page.waitForFunction(() => Number(document.querySelector('#gossip-summary').dataset.failed) > 0, null, { timeout: 60_000 });
    assert.equal(await page.getAttribute('#gossip-converged', 'data-converged'), 'false');
    await screenshot(page, 'gossip-partitioned', '#gossip-panel');
    await page.click('#gossip-heal');
    await waitConverged(page, "return !g.partitioned && g.members.every((m) => m.up && m.view === 'alive')", 'after heal');

    // a graceful leave is seen as left
    await page.selectOption('#gossip-member', '5');
    await page.click('#gossip-leave');
    await waitConverged(page, "return g.members[5].view === 'left' && !g.members[5].up", 'after leave');
    await page.click('#gossip-play');
    assert.match(await page.textContent('#gossip-log'), /node-5 left/);
    assert.deepEqual(page.problems, []);
  } finally {
    await page.context().close();
  }
});
