// The browser page end to end in headless Chromium: draw strokes, generate, and compare the page's
// images (onnxruntime-web, wasm) with onnxruntime-node's for the same support and noise.
import test from 'ava';
import { existsSync, mkdtempSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { chromium } from 'playwright-core';

import { GMN } from '../src/model/gmn.js';
import { DEFAULT_MODEL, loadModel } from '../src/model/load.js';
import { exportONNX } from '../src/onnx/export.js';
// @ts-expect-error: a plain ES module of the example, without types
import { startWebServer } from '../examples/web/server.mjs';

const CHROMIUM = '/usr/bin/chromium';
const flags = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

(existsSync(CHROMIUM) ? test : test.skip)(
  `the web page draws, generates in the browser, and matches onnxruntime-node${existsSync(CHROMIUM) ? '' : ' (skipped: no Chromium at /usr/bin/chromium; .ci/run installs Debian\'s chromium)'}`,
  async (t) => {
    const model = existsSync(DEFAULT_MODEL) ? await loadModel() : new GMN({}, { device: 'cpu', seed: 3 });
    t.teardown(() => model.dispose());
    const sampler = await exportONNX(model, { graph: 'sampler' });
    const server = await startWebServer({ sampler, latent: model.config.latent, port: 0 });
    t.teardown(() => server.close());
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;

    const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: flags });
    t.teardown(() => browser.close());
    const page = await browser.newPage({ viewport: { width: 1000, height: 600 } });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(url);
    await page.waitForFunction(() => document.getElementById('status')!.textContent!.startsWith('ready'), null, { timeout: 60_000 });

    // a "T" drawn with the mouse
    const box = (await page.locator('#pad').boundingBox())!;
    const stroke = async (from: [number, number], to: [number, number]) => {
      await page.mouse.move(box.x + from[0], box.y + from[1]);
      await page.mouse.down();
      await page.mouse.move(box.x + to[0], box.y + to[1], { steps: 12 });
      await page.mouse.up();
    };
    await stroke([70, 70], [210, 70]);
    await stroke([140, 70], [140, 220]);
    await page.selectOption('#count', '5');
    await page.click('#generate');
    await page.waitForFunction(() => (window as unknown as { gmnLast?: unknown }).gmnLast !== undefined, null, { timeout: 60_000 });
    const last = (await page.evaluate(() => (window as unknown as { gmnLast: unknown }).gmnLast)) as { support: number[]; noise: number[]; means: number[]; n: number; latent: number };
    const dir = mkdtempSync(join(tmpdir(), 'gmn-web-'));
    await page.screenshot({ path: join(dir, 'page.png') });
    t.log(`screenshot: ${join(dir, 'page.png')}`);
    t.deepEqual(errors, []);

    t.is(last.n, 5);
    const ink = last.support.reduce((a, b) => a + b, 0);
    t.true(ink > 20 && ink < 400, `the drawing became a character: ${ink} ink pixels`);
    const session = await ort.InferenceSession.create(sampler, { logSeverityLevel: 3 });
    const { means } = await session.run({
      support: new ort.Tensor('float32', Float32Array.from(last.support), [1, 1, 28, 28]),
      noise: new ort.Tensor('float32', Float32Array.from(last.noise), [last.n, last.latent]),
    });
    const want = means.data as Float32Array;
    t.is(last.means.length, want.length);
    let worst = 0;
    for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(last.means[i] - want[i]));
    t.log(`page (onnxruntime-web, wasm) against onnxruntime-node: max abs difference ${worst.toExponential(2)}`);
    t.true(worst < 1e-4, `max abs difference ${worst}`);
  },
);
