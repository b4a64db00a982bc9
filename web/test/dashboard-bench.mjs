// How long the dashboard takes to be usable (its curve drawn) after a navigation, against a
// running serve: node web/test/dashboard-bench.mjs URL TOKEN [RUNS]. Each run is a fresh
// browser context (empty cache: every asset, the region and municipality views fetched
// again) that signs in with the pasted token, then navigates to #/dashboard; the time is from
// the navigation's start to the curve's canvas in the page. Prints each run and the median,
// and the compressed bytes the page transferred. Needs a serve without an identity provider
// (the paste form) and Debian's chromium.
import { chromium } from 'playwright-core';

const [url, token, runsArg] = process.argv.slice(2);
if (!url || !token) {
  console.error('usage: node web/test/dashboard-bench.mjs URL TOKEN [RUNS]');
  process.exit(2);
}
const runs = Number(runsArg || 5);
const browser = await chromium.launch({ executablePath: process.env.CHROMIUM || '/usr/bin/chromium', args: process.getuid?.() === 0 ? ['--no-sandbox'] : [] });
const times = [];
let bytes = 0;
for (let i = 0; i < runs; i++) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  await context.addInitScript((t) => sessionStorage.setItem('caseledger.token', t), token);
  const page = await context.newPage();
  let transferred = 0;
  const cdp = await context.newCDPSession(page);
  await cdp.send('Network.enable');
  cdp.on('Network.loadingFinished', (e) => { transferred += e.encodedDataLength; });
  const t0 = Date.now();
  await page.goto(`${url}/#/dashboard`);
  await page.waitForSelector('#curve[data-drawn] canvas', { timeout: 60000 });
  const ms = Date.now() - t0;
  times.push(ms);
  bytes = transferred;
  const inPage = await page.evaluate(() => document.body.dataset.dashboardMs);
  console.log(`run ${i + 1}: ${ms} ms from navigation to the curve (${inPage} ms in the page's own load and draw), ${transferred} bytes transferred`);
  await context.close();
}
await browser.close();
times.sort((a, b) => a - b);
console.log(`median ${times[Math.floor(times.length / 2)]} ms over ${runs} runs; last run transferred ${bytes} bytes (assets and views, compressed where served so)`);
