// Drives Hawtio's kvmtool tab in Debian's headless Chromium (playwright-core), as an operator would.
// Run by HawtioBrowserIT against the booted distribution, with the lkvm stand-in:
//
//   node hawtio-dashboard.mjs admin|viewer
//
// Environment: KVMTOOL_BASE_URL (http://127.0.0.1:PORT), KVMTOOL_USER, KVMTOOL_PASSWORD,
// KVMTOOL_SCREENSHOTS (a folder; PNGs are written there), KVMTOOL_CHROMIUM (default /usr/bin/chromium),
// KVMTOOL_CHART_SECONDS (how long the running domain's charts fill before the screenshot; default 10).
// The domains alpha and beta must be defined and shut off. Exit code 0 when every check passed; each
// check prints a line, a failure prints what was expected and what the page showed.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { chromium } from 'playwright-core';

const scenario = process.argv[2];
const base = required('KVMTOOL_BASE_URL');
const user = required('KVMTOOL_USER');
const password = required('KVMTOOL_PASSWORD');
const shots = process.env.KVMTOOL_SCREENSHOTS || '';
const chartSeconds = Number(process.env.KVMTOOL_CHART_SECONDS || '10');
const DOMAINS_PATTERN = 'kvmtool:type=Domain,name=*';
const T = { boot: 120_000, state: 60_000, ui: 30_000 };

function required(name) {
  const value = process.env[name];
  if (!value) {
    throw new Error(`environment variable ${name} is not set`);
  }
  return value;
}

const started = Date.now();
function log(text) {
  console.log(`[${((Date.now() - started) / 1000).toFixed(1).padStart(6)} s] ${text}`);
}

async function step(name, fn) {
  log(`STEP ${name}`);
  await fn();
  log(`  ok ${name}`);
}

const browser = await chromium.launch({
  executablePath: process.env.KVMTOOL_CHROMIUM || '/usr/bin/chromium',
  headless: true,
  // stack.md: this machine's closed network refuses Chromium's own background connections
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync'],
});
const context = await browser.newContext({ viewport: { width: 1280, height: 860 } });
const page = await context.newPage();

// The network log: every Jolokia request the page sends, with its body.
const jolokia = [];
page.on('request', (r) => {
  if (r.url().includes('/jolokia')) {
    jolokia.push({ t: Date.now(), method: r.method(), url: r.url(), body: r.postData() || '' });
  }
});
const pageErrors = [];
page.on('pageerror', (e) => pageErrors.push(e.message));
page.on('dialog', (d) => d.accept());   // "Destroy domain alpha?" and the like

async function screenshot(name, locator) {
  if (!shots) {
    return;
  }
  fs.mkdirSync(shots, { recursive: true });
  const file = path.join(shots, name);
  if (locator) {
    await locator.screenshot({ path: file });
  } else {
    await page.screenshot({ path: file });
  }
  log(`  screenshot ${file} (${fs.statSync(file).size} bytes)`);
}

// Hawtio scrolls its main area, not the window: bring the top of the tab back into view.
async function scrollToTop() {
  await page.evaluate(() => {
    for (let el = document.querySelector('.kvmtool'); el; el = el.parentElement) {
      el.scrollTop = 0;
    }
    window.scrollTo(0, 0);
  });
}

function row(name) {
  return page.locator(`tr.kvmtool-row[data-domain="${name}"]`);
}

async function waitState(name, state, timeout = T.state) {
  await page.waitForSelector(`tr.kvmtool-row[data-domain="${name}"][data-state="${state}"]`, { timeout });
}

async function rowNames() {
  return page.locator('tr.kvmtool-row').evaluateAll((rows) => rows.map((r) => r.dataset.domain));
}

async function buttons(name) {
  return row(name).locator('.kvmtool-actions button').evaluateAll((bs) => bs.map((b) => b.textContent.trim()));
}

// The open domain's AllowedOperations, from its attribute table: "[shutdown, reboot, ...]".
async function allowedOperations() {
  const cell = page.locator('.kvmtool-attributes tr[data-attribute="AllowedOperations"] td');
  await cell.waitFor({ timeout: T.ui });
  return (await cell.textContent()).trim().replace(/^\[|\]$/g, '').split(/,\s*/).filter((op) => op);
}

async function login() {
  await page.goto(`${base}/hawtio/`, { timeout: T.boot });
  await page.getByLabel('Username').fill(user, { timeout: T.boot });
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Log in' }).click();
  // the tab appears once Hawtio has loaded the JMX tree and found the kvmtool domain in it
  await page.getByRole('link', { name: 'kvmtool', exact: true }).click({ timeout: T.boot });
  await page.waitForSelector('tr.kvmtool-row', { timeout: T.ui });
}

// The refresh requests of the table: the POSTs whose body holds the pattern read of every domain.
function refreshes(since) {
  return jolokia.filter((r) => r.t >= since && r.body.includes(DOMAINS_PATTERN));
}

async function checkOneBulkRequestPerCycle(label, mustContain) {
  const since = Date.now();
  await page.waitForTimeout(7_000);
  const mine = jolokia.filter((r) => r.t >= since && r.body.includes('kvmtool:'));
  const cycles = refreshes(since);
  log(`  ${label}: ${cycles.length} refresh requests and ${mine.length} kvmtool requests in 7 s`);
  assert.ok(cycles.length >= 2 && cycles.length <= 5, `one refresh every 2 s expected, saw ${cycles.length} in 7 s`);
  for (const r of mine) {
    assert.ok(r.body.includes(DOMAINS_PATTERN),
      `every kvmtool request of a refresh cycle is the one bulk request; this one is not: ${r.body.slice(0, 300)}`);
    const body = JSON.parse(r.body);
    assert.ok(Array.isArray(body), 'the refresh is a Jolokia bulk request (a JSON array)');
    assert.equal(r.method, 'POST');
    for (const part of mustContain) {
      assert.ok(r.body.includes(part), `the bulk request carries ${part}: ${r.body.slice(0, 400)}`);
    }
  }
}

async function adminScenario() {
  await step('log in as admin and open the kvmtool tab', login);

  await step('the table lists both domains, shut off, with their buttons', async () => {
    assert.deepEqual(await rowNames(), ['alpha', 'beta']);
    await waitState('alpha', 'shutoff');
    await waitState('beta', 'shutoff');
    await page.waitForSelector('tr[data-domain="alpha"] .kvmtool-op-start', { timeout: T.ui });
    assert.deepEqual(await buttons('alpha'), ['start', 'undefine']);
    assert.ok(await page.locator('.kvmtool-define-open').isVisible(), 'an admin may define domains');
  });

  await step('refresh: one Jolokia bulk request per cycle (network log)', async () => {
    await checkOneBulkRequestPerCycle('table only', ['kvmtool:type=Manager']);
  });

  await step('sort by name, both ways', async () => {
    await page.click('th.kvmtool-col-Name');
    assert.deepEqual(await rowNames(), ['beta', 'alpha']);
    await page.click('th.kvmtool-col-Name');
    assert.deepEqual(await rowNames(), ['alpha', 'beta']);
  });

  await step('filter by name', async () => {
    await page.fill('.kvmtool-filter', 'bet');
    assert.deepEqual(await rowNames(), ['beta']);
    await page.fill('.kvmtool-filter', 'nothing-like-this');
    assert.deepEqual(await rowNames(), []);
    assert.match(await page.locator('.kvmtool-empty').textContent(), /matches the filter/);
    await page.fill('.kvmtool-filter', '');
    assert.deepEqual(await rowNames(), ['alpha', 'beta']);
  });

  await step('start alpha: its state turns running, its CPU is measured, its buttons change', async () => {
    assert.equal((await row('alpha').locator('.kvmtool-cpu').textContent()).trim(), '-');
    await row('alpha').locator('.kvmtool-op-start').click();
    await waitState('alpha', 'running');
    await page.waitForFunction(() => {
      const cell = document.querySelector('tr[data-domain="alpha"] .kvmtool-cpu');
      return cell && /^\d+(\.\d)? %$/.test(cell.textContent.trim());
    }, null, { timeout: T.ui });
    log(`  alpha: ${(await row('alpha').locator('.kvmtool-state').textContent()).trim()}, CPU `
      + (await row('alpha').locator('.kvmtool-cpu').textContent()).trim());
    // undefine too: a running persistent domain may be undefined, it goes on as a transient one
    assert.deepEqual(await buttons('alpha'), ['shutdown', 'reboot', 'suspend', 'destroy', 'undefine']);
    assert.deepEqual(await buttons('beta'), ['start', 'undefine'], 'beta is untouched');
  });

  await step('sort by state: running after shutoff ascending', async () => {
    await page.click('th.kvmtool-col-State');
    assert.deepEqual(await rowNames(), ['alpha', 'beta']);   // "running" < "shutoff"
    await page.click('th.kvmtool-col-State');
    assert.deepEqual(await rowNames(), ['beta', 'alpha']);
    await page.click('th.kvmtool-col-Name');
  });

  await step('open alpha: attributes, charts, the console shows the guest banner, dumpxml', async () => {
    await row('alpha').locator('.kvmtool-name').click();
    await page.waitForSelector('.kvmtool-detail', { timeout: T.ui });
    await page.waitForFunction(() => (document.querySelector('.kvmtool-console')?.textContent || '').includes('GUEST READY'),
      null, { timeout: T.ui });
    await page.waitForFunction(() => (document.querySelector('.kvmtool-xml')?.textContent || '').includes('<name>alpha</name>'),
      null, { timeout: T.ui });
    await page.waitForSelector('.kvmtool-attributes tr[data-attribute="CpuTimeNanos"]', { timeout: T.ui });
    const pid = await page.locator('.kvmtool-attributes tr[data-attribute="Pid"] td').textContent();
    assert.match(pid.trim(), /^[1-9]\d*$/, 'a running domain has a pid');
    // the row's buttons are the driver's AllowedOperations (an admin may invoke them all)
    const allowed = await allowedOperations();
    log(`  AllowedOperations of alpha: ${allowed.join(', ')}`);
    const shown = await buttons('alpha');
    assert.deepEqual(shown, ['shutdown', 'reboot', 'suspend', 'destroy', 'undefine']);
    for (const op of shown) {
      assert.ok(allowed.includes(op), `${op} is shown, so AllowedOperations names it: ${allowed}`);
    }
    assert.ok(!allowed.includes('start'), `a running domain does not allow start: ${allowed}`);
    assert.ok(allowed.includes('sendConsole'), 'the console box is there because sendConsole is allowed');
  });

  await step('refresh with the domain panel open: still one bulk request per cycle', async () => {
    await checkOneBulkRequestPerCycle('panel open', ['kvmtool:type=Manager', 'kvmtool:type=Domain,name=alpha', 'consoleLog']);
  });

  await step('type into the console: the guest echoes it', async () => {
    await page.fill('.kvmtool-console-input', 'hello from the browser');
    await page.press('.kvmtool-console-input', 'Enter');
    await page.waitForFunction(
      () => (document.querySelector('.kvmtool-console')?.textContent || '').includes('hello from the browser'),
      null, { timeout: T.ui });
    assert.equal(await page.inputValue('.kvmtool-console-input'), '', 'the input line is cleared after sending');
  });

  await step(`the charts fill (${chartSeconds} s)`, async () => {
    await page.waitForTimeout(chartSeconds * 1000);
    const points = await page.locator('.kvmtool-cpu-chart polyline').getAttribute('points');
    assert.ok(points && points.trim().split(' ').length >= 2, `the CPU chart has a line: "${points}"`);
    const cpu = await page.locator('.kvmtool-attributes tr[data-attribute="CpuTimeNanos"] td').textContent();
    assert.ok(Number(cpu) > 0, `CpuTimeNanos of a running guest is above 0: ${cpu}`);
    await scrollToTop();
    await screenshot('hawtio-dashboard.png');
    await screenshot('hawtio-console.png', page.locator('.kvmtool-console').locator('xpath=..'));
  });

  await step('suspend and resume alpha', async () => {
    await row('alpha').locator('.kvmtool-op-suspend').click();
    await waitState('alpha', 'paused');
    assert.deepEqual(await buttons('alpha'), ['resume', 'destroy', 'undefine']);
    await row('alpha').locator('.kvmtool-op-resume').click();
    await waitState('alpha', 'running');
  });

  await step('define: a broken definition shows the codec\'s error and its line', async () => {
    await page.click('.kvmtool-define-open');
    await page.fill('.kvmtool-define-xml', [
      "<domain type='kvmtool'>",
      '  <name>gamma</name>',
      "  <memory unit='MiB'>64</memory>",
      '  <floppy/>',
      '</domain>'].join('\n'));
    await page.click('.kvmtool-define-submit');
    await page.waitForSelector('.kvmtool-define-error', { timeout: T.ui });
    const error = (await page.locator('.kvmtool-define-error').textContent()).replace(/\s+/g, ' ');
    log(`  error shown: ${error.trim()}`);
    assert.match(error, /line 4/);
    assert.match(error, /floppy/);
    assert.ok(!/Exception/.test(error), 'no Java class name in the message');
    assert.match(await page.locator('.kvmtool-define-line').textContent(), /^4: +<floppy\/>/);
    await screenshot('hawtio-define-error.png', page.locator('.kvmtool-define'));
    await page.click('.kvmtool-define-cancel');
  });

  await step('destroy alpha: it is shut off, destroyed', async () => {
    await row('alpha').locator('.kvmtool-op-destroy').click();
    await waitState('alpha', 'shutoff');
    assert.match(await row('alpha').locator('.kvmtool-state').textContent(), /destroyed/);
    assert.deepEqual(await buttons('alpha'), ['start', 'undefine']);
    assert.equal((await row('alpha').locator('.kvmtool-cpu').textContent()).trim(), '-');
  });
}

async function viewerScenario() {
  await step('log in as viewer and open the kvmtool tab', login);

  await step('the viewer sees both domains and no action at all', async () => {
    assert.deepEqual(await rowNames(), ['alpha', 'beta']);
    // Karaf's answer about the viewer's permissions is asked right after the first refresh
    await page.waitForSelector('table.kvmtool-domains[data-permissions="known"]', { timeout: T.ui });
    assert.equal(await page.locator('.kvmtool-actions button').count(), 0, 'no action buttons for a viewer');
    assert.equal(await page.locator('.kvmtool-define-open').count(), 0, 'no define button for a viewer');
    assert.equal(await page.locator('.kvmtool-error').count(), 0, 'no error shown');
  });

  await step('the permissions are asked of the JMX security MBean Hawtio\'s RBAC chose', async () => {
    const execs = jolokia.flatMap((r) => {
      try {
        const body = JSON.parse(r.body);
        return Array.isArray(body) ? body : [body];
      } catch (e) {
        return [];   // a GET
      }
    }).filter((b) => b.type === 'exec' && /^canInvoke\(/.test(b.operation || ''));
    // Hawtio's own RBAC decorates its JMX tree with canInvoke(String) of the MBean it chose
    const hawtios = new Set(execs.filter((b) => b.operation === 'canInvoke(java.lang.String)').map((b) => b.mbean));
    const ours = execs.filter((b) => b.operation === 'canInvoke(java.util.Map)'
      && JSON.stringify(b.arguments).includes('kvmtool:type=Domain,name=beta'));
    log(`  Hawtio asks ${[...hawtios].join(', ')}; the tab asked ${ours.map((b) => b.mbean).join(', ')}`);
    assert.equal(hawtios.size, 1, `Hawtio's RBAC uses one MBean: ${[...hawtios]}`);
    assert.ok(ours.length >= 1, 'the tab asked canInvoke(Map) about beta');
    assert.ok(ours.every((b) => hawtios.has(b.mbean)), 'the tab asks the same MBean');
  });

  await step('the viewer opens beta: attributes, no console, no definition', async () => {
    await row('beta').locator('.kvmtool-name').click();
    await page.waitForSelector('.kvmtool-attributes tr[data-attribute="State"]', { timeout: T.ui });
    // beta's state allows start and more: the viewer lacks the buttons because Karaf refuses him, not the state
    const allowed = await allowedOperations();
    log(`  AllowedOperations of beta: ${allowed.join(', ')}`);
    assert.ok(allowed.includes('start'), `beta (shut off) allows start: ${allowed}`);
    assert.equal(await row('beta').locator('.kvmtool-actions button').count(), 0);
    assert.equal(await page.locator('.kvmtool-console').count(), 0);
    assert.equal(await page.locator('.kvmtool-xml').count(), 0);
    assert.equal(await page.locator('.kvmtool-setmem').count(), 0);
    assert.equal(await page.locator('.kvmtool-autostart').count(), 0);
    await screenshot('hawtio-viewer.png');
  });

  // The page hides the buttons; the server must refuse what a viewer forges.
  const forged = { type: 'exec', mbean: 'kvmtool:type=Domain,name=beta', operation: 'start()' };
  const harmless = { type: 'read', mbean: 'kvmtool:type=Domain,name=beta', attribute: 'State' };

  await step('a forged exec with the viewer\'s Hawtio session is refused', async () => {
    const answers = await page.evaluate(async (requests) => {
      const out = [];
      for (const body of requests) {
        const r = await fetch('/hawtio/jolokia/', {
          method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body),
        });
        out.push({ http: r.status, text: await r.text() });
      }
      return out;
    }, [harmless, forged]);
    log(`  read:  HTTP ${answers[0].http} ${answers[0].text.slice(0, 200)}`);
    log(`  start: HTTP ${answers[1].http} ${answers[1].text.slice(0, 300)}`);
    // the same door, session and origin: the read passes, so the refusal is the role's
    assert.equal(JSON.parse(answers[0].text).status, 200, 'the viewer may read');
    assert.equal(JSON.parse(answers[0].text).value, 'shutoff');
    refused(answers[1]);
  });

  await step('a forged exec with the viewer\'s credentials (basic auth, no session) is refused', async () => {
    const auth = 'Basic ' + Buffer.from(`${user}:${password}`).toString('base64');
    const answers = [];
    for (const body of [harmless, forged]) {
      const r = await fetch(`${base}/hawtio/jolokia/`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Authorization: auth, Origin: base },
        body: JSON.stringify(body),
      });
      answers.push({ http: r.status, text: await r.text() });
    }
    log(`  read:  HTTP ${answers[0].http} ${answers[0].text.slice(0, 200)}`);
    log(`  start: HTTP ${answers[1].http} ${answers[1].text.slice(0, 300)}`);
    assert.equal(answers[0].http, 200, 'the viewer\'s credentials are accepted for a read');
    assert.equal(JSON.parse(answers[0].text).status, 200);
    refused(answers[1]);
  });

  await step('beta is still shut off', async () => {
    await page.waitForTimeout(3_000);
    await waitState('beta', 'shutoff', 1_000);
  });
}

function refused(answer) {
  let json = null;
  try {
    json = JSON.parse(answer.text);
  } catch (e) {
    // an HTTP-level refusal has no JSON body
  }
  const status = json ? json.status : answer.http;
  assert.ok(status === 403 || answer.http === 403, `start() refused with 403, got HTTP ${answer.http}: ${answer.text.slice(0, 300)}`);
  assert.match(answer.text, /forbidden|Forbidden/);
}

let failed = null;
try {
  if (scenario === 'admin') {
    await adminScenario();
  } else if (scenario === 'viewer') {
    await viewerScenario();
  } else {
    throw new Error(`unknown scenario "${scenario}" (admin or viewer)`);
  }
  assert.deepEqual(pageErrors, [], 'no uncaught error in the page');
} catch (e) {
  failed = e;
  console.log(`FAILED: ${e.stack || e}`);
  if (shots) {
    await screenshot(`failure-${scenario}.png`).catch(() => {});
  }
  try {
    console.log(`page text at failure:\n${(await page.locator('.kvmtool').innerText({ timeout: 2_000 })).slice(0, 3000)}`);
  } catch (ignored) {
    console.log(`page at failure: ${page.url()}`);
  }
} finally {
  await browser.close();
}
log(failed ? 'scenario FAILED' : `scenario ${scenario} passed`);
process.exit(failed ? 1 : 0);
