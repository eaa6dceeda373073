// Shared pieces of the visualizer's end-to-end tests: a static file server for
// bindings-wasm/www (node:http, 127.0.0.1, port 0), Debian's Chromium through
// playwright-core, the shared key rule, the vectors, and the screenshot folder.

import { before, after } from 'node:test';
import http from 'node:http';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = path.dirname(fileURLToPath(import.meta.url));
export const REPO = path.resolve(here, '../../..');
export const WWW = path.join(REPO, 'bindings-wasm/www');
export const SHOTS = path.join(REPO, 'out/screenshots');
export const CHROMIUM = process.env.SHOAL_CHROMIUM || '/usr/bin/chromium';

const MIME = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.wasm': 'application/wasm',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ts': 'text/plain; charset=utf-8',
  '.md': 'text/plain; charset=utf-8',
};

/** Serves `root` on 127.0.0.1:<random port>; resolves to {url, close()}. */
export function startServer(root = WWW) {
  const server = http.createServer(async (req, res) => {
    try {
      const url = new URL(req.url, 'http://x');
      let rel = decodeURIComponent(url.pathname);
      if (rel.endsWith('/')) rel += 'index.html';
      const file = path.resolve(root, '.' + rel);
      if (!file.startsWith(root + path.sep)) {
        res.writeHead(403).end();
        return;
      }
      const body = await fsp.readFile(file);
      res.writeHead(200, {
        'content-type': MIME[path.extname(file)] || 'application/octet-stream',
        'cache-control': 'no-store',
      });
      res.end(body);
    } catch {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
    }
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      resolve({
        url: `http://127.0.0.1:${port}/`,
        close: () =>
          new Promise((r) => {
            server.closeAllConnections?.();
            server.close(() => r());
          }),
      });
    });
  });
}

/** Headless Debian Chromium with a fresh temporary profile. */
export async function launchBrowser() {
  if (!fs.existsSync(CHROMIUM)) {
    throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium`);
  }
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    timeout: 60_000,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

/** Opens the page and waits until the WASM package is loaded. Page errors and console
 *  errors are collected in `page.problems`. */
export async function openPage(browser, url, { viewport = { width: 1400, height: 1000 } } = {}) {
  const context = await browser.newContext({ viewport });
  const page = await context.newPage();
  page.setDefaultTimeout(30_000);
  page.problems = [];
  page.on('pageerror', (e) => page.problems.push(`pageerror: ${e.message}`));
  page.on('console', (m) => {
    // failed requests are checked by URL below (the /api/state probe may 404 on purpose)
    if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) page.problems.push(`console: ${m.text()}`);
  });
  page.on('response', (r) => {
    const u = new URL(r.url());
    if (r.status() >= 400 && u.pathname !== '/api/state' && u.pathname !== '/favicon.ico') {
      page.problems.push(`HTTP ${r.status()} ${u.pathname}`);
    }
  });
  await page.goto(url);
  await page.waitForSelector('#wasm-status[data-ready="true"]', { timeout: 30_000 }).catch(async (e) => {
    const status = await page.textContent('#wasm-status').catch(() => '?');
    const errs = await page.textContent('#error-list').catch(() => '');
    throw new Error(`page did not load the WASM package (${status}; ${errs}; ${page.problems.join(' | ')}): ${e.message}`);
  });
  await page.waitForSelector('body[data-live-probed]');
  return page;
}

export async function screenshot(page, name, selector) {
  await fsp.mkdir(SHOTS, { recursive: true });
  const file = path.join(SHOTS, `${name}.png`);
  if (selector) await page.locator(selector).screenshot({ path: file });
  else await page.screenshot({ path: file, fullPage: true });
  return file;
}

/** The shared key rule, computed here independently of the page. */
export function splitmix64(i) {
  const M = (1n << 64n) - 1n;
  let z = (BigInt(i) + 0x9e3779b97f4a7c15n) & M;
  z = ((z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n) & M;
  z = ((z ^ (z >> 27n)) * 0x94d049bb133111ebn) & M;
  return z ^ (z >> 31n);
}
export const sampleKey = (i) => 'key-' + splitmix64(i).toString(16).padStart(16, '0');

export function loadVector(name) {
  return JSON.parse(fs.readFileSync(path.join(REPO, 'tests/vectors', name), 'utf8'));
}

/** Keeps a copy of a canvas's pixels inside the page (a handle, nothing is copied out). */
export async function canvasSnapshot(page, selector) {
  return page.evaluateHandle((sel) => {
    const c = document.querySelector(sel);
    return c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
  }, selector);
}

/** How many pixels of the canvas differ from a snapshot. */
export async function canvasDiff(page, selector, snapshot) {
  return page.evaluate(
    ([sel, before]) => {
      const c = document.querySelector(sel);
      const now = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
      if (now.length !== before.length) return Math.max(now.length, before.length) / 4;
      let n = 0;
      for (let i = 0; i < now.length; i += 4) {
        if (now[i] !== before[i] || now[i + 1] !== before[i + 1] || now[i + 2] !== before[i + 2] || now[i + 3] !== before[i + 3]) n++;
      }
      return n;
    },
    [selector, snapshot],
  );
}

/** Waits for the page to finish one more commit than `before`. */
export async function waitRender(page, before) {
  await page.waitForFunction((n) => window.shoalStats && window.shoalStats.renders > n, before, { timeout: 30_000 });
}

/**
 * One static server for the page and one browser for the calling test file, started
 * on first use (or by its `before` hook) and closed by its `after` hook. `open()`
 * opens the page in a fresh context of that browser.
 */
export function pageSession() {
  let started = null;
  const session = {
    server: null,
    browser: null,
    start() {
      started ??= (async () => {
        session.server = await startServer();
        session.browser = await launchBrowser();
      })();
      return started;
    },
    async open(options) {
      await session.start();
      return openPage(session.browser, session.server.url, options);
    },
  };
  before(() => session.start());
  after(async () => {
    await started?.catch(() => {});
    await session.browser?.close().catch(() => {});
    await session.server?.close();
  });
  return session;
}
