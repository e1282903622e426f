// What the browser scenarios share (hawtio-dashboard.mjs, hawtio-terminal.mjs): the environment, the log
// lines, Debian's headless Chromium as this machine runs it, the Hawtio login and screenshots.

import fs from 'node:fs';
import path from 'node:path';
import { chromium } from 'playwright-core';

export const T = { boot: 120_000, state: 60_000, ui: 30_000 };

export function required(name) {
  const value = process.env[name];
  if (!value) {
    throw new Error(`environment variable ${name} is not set`);
  }
  return value;
}

export const env = {
  base: required('KVMTOOL_BASE_URL'),
  user: required('KVMTOOL_USER'),
  password: required('KVMTOOL_PASSWORD'),
  shots: process.env.KVMTOOL_SCREENSHOTS || '',
  chromium: process.env.KVMTOOL_CHROMIUM || '/usr/bin/chromium',
};

const started = Date.now();
export function log(text) {
  console.log(`[${((Date.now() - started) / 1000).toFixed(1).padStart(6)} s] ${text}`);
}

export async function step(name, fn) {
  log(`STEP ${name}`);
  await fn();
  log(`  ok ${name}`);
}

export function launch() {
  return chromium.launch({
    executablePath: env.chromium,
    headless: true,
    // stack.md: this machine's closed network refuses Chromium's own background connections
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
  });
}

export async function screenshot(page, name, locator) {
  if (!env.shots) {
    return;
  }
  fs.mkdirSync(env.shots, { recursive: true });
  const file = path.join(env.shots, name);
  if (locator) {
    await locator.screenshot({ path: file });
  } else {
    await page.screenshot({ path: file });
  }
  log(`  screenshot ${file} (${fs.statSync(file).size} bytes)`);
}

// Hawtio scrolls its main area, not the window: bring the top of the tab back into view.
export async function scrollToTop(page) {
  await page.evaluate(() => {
    for (let el = document.querySelector('.kvmtool'); el; el = el.parentElement) {
      el.scrollTop = 0;
    }
    window.scrollTo(0, 0);
  });
}

export async function login(page) {
  await page.goto(`${env.base}/hawtio/`, { timeout: T.boot });
  await page.getByLabel('Username').fill(env.user, { timeout: T.boot });
  await page.getByLabel('Password').fill(env.password);
  await page.getByRole('button', { name: 'Log in' }).click();
  // the tab appears once Hawtio has loaded the JMX tree and found the kvmtool domain in it
  await page.getByRole('link', { name: 'kvmtool', exact: true }).click({ timeout: T.boot });
  await page.waitForSelector('tr.kvmtool-row', { timeout: T.ui });
}

// Runs a scenario: exit code 0 when every check passed; a failure prints what the page showed.
export async function run(browser, pages, scenarios, scenario) {
  let failed = null;
  try {
    const fn = scenarios[scenario];
    if (!fn) {
      throw new Error(`unknown scenario "${scenario}" (${Object.keys(scenarios).join(' or ')})`);
    }
    await fn();
  } catch (e) {
    failed = e;
    console.log(`FAILED: ${e.stack || e}`);
    for (const [i, page] of pages.entries()) {
      if (page.isClosed()) {
        continue;
      }
      const script = path.basename(process.argv[1], '.mjs');
      await screenshot(page, `failure-${script}-${scenario}${i ? '-' + i : ''}.png`).catch(() => {});
      try {
        console.log(`page text at failure:\n${(await page.locator('.kvmtool').innerText({ timeout: 2_000 })).slice(0, 3000)}`);
      } catch (ignored) {
        console.log(`page at failure: ${page.url()}`);
      }
    }
  } finally {
    await browser.close();
  }
  log(failed ? 'scenario FAILED' : `scenario ${scenario} passed`);
  process.exit(failed ? 1 : 0);
}
