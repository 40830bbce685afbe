// The demo dApp's security market end to end in headless Chromium: one lease from bid to payout, through the page
// only. `bulkhead dapp` starts a fresh anvil, deploys, seeds the demo world and serves the page; the page is driven as
// people would: operatorC opens a desk, staker01 and staker02 deposit 30 and 70 WETH with it, operatorC turns the
// pool's rewards on and opts the desk in to the oracle, the AVSs' admin bids for 40 WETH of isolated backing over 30
// days at up to 12% a year, operatorC asks and fills the bid, time moves past the lease's start and end, anyone
// streams the lease, staker01 claims its rewards, operatorC its commission, the admin its refund. Every number the
// page shows along the way (escrow, premium, paid, commission, claimable, claimed, refund, wallet deltas) must be the
// one worked out by hand below from docs/market.md's formulas, to the wei (`data-raw`) and as printed. Two refusals
// must show their custom errors decoded (one raised by the manager behind the desk), the console must stay clean,
// and a deployment file without the market must give a page that says so instead of breaking. Screenshots go to
// OUT_DIR.
// Usage: node script/browser/market.mjs BULKHEAD_BINARY OUT_DIR
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { openPage, startDapp } from './serve.mjs';

const [bulkhead, out] = process.argv.slice(2);
if (!bulkhead || !out) {
  console.error('usage: node script/browser/market.mjs BULKHEAD_BINARY OUT_DIR');
  process.exit(2);
}
mkdirSync(out, { recursive: true });
const started = Date.now();
const failures = [];
const check = (ok, what) => {
  if (!ok) failures.push(what);
  return ok;
};

// ------------------------------------------------------------------------------------------------- by hand
// docs/market.md: escrow ⌈backing·maxPrice·term / (10⁴·year)⌉; the lease's premium ⌊amount·price·term / (10⁴·year)⌋
// at the bid's price when the desk fills; paid in full at the end (backing whole); the commission ⌊paid·bps/10⁴⌋ at
// the default 10%; the accumulator rises by ⌊toStakers·10³⁶/S⌋ over the S = 100 WETH of shares (price 1: a share per
// wei deposited); a staker is owed ⌊shares·Δacc/10³⁶⌋.
const WEI = 10n ** 18n;
const YEAR = 365n * 86_400n;
const TERM = 30n * 86_400n;
const BACKING = 40n * WEI;
const MAX_PRICE = 1_200n;
const ASK_PRICE = 500n;
const COMMISSION_BPS = 1_000n; // RewardRail.DEFAULT_COMMISSION_BPS
const SHARES = { staker01: 30n * WEI, staker02: 70n * WEI };
const S = SHARES.staker01 + SHARES.staker02;
const ceilDiv = (a, b) => (a + b - 1n) / b;
const escrow = ceilDiv(BACKING * MAX_PRICE * TERM, 10_000n * YEAR);
const premium = (BACKING * MAX_PRICE * TERM) / (10_000n * YEAR);
const commission = (premium * COMMISSION_BPS) / 10_000n;
const toStakers = premium - commission;
const accDelta = (toStakers * 10n ** 36n) / S;
const owed = (shares) => (shares * accDelta) / 10n ** 36n;
// The same numbers, worked out on paper: 40 WETH × 12% × 30/365 = 0.394520547945205479452… WETH.
const BY_HAND = {
  escrow: 394520547945205480n, // rounded up
  premium: 394520547945205479n, // rounded down: 1 wei of the escrow goes back to the AVS
  commission: 39452054794520547n, // 10%, rounded down
  toStakers: 355068493150684932n,
  staker01: 106520547945205479n, // 30% of it, rounded down
  staker02: 248547945205479452n, // 70%
};
for (const [what, value] of Object.entries({
  escrow,
  premium,
  commission,
  toStakers,
  staker01: owed(SHARES.staker01),
  staker02: owed(SHARES.staker02),
})) {
  check(value === BY_HAND[what], `the formulas give ${what} = ${value}, the hand computation ${BY_HAND[what]}`);
}

/** What the page prints for an amount (format.ts): cut to 6 decimals, trailing zeros dropped, thousands grouped, and
 * every decimal when that would read 0 for an amount above zero. */
const printed = (raw, decimals, symbol) => {
  const text = (digits) => {
    const whole = raw / 10n ** BigInt(decimals);
    const frac = (raw % 10n ** BigInt(decimals)).toString().padStart(decimals, '0').slice(0, digits).replace(/0+$/, '');
    const grouped = whole.toString().replace(/\B(?=(\d{3})+(?!\d))/g, ',');
    return frac ? `${grouped}.${frac}` : grouped;
  };
  const cut = text(6);
  return `${raw > 0n && cut === '0' ? text(decimals) : cut} ${symbol}`;
};

// ------------------------------------------------------------------------------------------------- the page
// DAPP_URL: drive a page already served (a fresh `bulkhead dapp`) instead of starting one, to debug this test.
const served = process.env.DAPP_URL ? null : await startDapp(bulkhead, out);
const dapp = served?.dapp;
const url = process.env.DAPP_URL ?? served.url;
const log = () => served?.log() ?? '';

const { browser, page, errors } = await openPage(url, { width: 1500, height: 2400 });
try {
  const world = await (await page.request.get(new URL('world.json', url).href)).json();
  const deployment = await (await page.request.get(new URL(world.deployment, url).href)).json();
  check(Boolean(deployment.contracts.SecurityMarket && deployment.contracts.RewardRail), 'the deployment has a market and a rail');
  check(
    world.actors.some((a) => a.role === 'admin'),
    'world.json names the AVSs\' admin (role "admin"): without it nobody can post a bid',
  );
  const weth = world.assets.find((a) => a.symbol === 'WETH');
  const shown = (raw) => printed(raw, weth.decimals, 'WETH');
  await page.getByTestId('desk-open-submit').waitFor({ timeout: 30_000 });

  const status = page.getByTestId('market-tx-status');

  /** Signs as `name` from now on (the header's picker), once the market panel shows it. */
  const as = async (name) => {
    await page.getByTestId('account').selectOption(name);
    await page.locator('#market h3', { hasText: `Selected account: ${name}` }).waitFor({ timeout: 15_000 });
  };

  /**
   * Fills a form (selects by value, inputs by text) and sends it; the status line it ends on (`✓ …` or `✗ …`) and the
   * decoded error, if any. `statusId` is the status line of the form's panel.
   */
  const submit = async (form, values, statusId = 'market-tx-status') => {
    const line = page.getByTestId(statusId);
    for (const [field, value] of Object.entries(values)) {
      const input = page.getByTestId(`${form}-${field}`);
      if ((await input.evaluate((el) => el.tagName)) === 'SELECT') {
        // Choices that follow the chain (desks, pools, orders) appear at the next refresh.
        await page.waitForFunction(
          ([id, v]) => [...(document.querySelector(`[data-testid="${id}"]`)?.options ?? [])].some((o) => o.value === v),
          [`${form}-${field}`, value],
          { timeout: 15_000 },
        );
        await input.selectOption(value);
      } else {
        await input.fill(value);
      }
    }
    await line.evaluate((el) => {
      el.textContent = '';
      delete el.dataset.error;
    });
    await page.getByTestId(`${form}-submit`).click();
    await line.filter({ hasText: /^[✓✗]/ }).waitFor({ timeout: 30_000 });
    return { text: await line.textContent(), error: await line.getAttribute('data-error') };
  };
  const ok = (result, what, event) =>
    check(result.text.startsWith('✓') && (!event || result.text.includes(event)), `${what}: ${result.text}`);

  /** Clicks a row's button in the market panel; the status line it ends on. */
  const click = async (testid) => {
    await page.getByTestId(testid).waitFor({ timeout: 15_000 });
    await status.evaluate((el) => {
      el.textContent = '';
      delete el.dataset.error;
    });
    await page.getByTestId(testid).click();
    await status.filter({ hasText: /^[✓✗]/ }).waitFor({ timeout: 30_000 });
    return { text: await status.textContent(), error: await status.getAttribute('data-error') };
  };

  /** The page refreshes once a second: waits up to 10 s for `testid`'s attribute to read `expected`. */
  const attribute = async (testid, name, expected) => {
    const cell = page.getByTestId(testid);
    let value = null;
    for (let i = 0; i < 100; i++) {
      value = (await cell.count()) ? await cell.first().getAttribute(name) : null;
      if (value === expected) break;
      await page.waitForTimeout(100);
    }
    return value;
  };
  /** An amount cell: its exact base units (`data-raw`) and its text must be `expected`, as the page prints it. */
  const amountIs = async (testid, expected, what) => {
    const raw = await attribute(testid, 'data-raw', String(expected));
    const text = (await page.getByTestId(testid).count())
      ? (await page.getByTestId(testid).first().textContent()).trim()
      : null;
    check(raw === String(expected), `${what} (${testid}): expected ${expected} wei, the page has ${raw}`);
    check(text === shown(expected), `${what} (${testid}): expected "${shown(expected)}" printed, the page prints "${text}"`);
  };
  /** Waits up to 10 s for `testid`'s text to match `pattern`; the text. */
  const text = async (testid, pattern) => {
    const cell = page.getByTestId(testid);
    let value = null;
    for (let i = 0; i < 100; i++) {
      value = (await cell.count()) ? (await cell.first().textContent()).trim() : null;
      if (value !== null && pattern.test(value)) break;
      await page.waitForTimeout(100);
    }
    return value;
  };
  const rawOf = async (testid) => {
    await page.getByTestId(testid).waitFor({ timeout: 15_000 });
    return BigInt(await page.getByTestId(testid).first().getAttribute('data-raw'));
  };
  /** Waits until `read()` differs from `before`, up to 10 s; the last value read. */
  const changed = async (read, before) => {
    let now = await read();
    for (let i = 0; i < 100 && now === before; i++) {
      await page.waitForTimeout(100);
      now = await read();
    }
    return now;
  };

  // 1. operatorC opens a desk.
  await as('operatorC');
  ok(await submit('desk-open', { uri: 'ipfs://desk-of-operatorC', key: '' }), 'open a desk', 'DeskOpened');
  check((await text('desk.1.owner', /^operatorC$/)) === 'operatorC', 'desk 1 is operatorC\'s');

  // 2. Two stakers deposit with it: 30 and 70 WETH (a new pool, price 1).
  for (const [staker, amount] of [
    ['staker01', '30'],
    ['staker02', '70'],
  ]) {
    await as(staker);
    ok(await submit('desk-deposit', { desk: '1', asset: 'WETH', amount }), `${staker} deposits ${amount} WETH with desk 1`, 'Deposited');
  }
  // The desk's pool: the one the desks table lists under desk 1.
  const poolCell = page.getByTestId('desk-1').locator('[data-testid^="market_pool."][data-testid$=".value"]');
  await poolCell.first().waitFor({ timeout: 15_000 });
  const poolId = /^market_pool\.(\d+)\.value$/.exec(await poolCell.first().getAttribute('data-testid'))[1];
  check(!world.pools.some((p) => p.id === poolId), `desk 1's pool #${poolId} is a new pool`);
  await amountIs(`market_pool.${poolId}.value`, S, 'the desk pool\'s value');
  check((await attribute(`market_pool.${poolId}.earns`, 'data-value', 'false')) === 'false', 'the pool does not earn yet');

  // 3. operatorC turns the pool's rewards on and opts the desk in to the oracle; a second opt-in is refused by the
  // manager behind the desk, and the page decodes that error too.
  await as('operatorC');
  ok(await submit('desk-rewards', { pool: poolId }), 'turn rewards on', 'RewardsEnabled');
  check((await attribute(`market_pool.${poolId}.earns`, 'data-value', 'true')) === 'true', 'the pool earns');
  check((await text(`market_pool.${poolId}.commission`, /^10%$/)) === '10%', 'the default commission is 10%');
  ok(await submit('desk-optin', { desk: '1', avs: 'oracle' }), 'opt desk 1 in to the oracle', 'OperatorOptedIn');
  const again = await submit('desk-optin', { desk: '1', avs: 'oracle' });
  check(again.error === 'AlreadyOptedIn', `a second opt-in: expected AlreadyOptedIn decoded, the page says ${again.text}`);

  // A staker cannot sell the desk's pool.
  await as('staker01');
  const notOwner = await submit('ask', { pool: poolId, capacity: '50', mode: 'isolated', price: '500', term: '365d' });
  check(notOwner.error === 'NotDeskOwner', `a staker's ask: expected NotDeskOwner decoded, the page says ${notOwner.text}`);

  // 4. The AVSs' admin bids for the oracle: 40 WETH isolated, 30 days, at most 12% a year, at most 10% commission.
  await as('avsAdmin');
  check(/oracle/.test(await text('market-admin-of', /oracle/)), 'avsAdmin administers the oracle');
  const bid = await submit('bid', {
    avs: 'oracle',
    asset: 'WETH',
    backing: '40',
    mode: 'isolated',
    term: '30d',
    price: String(MAX_PRICE),
    commission: String(COMMISSION_BPS),
    rating: '0',
  });
  ok(bid, 'post the bid', 'BidPosted');
  await amountIs('bid.1.escrow', escrow, 'the bid\'s escrow');
  await amountIs('bid.1.backing', BACKING, 'the backing wanted');
  check((await attribute('bid.1.price', 'data-bps', String(MAX_PRICE))) === String(MAX_PRICE), 'the bid\'s max price');
  check((await attribute('bid.1.term', 'data-seconds', String(TERM))) === String(TERM), 'the bid\'s term');

  // 5. operatorC asks (50 WETH from 5% a year) and fills the bid: the desk takes the bid's price, 12%.
  await as('operatorC');
  ok(
    await submit('ask', { pool: poolId, capacity: '50', mode: 'isolated', price: String(ASK_PRICE), term: '365d' }),
    'post the ask',
    'AskPosted',
  );
  await amountIs('ask.1.capacity', 50n * WEI, 'the ask\'s capacity');
  ok(await submit('fill', { bid: '1', ask: '1', amount: '40' }), 'fill', 'LeaseOpened');
  await amountIs('lease.1.premium', premium, 'the lease\'s premium');
  await amountIs('lease.1.backing', BACKING, 'the lease\'s backing');
  check((await attribute('lease.1.price', 'data-bps', String(MAX_PRICE))) === String(MAX_PRICE), 'the desk sold at the bid\'s price');
  const start = Number(await page.getByTestId('lease.1.start').getAttribute('data-time'));
  const end = Number(await page.getByTestId('lease.1.end').getAttribute('data-time'));
  check(end - start === Number(TERM), `the lease runs for the term: ${start} → ${end}`);
  check(/^starts in/.test(await text('lease.1.state', /^starts in/)), 'the lease waits for its allocation to take effect');
  check((await page.getByTestId('bid-1').count()) === 0, 'the bid, filled in full, left the book');
  await amountIs('ask.1.capacity', 10n * WEI, 'the ask\'s capacity left');
  await amountIs(`market_pool.${poolId}.value`, S, 'the pool\'s value');

  // 6. A day on (the allocation delay), the lease runs with its backing whole; 30 days more, its term is over.
  const advance = async (by) => {
    const r = await submit('time', { duration: by }, 'tx-status');
    check(r.text.startsWith('✓'), `advance ${by}: ${r.text}`);
  };
  await advance(`${deployment.allocationDelay}s`);
  check((await attribute('lease.1.backing_ratio', 'data-wad', String(WEI))) === String(WEI), 'the live backing ratio is 100%');
  check((await text('lease.1.backing_ratio', /^100%$/)) === '100%', 'the backing ratio reads 100%');
  await advance('30d');
  check(/term over/.test(await text('lease.1.state', /term over/)), 'the lease\'s term is over');
  await amountIs('lease.1.paid', 0n, 'paid before any stream');

  // 7. Anyone streams it: all of the premium is paid (the backing stayed whole), nothing refunded, the lease closes.
  await as('staker09');
  ok(await click('stream-1'), 'stream lease 1', 'LeaseStreamed');
  await amountIs('lease.1.paid', premium, 'the lease paid');
  await amountIs('lease.1.refunded', 0n, 'the lease refunded');
  await amountIs('lease.1.unstreamed', 0n, 'the lease\'s premium left');
  check((await attribute('lease.1.state', 'data-ended', 'true')) === 'true', 'the lease ended');
  await amountIs(`market_pool.${poolId}.commission_paid`, commission, 'the commission taken');
  await amountIs(`market_pool.${poolId}.paid_to_stakers`, toStakers, 'paid to the stakers');

  // 8. staker01 claims its 30%: the claimable amount, then claimed, and its wallet grows by exactly that.
  await as('staker01');
  await amountIs(`rewards.${poolId}.claimable`, owed(SHARES.staker01), 'staker01\'s claimable rewards');
  await amountIs(`rewards.${poolId}.claimed`, 0n, 'staker01 claimed so far');
  await page.locator('#market-panel').screenshot({ path: join(out, 'market-lease-paid.png') });
  const walletBefore = await rawOf('wallet.WETH');
  ok(await click(`claim-rewards-${poolId}`), 'staker01 claims', 'RewardClaimed');
  await amountIs(`rewards.${poolId}.claimed`, owed(SHARES.staker01), 'staker01 claimed');
  await amountIs(`rewards.${poolId}.claimable`, 0n, 'staker01\'s claimable after the claim');
  const walletAfter = await changed(() => rawOf('wallet.WETH'), walletBefore);
  check(walletAfter - walletBefore === owed(SHARES.staker01), `staker01's wallet grew by ${walletAfter - walletBefore}`);
  await as('staker02');
  await amountIs(`rewards.${poolId}.claimable`, owed(SHARES.staker02), 'staker02\'s claimable rewards');

  // 9. operatorC claims the desk's commission; the admin withdraws the escrow's rounding, 1 wei.
  await as('operatorC');
  await amountIs('my_commission.desk1.WETH', commission, 'the desk\'s commission owed');
  const operatorBefore = await rawOf('wallet.WETH');
  ok(await click('claim-commission-1-WETH'), 'claim the commission', 'CommissionClaimed');
  const operatorAfter = await changed(() => rawOf('wallet.WETH'), operatorBefore);
  check(operatorAfter - operatorBefore === commission, `operatorC's wallet grew by ${operatorAfter - operatorBefore}`);
  await as('avsAdmin');
  await amountIs('credits.WETH', escrow - premium, 'the admin\'s refund (the escrow rounded up)');
  check(escrow - premium === 1n, 'the escrow exceeds the premium by 1 wei');
  ok(await click('withdraw-credits-WETH'), 'withdraw the refund', 'CreditWithdrawn');
  check((await changed(() => page.getByTestId('credits.WETH').count(), 1)) === 0, 'no refund left');

  // The timeline follows the node's block number, which the page's client caches for a few seconds.
  for (const name of ['DeskOpened', 'BidPosted', 'LeaseOpened', 'LeaseStreamed', 'RewardPaid', 'RewardClaimed', 'CreditWithdrawn']) {
    const shownCount = await changed(() => page.locator(`[data-testid="event-${name}"]`).count(), 0);
    check(shownCount > 0, `the timeline shows ${name}`);
  }
  await page.locator('#market-panel').screenshot({ path: join(out, 'market-after-payout.png') });
  check(errors.length === 0, `console errors: ${errors.join(' | ')}`);
  check(!(await page.getByTestId('error').isVisible()), 'no error banner');

  // A deployment file from before the market: the panel says so, the rest of the page works, nothing breaks.
  {
    const bare = await browser.newPage();
    const uncaught = [];
    bare.on('pageerror', (err) => uncaught.push(String(err)));
    bare.on('console', (msg) => msg.type() === 'error' && uncaught.push(msg.text()));
    await bare.route('**/deployments/*.json', async (route) => {
      const response = await route.fetch();
      const body = await response.json();
      if (body.contracts) {
        delete body.contracts.SecurityMarket;
        delete body.contracts.RewardRail;
      }
      await route.fulfill({ response, body: JSON.stringify(body) });
    });
    await bare.goto(url);
    await bare.getByTestId('pool_value.P').waitFor({ timeout: 30_000 });
    check(await bare.getByTestId('market-absent').isVisible(), 'without a market: the panel says so');
    check((await bare.getByTestId('desk-open-submit').count()) === 0, 'without a market: no market form');
    check(!(await bare.getByTestId('error').isVisible()), 'without a market: no error banner');
    check(uncaught.length === 0, `without a market: ${uncaught.join(' | ')}`);
    await bare.close();
  }
} catch (e) {
  failures.push(String(e?.stack ?? e));
} finally {
  await browser.close();
  dapp?.kill('SIGTERM');
}

const seconds = ((Date.now() - started) / 1000).toFixed(1);
if (failures.length) {
  console.error(`security market in Chromium: ${failures.length} check(s) failed (${seconds} s):\n  ${failures.join('\n  ')}`);
  console.error(`bulkhead dapp said:\n${log()}`);
  process.exit(1);
}
console.log(
  `security market in Chromium: one lease from bid to payout, premium ${premium} wei, staker01 claimed ${owed(SHARES.staker01)} wei, ` +
    `every number as worked out by hand (${seconds} s; screenshot in ${out})`,
);
