// The ring view end to end: add / remove / reweight nodes through the page's controls,
// check the moved-% and ideal-% readouts and that the canvas changed, see a WASM
// error (duplicate id) reach the page, and time a re-render at 100 nodes × 160 vnodes.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  pageSession, screenshot, canvasSnapshot, canvasDiff, waitRender,
} from './harness.mjs';

const session = pageSession();

const stats = (page) => page.evaluate(() => ({ ...window.shoalStats }));
const readout = async (page, id) => Number(await page.getAttribute(`#${id}`, 'data-value'));

test('add, reweight and remove nodes: moved % vs ideal, canvas changes, errors shown', { timeout: 120_000 }, async () => {
  const page = await session.open();
  try {
    assert.equal(await page.getAttribute('body', 'data-live-probed'), 'static');
    assert.equal(await page.isHidden('#live-panel'), true, 'live panel hidden without /api/state');
    assert.equal(await page.locator('[data-testid="node-row"]').count(), 8);
    assert.equal(await page.locator('#legend li').count(), 8);
    let s = await stats(page);
    assert.equal(s.points, 8 * 160);
    assert.equal(s.movedPercent, null);

    // add a node through the form
    const pixelsBefore = await canvasSnapshot(page, '#ring-canvas');
    await page.click('#add-node');
    await waitRender(page, s.renders);
    s = await stats(page);
    assert.equal(s.nodes, 9);
    assert.equal(s.points, 9 * 160);
    const moved = await readout(page, 'moved-percent');
    const ideal = await readout(page, 'ideal-percent');
    assert.ok(Math.abs(ideal - 100 / 9) < 1e-6, `ideal ${ideal} should be 100/9`);
    assert.ok(moved > 0, 'some keys moved');
    assert.ok(Math.abs(moved - ideal) < 5, `moved ${moved}% should be close to the ideal ${ideal}%`);
    assert.equal(moved, s.movedPercent);
    assert.match(await page.textContent('#moved-percent'), /^\d+\.\d\d%$/);
    const changed = await canvasDiff(page, '#ring-canvas', pixelsBefore);
    assert.ok(changed > 1000, `ring canvas changed in ${changed} pixels`);
    await screenshot(page, 'ring-add-node');

    // every sample key that moved went to the new node (a ring only ever moves keys to it)
    const owners = await page.evaluate(() => window.shoalDebug.counts());
    const newCount = owners['node-8'];
    assert.equal(newCount, s.movedKeys, 'moved keys are exactly the new node’s keys');

    // a duplicate id: the WASM error reaches the page
    await page.fill('#new-node-id', 'node-3');
    await page.click('#add-node');
    await page.waitForSelector('#error-box:not([hidden])');
    const err = await page.getAttribute('#error-list li:first-child', 'data-code');
    assert.equal(err, 'ERR_SHOAL_INVALID_ARGUMENT', 'a duplicate id is ERR_SHOAL_INVALID_ARGUMENT (API.md)');
    assert.match(await page.textContent('#error-list'), /node-3/);
    assert.equal((await stats(page)).nodes, 9, 'refused add leaves the layout as it was');
    await page.click('#error-clear');
    assert.equal(await page.isHidden('#error-box'), true);

    // weight slider of node-0 → 3: ideal = 3/11 − 1/9
    s = await stats(page);
    await page.locator('input[data-action="weight"][data-id="node-0"]').fill('3');
    await waitRender(page, s.renders);
    const idealW = await readout(page, 'ideal-percent');
    assert.ok(Math.abs(idealW - (3 / 11 - 1 / 9) * 100) < 1e-6, `ideal ${idealW}`);
    const movedW = await readout(page, 'moved-percent');
    assert.ok(movedW > 0 && Math.abs(movedW - idealW) < 6, `moved ${movedW}% vs ideal ${idealW}%`);
    assert.equal((await page.evaluate(() => window.shoalDebug.layout())).nodes[0].weight, 3);

    // remove node-8 with its row button
    s = await stats(page);
    await page.click('button[data-action="remove"][data-id="node-8"]');
    await waitRender(page, s.renders);
    assert.equal((await stats(page)).nodes, 8);
    assert.ok((await readout(page, 'moved-percent')) > 0);
    assert.deepEqual(page.problems, []);
  } finally {
    await page.context().close();
  }
});

test('re-render at 100 nodes × 160 vnodes after adding one node', { timeout: 120_000 }, async () => {
  const page = await session.open();
  try {
    let s = await stats(page);
    await page.fill('#node-count', '100');
    await page.click('#set-node-count');
    await waitRender(page, s.renders);
    s = await stats(page);
    assert.equal(s.nodes, 100);
    assert.equal(s.points, 16_000);
    const before = await canvasSnapshot(page, '#ring-canvas');
    const times = [];
    for (let i = 0; i < 3; i++) {
      s = await stats(page);
      await page.click('#add-node');
      await waitRender(page, s.renders);
      const after = await stats(page);
      times.push(after.lastRenderMs);
      assert.equal(after.nodes, 101 + i);
      assert.equal(after.points, (101 + i) * 160);
      assert.ok(Math.abs(after.idealPercent - 100 / (101 + i)) < 1e-6);
      assert.ok(after.movedPercent > 0 && after.movedPercent < 3, `moved ${after.movedPercent}%`);
    }
    await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
    s = await stats(page);
    const shown = await page.textContent('#stat-lastRenderMs');
    assert.equal(Number(shown), Number(s.lastRenderMs.toFixed(2)), 'the page shows the same number');
    console.log(
      `# re-render after adding a node at 100 nodes × 160 vnodes (16 000 → 16 160 ticks): ` +
        `${times[0].toFixed(1)} ms (then ${times.slice(1).map((t) => t.toFixed(1)).join(', ')} ms at 101, 102 nodes); ` +
        `update ${s.lastUpdateMs.toFixed(1)} ms, draw ${s.lastDrawMs.toFixed(1)} ms, next frame ${s.lastFrameMs?.toFixed(1)} ms`,
    );
    const changedPixels = await canvasDiff(page, '#ring-canvas', before);
    assert.ok(changedPixels > 500, `ring canvas changed in ${changedPixels} pixels`);
    await screenshot(page, 'ring-100x160');
    assert.deepEqual(page.problems, []);
  } finally {
    await page.context().close();
  }
});

test('every algorithm: switch, add, reweight and remove through the controls', { timeout: 120_000 }, async () => {
  const page = await session.open();
  try {
    const algorithms = await page.$$eval('#algorithm option', (os) => os.map((o) => o.value));
    assert.deepEqual(algorithms, ['ring-xxh3', 'ring-ketama', 'table-classic', 'table-balanced', 'bounded', 'jump', 'rendezvous']);
    for (const algorithm of algorithms) {
      let s = await stats(page);
      if ((await page.inputValue('#algorithm')) !== algorithm) {
        await page.selectOption('#algorithm', algorithm);
        await waitRender(page, s.renders);
        s = await stats(page);
      }
      assert.equal(s.algorithm, algorithm);
      assert.equal(s.nodes, 8);
      assert.equal(await page.isVisible('#table-panel'), algorithm.startsWith('table-'), `grid only for tables (${algorithm})`);
      assert.equal(await page.isVisible('#epsilon'), algorithm === 'bounded');

      const px = await canvasSnapshot(page, '#ring-canvas');
      await page.click('#add-node');
      await waitRender(page, s.renders);
      s = await stats(page);
      assert.equal(s.nodes, 9, `${algorithm}: add`);
      assert.ok(Math.abs(s.idealPercent - 100 / 9) < 1e-6, `${algorithm}: ideal ${s.idealPercent}`);
      assert.ok(s.movedPercent > 0, `${algorithm}: moved ${s.movedPercent}`);
      assert.ok((await canvasDiff(page, '#ring-canvas', px)) > 200, `${algorithm}: canvas changed`);

      const slider = page.locator('input[data-action="weight"][data-id="node-1"]');
      if (algorithm === 'jump') {
        assert.equal(await slider.isDisabled(), true, 'jump hash has no weights');
      } else {
        await slider.fill('2');
        await waitRender(page, s.renders);
        s = await stats(page);
        assert.ok(Math.abs(s.idealPercent - (2 / 10 - 1 / 9) * 100) < 1e-6, `${algorithm}: ideal after reweight ${s.idealPercent}`);
        assert.ok(s.movedPercent > 0, `${algorithm}: reweight moved keys`);
      }
      const last = (await page.evaluate(() => window.shoalDebug.layout())).nodes.at(-1).id;
      await page.click(`button[data-action="remove"][data-id="${last}"]`);
      await waitRender(page, s.renders);
      s = await stats(page);
      assert.equal(s.nodes, 8, `${algorithm}: remove`);
      if (algorithm !== 'jump') {
        await page.locator('input[data-action="weight"][data-id="node-1"]').fill('1');
        await waitRender(page, s.renders);
      }
      assert.equal(await page.isHidden('#error-box'), true, `${algorithm}: ${await page.textContent('#error-list')}`);
      if (algorithm === 'table-balanced' || algorithm === 'rendezvous') await screenshot(page, `algorithm-${algorithm}`);
    }
    assert.deepEqual(page.problems, []);
  } finally {
    await page.context().close();
  }
});
