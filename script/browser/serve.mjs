// What the browser tests share: a free local port, `bulkhead dapp` started on fresh ports with what it prints kept,
// and a headless Chromium page that collects console errors.
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

/** A TCP port nobody listens on now (127.0.0.1). */
export const freePort = () =>
  new Promise((resolve, reject) => {
    const server = createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });

/**
 * Starts `bulkhead dapp` (its anvil and its page on free ports, the deployment file under `out/deployments`) and
 * waits for the page's URL. Returns `{ dapp, url, anvilPort, log }`; `log()` is everything it printed so far.
 */
export async function startDapp(bulkhead, out) {
  const [anvilPort, httpPort] = [await freePort(), await freePort()];
  const dapp = spawn(
    bulkhead,
    ['dapp', '--port', String(anvilPort), '--http-port', String(httpPort), '--out', join(out, 'deployments')],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let printed = '';
  dapp.stdout.on('data', (d) => (printed += d));
  dapp.stderr.on('data', (d) => (printed += d));
  const url = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`bulkhead dapp printed no URL within 120 s:\n${printed}`)), 120_000);
    dapp.stdout.on('data', () => {
      const m = /dApp: (http:\/\/\S+)/.exec(printed);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
    dapp.on('exit', (code) => reject(new Error(`bulkhead dapp exited (${code}):\n${printed}`)));
  });
  return { dapp, url, anvilPort, log: () => printed };
}

/**
 * Headless Chromium (`CHROMIUM`, default /usr/bin/chromium) with one page at `url`; `errors` collects the page's
 * console errors and uncaught exceptions. Returns `{ browser, page, errors }`.
 */
export async function openPage(url, viewport) {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    args: ['--no-sandbox'],
  });
  const page = await browser.newPage({ viewport });
  const errors = [];
  page.on('console', (msg) => msg.type() === 'error' && errors.push(msg.text()));
  page.on('pageerror', (err) => errors.push(String(err)));
  await page.goto(url);
  return { browser, page, errors };
}
