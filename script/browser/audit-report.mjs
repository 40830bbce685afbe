// The HTML audit report in headless Chromium: it renders without console errors, and what an analyst reads is there:
// a stepped loss curve with its bounds and legend, a heatmap with values and a colour scale, one colour per
// validator in the backing chart with its legend, units, the per-staker table, and the risk pricing (a break-even
// per AVS, leases flagged in red when below it).
// Usage: node script/browser/audit-report.mjs REPORT.html [SCREENSHOT.png]
import { chromium } from 'playwright-core';
import { pathToFileURL } from 'node:url';
import { resolve } from 'node:path';

const [report, screenshot] = process.argv.slice(2);
if (!report) {
  console.error('usage: node script/browser/audit-report.mjs REPORT.html [SCREENSHOT.png]');
  process.exit(2);
}
const failures = [];
const check = (ok, what) => {
  if (!ok) failures.push(what);
};

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
  args: ['--no-sandbox'],
});
try {
  const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
  const errors = [];
  page.on('console', (msg) => msg.type() === 'error' && errors.push(msg.text()));
  page.on('pageerror', (err) => errors.push(String(err)));
  await page.goto(pathToFileURL(resolve(report)).href);

  check((await page.title()).startsWith('Bulkhead audit'), 'the page title');
  check(await page.getByTestId('loss-curve').isVisible(), 'the loss curve is visible');
  const exact = await page.getByTestId('exact-loss').getAttribute('d');
  check(/ H[\d.]+ V[\d.]+/.test(exact ?? '') && !/ L/.test(exact ?? ''), `the exact loss is drawn as steps: ${exact}`);
  for (const id of ['upper-bound', 'lower-bound']) {
    check((await page.getByTestId(id).count()) === 1, `the ${id} is drawn`);
  }
  const curveText = await page.getByTestId('loss-curve').textContent();
  for (const word of ['exact worst_case_loss', 'certified upper bound', '% of the total stake']) {
    check(curveText.includes(word), `the loss curve says "${word}"`);
  }

  const cells = page.getByTestId('heat-cell');
  const nCells = await cells.count();
  check(nCells > 0, 'the heatmap has cells');
  const heatText = await page.getByTestId('heatmap').textContent();
  check((heatText.match(/\d+%/g) ?? []).length >= nCells + 2, 'every heatmap cell shows its value, and the scale its ends');
  check(await page.getByTestId('heat-scale').isVisible(), 'the heatmap has a colour scale');
  const cellBox = await cells.first().boundingBox();
  check(cellBox && cellBox.width >= 30 && cellBox.height >= 18, `heatmap cells are readable: ${JSON.stringify(cellBox)}`);

  const legend = page.getByTestId('backing-legend').locator('i');
  const legendColours = await legend.evaluateAll((els) => els.map((e) => getComputedStyle(e).backgroundColor));
  check(legendColours.length >= 2 && new Set(legendColours).size === legendColours.length, `one colour per validator: ${legendColours}`);
  const barColours = await page.getByTestId('backing-bar').evaluateAll((els) => els.map((e) => getComputedStyle(e).fill));
  check(barColours.length > 0 && barColours.every((c) => legendColours.includes(c)), 'every bar segment has a legend colour');

  const stakerRows = await page.getByTestId('stakers').locator('tr').count();
  check(stakerRows > 10, `the per-staker table has rows (${stakerRows})`);
  // Risk pricing: a row per AVS with its break-even in bps, units named; leases compared with it, or a line saying
  // there are none.
  const pricing = page.getByTestId('risk-pricing');
  check(await pricing.isVisible(), 'the risk pricing table is visible');
  const pricingHead = (await pricing.locator('tr').first().textContent()) ?? '';
  for (const word of ['break-even (bps a year)', 'market pays', '(WETH)']) {
    check(pricingHead.includes(word), `the risk pricing table says "${word}"`);
  }
  const required = await page.getByTestId('required-bps').allTextContents();
  check(required.length >= 1 && required.length === (await pricing.locator('tr').count()) - 1, `a break-even per AVS row: ${required}`);
  check(required.every((t) => /^≈?\d+(\.\d+)?$/.test(t)), `every break-even is a number of bps: ${required}`);
  const leaseTables = await page.getByTestId('lease-pricing').count();
  const noLeases = await page.getByTestId('no-leases').count();
  check(leaseTables + noLeases === 1, `either the lease table or the line saying there is none (${leaseTables}, ${noLeases})`);
  const verdicts = await page.getByTestId('lease-verdict').evaluateAll((els) =>
    els.map((e) => [e.textContent, getComputedStyle(e).color]),
  );
  check(
    verdicts.every(([t, c]) => ['underpriced', 'covers its risk', 'no longer live'].includes(t) && (t !== 'underpriced' || c === 'rgb(198, 40, 40)')),
    `every lease has a verdict, underpriced ones in red: ${JSON.stringify(verdicts)}`,
  );

  const body = await page.textContent('body');
  check(/lost \(WETH\)/.test(body) && /loses \(WETH\)/.test(body), 'tables name their unit');
  check(errors.length === 0, `no console errors: ${errors.join(' | ')}`);
  if (screenshot) await page.screenshot({ path: screenshot, fullPage: true });
} finally {
  await browser.close();
}
if (failures.length) {
  console.error(`audit report in Chromium: ${failures.length} check(s) failed:\n  ${failures.join('\n  ')}`);
  process.exit(1);
}
console.log('audit report in Chromium: every check held');
