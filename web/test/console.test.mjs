// The console end to end in a real browser: Debian's chromium driven by playwright-core
// against a real `caseledger serve` (CASELEDGER_BIN) on the demo data (`caseledger-demo`,
// CASELEDGER_DEMO_BIN) that accepts the tokens of a
// real OpenID provider started here (oidc-provider). Every role signs in through the
// provider and walks its journey; axe-core checks each page (no serious or critical
// violation); a Content-Security-Policy violation fails the test; screenshots of every
// page go to CONSOLE_ARTIFACTS.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { createRequire } from 'node:module';
import { chromium } from 'playwright-core';
import { startProvider } from './oidc.mjs';

const require = createRequire(import.meta.url);
const axeSource = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
const bin = process.env.CASELEDGER_BIN;
const demoBin = process.env.CASELEDGER_DEMO_BIN;
const artifacts = process.env.CONSOLE_ARTIFACTS || join(tmpdir(), 'console-artifacts');
const sourceDir = process.env.CASELEDGER_SOURCE_DIR || join(dirname(new URL(import.meta.url).pathname), '../..');
mkdirSync(artifacts, { recursive: true });

let dir, idp, serve, base, browser, adminToken;
const cspViolations = [];
const figures = {};

function startServe(args) {
  return new Promise((resolve, reject) => {
    const child = spawn(bin, ['serve', ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, CASELEDGER_HOME: sourceDir } });
    let out = '';
    const timer = setTimeout(() => reject(new Error(`serve did not start:\n${out}`)), 120000);
    child.stdout.on('data', (d) => {
      out += d;
      const url = /caseledger serving (http:\/\/\S+)/.exec(out);
      if (url) { clearTimeout(timer); resolve({ child, url: url[1], out: () => out }); }
    });
    child.stderr.on('data', (d) => { out += d; });
    child.on('exit', (code) => { clearTimeout(timer); reject(new Error(`serve exited ${code}:\n${out}`)); });
  });
}

async function api(method, path, token, body) {
  const res = await fetch(base + path, { method, headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
    body: body ? JSON.stringify(body) : undefined });
  const text = await res.text();
  assert.ok(res.ok, `${method} ${path}: ${res.status} ${text}`);
  return text ? JSON.parse(text) : null;
}

before(async () => {
  assert.ok(bin, 'CASELEDGER_BIN must name the caseledger binary');
  assert.ok(demoBin, 'CASELEDGER_DEMO_BIN must name the caseledger-demo binary');
  dir = mkdtempSync(join(tmpdir(), 'console-test-'));
  idp = await startProvider({});
  const serveArgs = ['--data', join(dir, 'data'), '--listen', '127.0.0.1:0',
    '--jwt-jwks-uri', idp.jwksUri, '--jwt-issuer', idp.issuer, '--jwt-audience', 'caseledger',
    '--console-client-id', idp.clientId];
  // The demo data and its admin's token, as ops/demo loads them; grants that open personal
  // data take two admins: a second is recorded offline (the bootstrap path) before serving.
  const env = { ...process.env, CASELEDGER_HOME: sourceDir };
  const demo = execFileSync(demoBin, ['--data', join(dir, 'data')], { env }).toString();
  const demoAdmin = /demo-admin \(.*\):\n\s+(\S+)/.exec(demo);
  assert.ok(demoAdmin, `caseledger-demo printed no demo-admin token:\n${demo}`);
  adminToken = demoAdmin[1];
  execFileSync(bin, ['grant', '--data', join(dir, 'data'), '--sub', 'console-admin-2', '--role', 'admin'], { env });
  const secondAdmin = execFileSync(bin, ['token', '--key', join(dir, 'data', 'auth.key'), '--sub', 'console-admin-2'])
    .toString().trim();
  serve = await startServe(serveArgs);
  base = serve.url;
  idp.configure(`${base}/`);
  // The roles the demo does not create, granted through the API: asked by the demo admin,
  // approved by the second.
  for (const [user, role, scope] of [['lab-to', 'lab', 'LAB-TO'], ['op-al', 'operator', 'AL'], ['gp-to', 'gp', 'GP001272001'], ['school-to', 'school', schoolCode()]]) {
    await api('POST', '/v1/grants', adminToken, { user, role, scope });
    if (role !== 'school') await api('POST', '/v1/grants', secondAdmin, { user, role, scope });
  }
  browser = await chromium.launch({ executablePath: process.env.CHROMIUM || '/usr/bin/chromium', args: process.getuid?.() === 0 ? ['--no-sandbox'] : [] });
});

after(async () => {
  await browser?.close();
  serve?.child.kill('SIGTERM');
  await idp?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
  console.log(`console figures: ${JSON.stringify(figures)}`);
});

// A school code of the demo's form (province, IC8, ISTAT tail, a digit, a check letter).
function schoolCode() {
  const first9 = 'TOIC82720';
  let sum = 0;
  for (let i = 0; i < first9.length; i++) sum += (i + 1) * first9.charCodeAt(i);
  return first9 + String.fromCharCode(65 + (sum % 26));
}

// A new browser context (fresh sessionStorage) signed in through the provider as `login`.
async function signIn(login) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: 'it-IT', timezoneId: 'UTC' });
  // Nothing leaves the machine: the console fetches nothing from elsewhere, and the
  // provider's dev pages' web fonts are refused at once instead of waiting on DNS.
  await context.route((u) => !['127.0.0.1', 'localhost'].includes(u.hostname), (route) => route.abort());
  const page = await context.newPage();
  page.setDefaultTimeout(120000);  // a shared, loaded CI machine: slow, not broken
  // Only the console's own pages count (the provider's login pages are not ours).
  const ours = () => page.url().startsWith(base);
  page.on('console', (m) => { if (ours() && /Content.Security.Policy/i.test(m.text())) cspViolations.push(`${login}: ${m.text()}`); });
  page.on('pageerror', (e) => { if (ours()) cspViolations.push(`${login}: page error ${e.message}`); });
  await page.goto(`${base}/`);
  await page.click('#signin-oidc');
  await page.waitForURL((u) => u.origin === idp.issuer);
  await page.fill('input[name=login]', login);
  await page.fill('input[name=password]', 'any');
  await page.click('button[type=submit]');
  await page.click('button[type=submit]');  // consent
  await page.waitForURL((u) => u.origin === base);
  await page.waitForSelector(`#who:has-text("${login}")`);
  assert.equal(new URL(page.url()).search, '', 'the code must leave the address bar');
  assert.ok(!(await context.cookies()).some((c) => /token/i.test(c.name)), 'no token in a cookie');
  return page;
}

async function visit(page, hash, ready) {
  await page.evaluate((h) => { location.hash = h; }, hash);
  await page.waitForSelector(ready);
}

async function check(page, name) {
  await page.screenshot({ path: join(artifacts, `${name}.png`), fullPage: false });
  await page.evaluate(axeSource);
  const result = await page.evaluate(() => window.axe.run(document, { runOnly: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] }));
  const bad = result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  assert.deepEqual(bad.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).slice(0, 3).join(', ')}`), [], `${name}: accessibility`);
}

const state = {};

test('the console is served with its security headers, ETag/304 and gzip', async () => {
  const res = await fetch(`${base}/`, { headers: { 'Accept-Encoding': 'gzip' } });
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type'), /text\/html/);
  const csp = res.headers.get('content-security-policy');
  assert.match(csp, /script-src 'self';/);
  assert.doesNotMatch(csp, /unsafe-inline/);
  assert.match(csp, new RegExp(`connect-src 'self' ${idp.issuer.replace(/[.]/g, '\\.')}`));
  const etag = res.headers.get('etag');
  const again = await fetch(`${base}/assets/app.js`, { headers: { 'If-None-Match': 'x' } });
  assert.match(again.headers.get('content-type'), /text\/javascript/);
  const tag = again.headers.get('etag');
  const not = await fetch(`${base}/assets/app.js`, { headers: { 'If-None-Match': tag } });
  assert.equal(not.status, 304);
  assert.ok(etag);
  const config = await (await fetch(`${base}/console/config.json`)).json();
  assert.deepEqual(config.oidc, { issuer: idp.issuer, client_id: idp.clientId });
  // serve read the provider's keys where its discovery document says they are.
  const discovery = await (await fetch(`${idp.issuer}/.well-known/openid-configuration`)).json();
  assert.equal(discovery.jwks_uri, idp.jwksUri);
  // The views' JSON comes gzipped to a client that accepts it (node's fetch inflates it).
  const view = await fetch(`${base}/v1/views/region`, { headers: { Authorization: `Bearer ${adminToken}`, 'Accept-Encoding': 'gzip' } });
  assert.equal(view.status, 200);
  assert.equal(view.headers.get('content-encoding'), 'gzip');
  assert.match(view.headers.get('etag'), /^W\//);
  assert.ok((await view.json()).daily.length > 0);
});

test('dashboard draws the curve and follows the views live', async () => {
  const page = await signIn('demo-admin');
  const t0 = Date.now();
  await page.goto(`${base}/#/dashboard`);
  await page.waitForSelector('#curve[data-drawn] canvas');
  figures.dashboard_ms_after_navigation = Date.now() - t0;
  figures.dashboard_ms_in_page = Number(await page.evaluate(() => document.body.dataset.dashboardMs));
  await page.waitForSelector('#live-state[data-state=open]');
  state.dashboard = page;
  state.totalBefore = await page.textContent('[data-kpi=total] .value');
  await page.evaluate(() => { window.notReloaded = true; });
  await check(page, 'dashboard');
  await page.fill('#municipalities-search', 'Torino');
  assert.ok((await page.locator('#municipalities tbody tr').count()) >= 1);
  assert.match(await page.textContent('#municipalities tbody'), /Torino/);
});

test('operator registers a person (field errors first) and requests a swab', async () => {
  const page = await signIn('demo-operator-to');
  const keys = [];
  page.on('request', (r) => { if (r.method() === 'POST') keys.push(r.headers()['idempotency-key']); });
  await visit(page, '#/operator', '#register');
  await check(page, 'operator');
  await page.fill('#register-family_name', 'Verdi');
  await page.fill('#register-given_names', 'Giulia');
  await page.fill('#register-birth_date', '1980-05-04');
  await page.selectOption('#register-sex', 'F');
  await page.fill('#register-residence_istat', '999999');
  await page.click('#register button[type=submit]');
  await page.waitForSelector('#register-residence_istat.is-invalid');
  assert.notEqual((await page.textContent('#register-residence_istat-error')).trim(), '');
  await page.fill('#register-residence_istat', '001272');
  await page.click('#register button[type=submit]');
  await page.waitForURL(/#\/person\//);
  state.personId = page.url().split('/').pop();
  await page.waitForSelector('#swab');
  await check(page, 'person');
  // Someone else changes the case meanwhile: the stale form gets 412 and says so.
  const token = await page.evaluate(() => sessionStorage.getItem('caseledger.token'));
  await api('POST', `/v1/people/${state.personId}/gp`, token, { gp_id: 'GP001272001' });
  state.swabId = `CT-${Date.now()}`;
  await page.fill('#swab-swab_id', state.swabId);
  await page.selectOption('#swab-kind', 'molecular');
  await page.click('#swab button[type=submit]');
  await page.waitForSelector('#swab [data-status="412"]');  // precondition-failed (openapi: If-Match)
  assert.match(await page.textContent('#swab .form-status'), /nel frattempo/);
  await page.reload();
  await page.waitForSelector('#swab');
  await page.fill('#swab-swab_id', state.swabId);
  await page.selectOption('#swab-kind', 'molecular');
  await page.click('#swab button[type=submit]');
  await page.waitForSelector('#timeline [data-type=SwabRequested]');
  assert.ok(keys.length >= 3 && keys.every((k) => /^[0-9a-f-]{36}$/.test(k)), `Idempotency-Key on every POST: ${keys}`);
  await api('POST', `/v1/people/${state.personId}/enrolments`, token, { school: schoolCode(), class: '3A', role: 'student' });
  state.operator = page;
});

test('lab records the collection, uploads the result; the dashboard moves without a reload', async () => {
  const page = await signIn('lab-to');
  await visit(page, '#/lab', '#upload');
  await page.fill('#collection-swab_id', state.swabId);
  await page.fill('#collection-collected_at', new Date(Date.now() - 600e3).toISOString().slice(0, 16));
  await page.click('#collection button[type=submit]');
  await page.waitForSelector('#collection .alert-success');
  const csv = `swab_id,outcome,lab_id,reported_at\n${state.swabId},positive,LAB-TO,${new Date().toISOString().replace(/\.\d+Z/, 'Z')}\nNOPE-000001,negative,LAB-TO,${new Date().toISOString().replace(/\.\d+Z/, 'Z')}\n`;
  await page.setInputFiles('#upload-file', { name: 'results.csv', mimeType: 'text/csv', buffer: Buffer.from(csv) });
  await page.click('#upload button[type=submit]');
  await page.waitForSelector('#batch-rows');
  const rows = await page.locator('#batch-rows tbody tr').allTextContents();
  assert.equal(rows.length, 2);
  assert.match(rows.find((r) => r.startsWith('0')), /201/);
  assert.match(rows.find((r) => r.startsWith('1')), /404/);
  await check(page, 'lab');
  const dash = state.dashboard;
  await dash.waitForFunction((before) => document.querySelector('[data-kpi=total] .value')?.textContent !== before, state.totalBefore, { timeout: 60000 });
  assert.equal(await dash.evaluate(() => window.notReloaded), true, 'the dashboard changed without a reload');
  assert.equal(Number((await dash.textContent('[data-kpi=total] .value')).replace(/\D/g, '')),
    Number(state.totalBefore.replace(/\D/g, '')) + 1);
});

test('mayor sees small counts as "< 3"', async () => {
  const page = await signIn('demo-mayor-torino');
  await visit(page, '#/mayor', '#mayor-kpis');
  assert.match(await page.textContent('#mayor-kpis'), /< 3/);
  await check(page, 'mayor');
  await visit(page, '#/operator', '[data-testid=not-available]');
});

test('auditor reads the history, the access report with the operator\'s read, the chain tip', async () => {
  const page = await signIn('demo-admin');
  await visit(page, '#/auditor', '#audit-person');
  assert.match(await page.textContent('#chain'), /[0-9a-f]{64}/);
  let report = '';
  for (let i = 0; i < 20 && !/demo-operator-to/.test(report); i++) {  // the access log is durable within about a second
    await page.fill('#audit-person-id', state.personId);
    await page.click('#audit-person button[type=submit]');
    await page.waitForSelector('#access-table');
    report = await page.textContent('#access-table');
    if (!/demo-operator-to/.test(report)) await page.waitForTimeout(300);
  }
  assert.match(report, /demo-operator-to/);
  assert.match(report, /GET \/v1\/people\/\{id\}/);
  assert.match(await page.textContent('#history-table'), /SwabRequested/);
  await check(page, 'auditor');
  await visit(page, '#/admin', '#grants-table');
  assert.match(await page.textContent('#grants-table'), /lab-to/);
  await page.fill('#dry-run-rules', readFileSync(join(sourceDir, 'ops/rules/2020-10-12.json'), 'utf8'));
  await page.click('#dry-run button[type=submit]');
  await page.waitForSelector('#whatif-totals', { timeout: 60000 });
  await check(page, 'admin');
  await visit(page, '#/me', '#me-grants');
  await check(page, 'me');
  await page.click('#signout');
  await page.waitForSelector('#signin-oidc');
  assert.equal(await page.evaluate(() => sessionStorage.getItem('caseledger.token')), null);
});

test('GP and school pages', async () => {
  const gp = await signIn('gp-to');
  await visit(gp, '#/gp', '#patients');
  assert.match(await gp.textContent('#patients'), new RegExp(state.personId));
  await check(gp, 'gp');
  const school = await signIn('school-to');
  await visit(school, '#/school', '#classes');
  assert.match(await school.textContent('#classes'), /3A/);
  await check(school, 'school');
});

test('an operator of another ASL gets "not available to you"', async () => {
  const page = await signIn('op-al');
  await visit(page, `#/person/${state.personId}`, '[data-testid=not-available]');
  await check(page, 'not-available');
  assert.deepEqual(cspViolations, []);
});
