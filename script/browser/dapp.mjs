// The demo dApp end to end in headless Chromium: `bulkhead dapp` starts a fresh anvil, deploys, seeds the demo world
// and serves the page; the page is driven as a person would. Every number the demo scenario states (its `expect`
// steps, passed to the page in world.json: values, backings, ratings, risk weights, bonds) must be what the page
// shows after the same steps; every rating, risk weight, bond fraction and required bond the page shows must be what
// the chain returns; an induced revert shows its custom error's name; the console logs no error. Then the security
// market's test (`market.mjs`, one lease from bid to payout, on a node of its own). Screenshots go to OUT_DIR.
// Usage: node script/browser/dapp.mjs BULKHEAD_BINARY OUT_DIR
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, openPage, startDapp } from './serve.mjs';
import { createPublicClient, http, parseUnits } from 'viem';

const [bulkhead, out] = process.argv.slice(2);
if (!bulkhead || !out) {
  console.error('usage: node script/browser/dapp.mjs BULKHEAD_BINARY OUT_DIR');
  process.exit(2);
}
mkdirSync(out, { recursive: true });
const started = Date.now();
const failures = [];
const check = (ok, what) => {
  if (!ok) failures.push(what);
};

const { dapp, url, anvilPort, log } = await startDapp(bulkhead, out);

/** The page's text of a number, and the scenario's expected text, as comparable numbers with their unit. */
const normalise = (text) => text.replace(/,/g, '').replace(/×/g, 'x').replace(/\s+/g, ' ').trim();

/**
 * What a cell says, in the scenario's terms: a rating's exact WAD (`data-wad`; the scenario writes `70%`), a flag's
 * `data-value` (`true`, `false`), else its text.
 */
const cellValue = async (cell) => {
  const wad = await cell.getAttribute('data-wad');
  if (wad !== null) return `wad ${wad}`;
  return normalise((await cell.getAttribute('data-value')) ?? (await cell.textContent()));
};
const expectedValue = (path, expected) =>
  path.startsWith('rating.') ? `wad ${parseUnits(expected.replace(/%$/, ''), 16)}` : normalise(expected);

/**
 * Every rating, risk weight, bond fraction, bond and required bond the page shows, against the chain read directly
 * (the deployment's ABIs): the demo must seed reputation (its checks before the cascade state ratings, risk weights
 * and bonds), with at least one seasoned AVS (rating above 0, a lighter risk weight, a smaller bond fraction) and one
 * new one (at the floor), as the chain says.
 */
async function reputationMatchesChain(page, world) {
  const before = world.cascade.find((s) => s.kind === 'expect')?.checks ?? [];
  for (const kind of ['rating.', 'risk_weight.', 'bond.', 'bond_short.']) {
    check(before.some((c) => c.path.startsWith(kind)), `the demo's checks before the cascade state ${kind}*`);
  }
  check(Boolean(world.reputation), 'world.json names the reputation contract');
  if (!world.reputation) return;
  const deployments = join(out, 'deployments');
  const deployment = JSON.parse(readFileSync(join(deployments, `${world.chainId}.json`), 'utf8'));
  const abi = (name) => JSON.parse(readFileSync(join(deployments, deployment.abis[name]), 'utf8'));
  const client = createPublicClient({ transport: http(world.rpcUrl) });
  const read = (name, address, functionName, args = []) =>
    client.readContract({ address, abi: abi(name), functionName, args });
  const rep = world.reputation;
  const manager = deployment.contracts.AllocationManager;
  check(deployment.contracts.Reputation?.toLowerCase() === rep.toLowerCase(), `world.json's reputation ${rep} is the deployment's`);
  const text = async (testid) => {
    const cell = page.getByTestId(testid);
    return (await cell.count()) ? normalise(await cell.first().textContent()) : null;
  };
  const wadOf = async (testid) => {
    const cell = page.getByTestId(testid);
    return (await cell.count()) ? await cell.first().getAttribute('data-wad') : null;
  };
  // What the page prints for an amount: cut to 6 decimals (format.ts), without thousands separators.
  const shown = (raw, decimals, symbol) => {
    const cut = decimals > 6 ? raw - (raw % 10n ** BigInt(decimals - 6)) : raw;
    const whole = cut / 10n ** BigInt(decimals);
    const frac = (cut % 10n ** BigInt(decimals)).toString().padStart(decimals, '0').replace(/0+$/, '');
    return `${whole}${frac ? `.${frac}` : ''} ${symbol}`;
  };
  const pools = new Map(world.pools.map((p) => [p.name, p]));
  const assetOf = (pool) => (pool.tierOf ? pools.get(pool.tierOf).asset : pool.asset);
  const seen = [];
  for (const avs of world.avs) {
    const [record, standing, fraction] = await Promise.all([
      read('Reputation', rep, 'avsRecord', [avs.id]),
      read('AllocationManager', manager, 'getAVS', [avs.id]),
      read('Reputation', rep, 'requiredBondFractionWad', [avs.id]),
    ]);
    const name = avs.name;
    check((await wadOf(`rating.${name}`)) === String(record.ratingWad), `${name}'s rating: the chain says ${record.ratingWad}, the page ${await wadOf(`rating.${name}`)}`);
    const tenths = Number(standing.riskWeightTenths);
    const weight = `${Math.floor(tenths / 10)}.${tenths % 10}x`;
    check((await text(`risk_weight.${name}`)) === weight, `${name}'s risk weight: the chain says ${weight}, the page ${await text(`risk_weight.${name}`)}`);
    check(
      (await text(`bond_short.${name}`)) !== null &&
        (await page.getByTestId(`bond_short.${name}`).getAttribute('data-value')) === String(standing.bondShort),
      `${name}'s bond gate: the chain says short = ${standing.bondShort}`,
    );
    // The page's percentage: 4 decimals at most, cut, trailing zeros dropped.
    const tenThousandths = (fraction * 1_000_000n) / 10n ** 18n;
    const percent = `${tenThousandths / 10_000n}.${String(tenThousandths % 10_000n).padStart(4, '0')}`.replace(/\.?0+$/, '');
    check((await text(`bond_fraction.${name}`)) === `${percent}%`, `${name}'s bond fraction: the chain says ${percent}%, the page ${await text(`bond_fraction.${name}`)}`);
    for (const asset of world.assets) {
      const bond = await read('Reputation', rep, 'bondOf', [avs.id, asset.address]);
      let backing = 0n;
      for (const pool of world.pools.filter((p) => assetOf(p) === asset.symbol)) {
        backing += await read('AllocationManager', manager, 'slashableBacking', [avs.id, BigInt(pool.id)]);
      }
      const required = backing > 0n ? await read('Reputation', rep, 'requiredBond', [avs.id, backing]) : 0n;
      const held = await text(`bond.${name}.${asset.symbol}`);
      if (bond.available > 0n || required > 0n) {
        check(held === shown(bond.available, asset.decimals, asset.symbol), `${name}'s ${asset.symbol} bond: the chain says ${bond.available}, the page ${held}`);
      }
      if (required > 0n) {
        const needs = await text(`bond_required.${name}.${asset.symbol}`);
        check(needs === shown(required, asset.decimals, asset.symbol), `${name}'s required ${asset.symbol} bond: the chain says ${required}, the page ${needs}`);
      }
    }
    seen.push({ name, rating: record.ratingWad, tenths, fraction });
  }
  const floor = seen.find((a) => a.rating === 0n);
  const seasoned = seen.find((a) => a.rating > 0n);
  check(
    Boolean(floor && seasoned && seasoned.tenths < floor.tenths && seasoned.fraction < floor.fraction),
    `a seasoned AVS (rating above 0: lighter weight, smaller bond fraction) beside a new one: ${JSON.stringify(seen, (_, v) => (typeof v === 'bigint' ? String(v) : v))}`,
  );
  for (const operator of world.actors.filter((a) => a.role === 'operator')) {
    const record = await read('Reputation', rep, 'operatorRecord', [operator.address]);
    check(
      (await wadOf(`operator_rating.${operator.name}`)) === String(record.ratingWad),
      `${operator.name}'s rating: the chain says ${record.ratingWad}, the page ${await wadOf(`operator_rating.${operator.name}`)}`,
    );
  }
}

const { browser, page, errors } = await openPage(url, { width: 1400, height: 1800 });
try {
  const world = await (await page.request.get(new URL('world.json', url).href)).json();
  await page.getByTestId('pool_value.P').waitFor({ timeout: 30_000 });

  /** The page at rest (a refresh can be in flight): every check of one `expect` step of the scenario. */
  const expectStep = async (step, label) => {
    for (const c of step.checks) {
      if (c.path.startsWith('events')) {
        const name = /event (\w+)/.exec(c.what)?.[1];
        const events = page.locator(`[data-testid="event-${name}"]`);
        let count = 0;
        for (let i = 0; i < 50 && (count > 0) !== (c.expected === 'emitted'); i++) {
          count = await events.count();
          if ((count > 0) !== (c.expected === 'emitted')) await page.waitForTimeout(100);
        }
        check((count > 0) === (c.expected === 'emitted'), `${label}: ${c.what}: expected ${c.expected}, ${count} on the page`);
        continue;
      }
      const cell = page.locator(`[data-testid="${c.path}"]`);
      const expected = expectedValue(c.path, c.expected);
      let shown = null;
      for (let i = 0; i < 50; i++) {
        shown = (await cell.count()) ? await cellValue(cell.first()) : null;
        if (shown === expected) break;
        await page.waitForTimeout(100);
      }
      check(shown === expected, `${label}: ${c.what} (${c.path}): expected ${c.expected} (${expected}), the page shows ${shown}`);
    }
  };

  // Before the cascade: the scenario's first checks.
  const steps = world.cascade;
  let k = 0;
  while (k < steps.length && steps[k].kind === 'expect') await expectStep(steps[k++], 'before the cascade');
  await reputationMatchesChain(page, world);
  await page.screenshot({ path: join(out, 'dapp-before.png'), fullPage: true });

  // The cascade, one slash per click; after each group of slashes, the scenario's checks.
  let slashes = 0;
  while (k < steps.length) {
    if (steps[k].kind === 'slash') {
      await page.getByTestId('cascade-next').click();
      slashes += 1;
      await page
        .getByTestId('cascade-status')
        .filter({ hasText: new RegExp(`^(${slashes} of|done)`) })
        .waitFor({ timeout: 30_000 });
    } else {
      await expectStep(steps[k], `after slash ${slashes} (${steps[k - 1].note ?? ''})`);
    }
    k += 1;
  }
  check((await page.getByTestId('cascade-status').textContent()).startsWith('done'), 'the cascade ran to its end');
  await page.screenshot({ path: join(out, 'dapp-after-cascade.png'), fullPage: true });

  // An induced revert: a staker sends a slash for the oracle (only its module may).
  await page.getByTestId('account').selectOption('staker01');
  await page.getByTestId('slash-avs').selectOption('oracle');
  await page.getByTestId('slash-pool').selectOption('P');
  await page.getByTestId('slash-fraction').fill('10%');
  await page.getByTestId('slash-submit').click();
  const tx = page.getByTestId('tx-status');
  await tx.filter({ hasText: 'reverted' }).waitFor({ timeout: 15_000 });
  check((await tx.getAttribute('data-error')) === 'NotAVSSlasher', `the revert is decoded: ${await tx.textContent()}`);

  // A value typed wrong: a clear message, nothing sent.
  await page.getByTestId('deposit-amount').fill('12..5');
  await page.getByTestId('deposit-submit').click();
  await tx.filter({ hasText: 'not an amount' }).waitFor({ timeout: 5_000 });

  // A deposit that goes through, and time moves.
  await page.getByTestId('deposit-pool').selectOption('P');
  await page.getByTestId('deposit-amount').fill('10');
  await page.getByTestId('deposit-submit').click();
  await tx.filter({ hasText: 'mined' }).waitFor({ timeout: 15_000 });
  check((await tx.textContent()).includes('Deposited'), `the deposit's event: ${await tx.textContent()}`);
  await page.getByTestId('time-duration').fill('1d');
  await page.getByTestId('time-submit').click();
  await tx.filter({ hasText: 'advance 1d: mined' }).waitFor({ timeout: 15_000 });
  await page.screenshot({ path: join(out, 'dapp-revert.png'), fullPage: true });

  check(errors.length === 0, `console errors: ${errors.join(' | ')}`);
  check(!(await page.getByTestId('error').isVisible()), 'no error banner');

  // Bad conditions, each on a fresh page whose network says so: a clear banner, no uncaught exception.
  const rpc = world.rpcUrl;
  const jsonRpc = (route, result) => {
    const body = route.request().postDataJSON();
    const one = (req) => ({ jsonrpc: '2.0', id: req.id, result: result(req) });
    const answers = Array.isArray(body) ? body.map(one) : one(body);
    if ((Array.isArray(body) ? body : [body]).some((req) => result(req) === undefined)) return route.continue();
    return route.fulfill({ contentType: 'application/json', body: JSON.stringify(answers) });
  };
  const conditions = [
    ['the node is down', (p) => p.route(`${rpc}/**`, (r) => r.abort()).then(() => p.route(rpc, (r) => r.abort())), 'does not answer'],
    [
      'the node is another chain',
      (p) => p.route(rpc, (r) => jsonRpc(r, (req) => (req.method === 'eth_chainId' ? '0x1' : undefined))),
      'is chain 1',
    ],
    [
      'the deployment is stale (no code at its address)',
      (p) => p.route(rpc, (r) => jsonRpc(r, (req) => (req.method === 'eth_getCode' ? '0x' : undefined))),
      'stale',
    ],
    ['the deployment file is missing', (p) => p.route('**/deployments/*.json', (r) => r.fulfill({ status: 404, body: 'not found' })), '404'],
  ];
  // A deployment without reputation (older files, or a world that left it off): the page hides the ratings, risk
  // weights and bonds, and shows the rest as before.
  {
    const bare = await browser.newPage();
    const uncaught = [];
    bare.on('pageerror', (err) => uncaught.push(String(err)));
    bare.on('console', (msg) => msg.type() === 'error' && uncaught.push(msg.text()));
    const strip = async (route, edit) => {
      const response = await route.fetch();
      const body = await response.json();
      edit(body);
      await route.fulfill({ response, body: JSON.stringify(body) });
    };
    await bare.route('**/world.json', (r) => strip(r, (w) => delete w.reputation));
    await bare.route('**/deployments/*.json', (r) => strip(r, (d) => d.contracts && delete d.contracts.Reputation));
    await bare.goto(url);
    await bare.getByTestId('backing.custody.P').waitFor({ timeout: 30_000 });
    check((await bare.locator('[data-testid^="rating."]').count()) === 0, 'without reputation: no rating is shown');
    check((await bare.locator('[data-testid^="bond."]').count()) === 0, 'without reputation: no bond is shown');
    check((await bare.getByTestId('operator-ratings').count()) === 0, 'without reputation: no operator ratings');
    check(!(await bare.getByTestId('error').isVisible()), 'without reputation: no error banner');
    check(uncaught.length === 0, `without reputation: ${uncaught.join(' | ')}`);
    await bare.close();
  }
  for (const [what, breakIt, says] of conditions) {
    const bad = await browser.newPage();
    const uncaught = [];
    bad.on('pageerror', (err) => uncaught.push(String(err)));
    await breakIt(bad);
    await bad.goto(url);
    const shown = bad.getByTestId('error');
    try {
      await shown.filter({ hasText: says }).waitFor({ timeout: 15_000 });
    } catch {
      failures.push(`${what}: the banner says "${(await shown.textContent()) ?? ''}", expected "${says}"`);
    }
    check(uncaught.length === 0, `${what}: uncaught ${uncaught.join(' | ')}`);
    if (what === 'the node is down') await bad.screenshot({ path: join(out, 'dapp-node-down.png') });
    await bad.close();
  }

  // Attaching to the running node (`--rpc-url`): the same deployment and world, served by a second command that
  // starts no node of its own.
  const attachPort = await freePort();
  const attached = spawn(
    bulkhead,
    [
      'dapp',
      '--rpc-url',
      `http://127.0.0.1:${anvilPort}`,
      '--deployment',
      join(out, 'deployments', '31337.json'),
      '--http-port',
      String(attachPort),
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let attachLog = '';
  attached.stdout.on('data', (d) => (attachLog += d));
  attached.stderr.on('data', (d) => (attachLog += d));
  try {
    const attachUrl = await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`attach: no URL within 60 s:\n${attachLog}`)), 60_000);
      attached.stdout.on('data', () => {
        const m = /dApp: (http:\/\/\S+)/.exec(attachLog);
        if (m) {
          clearTimeout(timer);
          resolve(m[1]);
        }
      });
      attached.on('exit', (code) => reject(new Error(`attach: bulkhead dapp exited (${code}):\n${attachLog}`)));
    });
    const again = await (await page.request.get(new URL('world.json', attachUrl).href)).json();
    check(
      JSON.stringify(again.pools) === JSON.stringify(world.pools) && again.rpcUrl === world.rpcUrl,
      'attaching serves the same world',
    );
    check(!attachLog.includes('stops the page and the node'), `attaching starts no node: ${attachLog}`);
  } catch (e) {
    failures.push(String(e));
  } finally {
    attached.kill('SIGTERM');
  }
} finally {
  await browser.close();
  dapp.kill('SIGTERM');
}

// The security market: one lease from bid to payout through the page, on a fresh node of its own.
const market = spawnSync(
  process.execPath,
  [fileURLToPath(new URL('market.mjs', import.meta.url)), bulkhead, join(out, 'market')],
  { stdio: 'inherit' },
);
check(market.status === 0, `the security market (script/browser/market.mjs) failed: exit ${market.status ?? market.signal}`);

const seconds = ((Date.now() - started) / 1000).toFixed(1);
if (failures.length) {
  console.error(`dApp in Chromium: ${failures.length} check(s) failed (${seconds} s):\n  ${failures.join('\n  ')}`);
  console.error(`bulkhead dapp said:\n${log()}`);
  process.exit(1);
}
console.log(`dApp in Chromium: the cascade's numbers match the scenario, reverts decode, no console error, the market's lease pays out as worked out by hand (${seconds} s; screenshots in ${out})`);
