// Opens one URL in headless Chromium on a phone and a desktop viewport, in light and dark colour schemes, with the
// page's Content-Security-Policy ENFORCED; takes full-page screenshots, runs axe-core, measures horizontal
// overflow, counts <script> elements, collects console errors and every CSP violation (securitypolicyviolation
// events, recorded by a script the browser runs before the page's own), and reports the document's security
// headers and whether its stylesheet applied. Prints ONE JSON object on stdout; anything else goes to stderr.
//
//   node inspect_page.mjs --url=URL --out=DIR --chromium=/usr/bin/chromium --node-modules=DIR [--name=status]
//                         [--submit-email=ADDRESS]
//
// With --submit-email, the page is opened once more with JavaScript DISABLED (as a reader who turned it off): the
// subscribe form's email field is filled in through its label and its button clicked, and the report's `subscribe`
// says what the form was and what its POST answered.
//
// ESM imports do not honour NODE_PATH, so the npm packages are loaded with a require() rooted in --node-modules.
import { mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { parseArgs } from 'node:util';

const { values: args } = parseArgs({
  options: {
    url: { type: 'string' },
    out: { type: 'string' },
    name: { type: 'string', default: 'status' },
    chromium: { type: 'string', default: '/usr/bin/chromium' },
    'node-modules': { type: 'string' },
    'submit-email': { type: 'string' },
  },
});
for (const required of ['url', 'out', 'node-modules']) {
  if (!args[required]) {
    console.error(`inspect_page.mjs: --${required} is required`);
    process.exit(2);
  }
}

// A require() that resolves from <node-modules>/.. finds packages in <node-modules>.
const require = createRequire(path.join(path.resolve(args['node-modules']), '..', 'inspect-page.cjs'));
const { chromium } = require('playwright-core');
const axeSource = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

const VIEWPORTS = {
  phone: { viewport: { width: 375, height: 812 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true },
  desktop: { viewport: { width: 1280, height: 900 }, deviceScaleFactor: 1, isMobile: false, hasTouch: false },
};
const SCHEMES = ['light', 'dark'];
const SUBMIT_TIMEOUT_MS = 10000;
const AXE_TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'];

mkdirSync(args.out, { recursive: true });
const report = {
  screenshots: [], violations: [], overflow: {}, scripts: 0, console_errors: [], csp_violations: [], headers: {},
  styled: true,
};
const SECURITY_HEADERS = [
  'content-security-policy', 'strict-transport-security', 'x-content-type-options', 'x-frame-options',
  'referrer-policy',
];

const browser = await chromium.launch({
  executablePath: args.chromium,
  // root has no user namespace sandbox; /dev/shm may be small in containers.
  args: ['--no-sandbox', '--disable-dev-shm-usage', '--disable-gpu'],
});
try {
  for (const [viewportName, device] of Object.entries(VIEWPORTS)) {
    for (const scheme of SCHEMES) {
      // The CSP is enforced (no bypassCSP): what a reader's browser does. Init scripts and evaluate() come from
      // the DevTools protocol, which the page's CSP does not govern.
      const context = await browser.newContext({ ...device, colorScheme: scheme });
      await context.addInitScript(() => {
        window.__cspViolations = [];
        document.addEventListener('securitypolicyviolation', (event) => {
          window.__cspViolations.push(`${event.effectiveDirective} blocked ${event.blockedURI || 'inline'}` +
            `${event.sourceFile ? ` (${event.sourceFile}:${event.lineNumber})` : ''}`);
        });
      });
      const page = await context.newPage();
      const where = `${viewportName}/${scheme}`;
      page.on('console', (message) => {
        if (message.type() !== 'error') return;
        const source = message.location().url;
        report.console_errors.push(`${where}: ${message.text()}${source ? ` (${source})` : ''}`);
      });
      page.on('pageerror', (error) => report.console_errors.push(`${where}: ${error.message}`));

      const response = await page.goto(args.url, { waitUntil: 'load' });
      if (!response || !response.ok()) {
        throw new Error(`GET ${args.url} answered ${response ? response.status() : 'nothing'}`);
      }
      await page.evaluate(() => document.fonts.ready);
      const headers = response.headers();
      for (const name of SECURITY_HEADERS) {
        if (headers[name] !== undefined) report.headers[name] = headers[name];
      }
      // The stylesheet applied: the page background is the stylesheet's, not the browser's default transparent.
      const styled = await page.evaluate(() => getComputedStyle(document.body).backgroundColor !== 'rgba(0, 0, 0, 0)');
      report.styled = report.styled && styled;

      const measured = await page.evaluate(() => ({
        scrollWidth: document.documentElement.scrollWidth,
        innerWidth: window.innerWidth,
        scripts: document.querySelectorAll('script').length,
        // Uptime rows: a bar of class gN stands for N days, so it must take N / (days in the row) of the width.
        barError: Math.max(0, ...Array.from(document.querySelectorAll('.bars')).map((row) => {
          const bars = Array.from(row.children);
          const days = bars.map((bar) => Number((bar.className.match(/\bg(\d+)\b/) || [0, 1])[1]));
          const total = days.reduce((a, b) => a + b, 0);
          const width = row.getBoundingClientRect().width;
          return Math.max(0, ...bars.map((bar, n) => Math.abs(bar.getBoundingClientRect().width / width -
            days[n] / total)));
        })),
      }));
      report.bar_share_error = Math.max(report.bar_share_error ?? 0, measured.barError);
      const overflow = Math.max(0, measured.scrollWidth - device.viewport.width);
      report.overflow[viewportName] = Math.max(report.overflow[viewportName] ?? 0, overflow);
      report.scripts = Math.max(report.scripts, measured.scripts); // counted before axe adds its own

      const file = path.join(args.out, `${args.name}-${viewportName}-${scheme}.png`);
      await page.screenshot({ path: file, fullPage: true });
      report.screenshots.push(file);

      for (const found of await page.evaluate(() => window.__cspViolations)) {
        report.csp_violations.push(`${where}: ${found}`);
      }
      // Not a <script> tag (the CSP refuses inline scripts, rightly): evaluated through the DevTools protocol.
      await page.evaluate(axeSource);
      const results = await page.evaluate(
        (tags) => window.axe.run(document, { runOnly: { type: 'tag', values: tags }, resultTypes: ['violations'] }),
        AXE_TAGS,
      );
      for (const violation of results.violations) {
        report.violations.push({
          id: violation.id,
          impact: violation.impact,
          help: violation.help,
          nodes: violation.nodes.length,
          targets: violation.nodes.slice(0, 5).map((node) => node.target.join(' ')),
          scheme,
          viewport: viewportName,
        });
      }
      await context.close();
    }
  }
  if (args['submit-email']) report.subscribe = await submitSubscribeForm(args['submit-email']);
} finally {
  await browser.close();
}

// The page's form, driven as a person would with JavaScript off: the browser alone posts it (no script could).
async function submitSubscribeForm(address) {
  const context = await browser.newContext({ ...VIEWPORTS.phone, javaScriptEnabled: false });
  try {
    const page = await context.newPage();
    // With JavaScript off no securitypolicyviolation listener runs; Chromium still says on its console what the
    // page's CSP refused (a form-action that does not allow the form's action, for one).
    const console = [];
    page.on('console', (message) => console.push(message.text()));
    const loaded = await page.goto(args.url, { waitUntil: 'load' });
    const form = page.locator('form');
    const found = {
      javascript_enabled: false,
      status_code: loaded ? loaded.status() : 0,
      forms: await form.count(),
      form_visible: await form.first().isVisible(),
      method: await form.first().getAttribute('method'),
      action: await form.first().getAttribute('action'),
      checkboxes: await page.getByRole('checkbox').count(),
    };
    found.console = console;
    await page.getByLabel('Email address').fill(address);
    let answer;
    try {
      [answer] = await Promise.all([
        page.waitForResponse((response) => response.request().method() === 'POST', { timeout: SUBMIT_TIMEOUT_MS }),
        page.getByRole('button', { name: 'Subscribe' }).click(),
      ]);
    } catch (error) {
      found.posted_to = null; // the browser sent nothing: `console` says why, if the CSP refused it
      found.error = String(error.message).split('\n')[0];
      return found;
    }
    await page.waitForLoadState('load');
    found.posted_to = answer.url();
    found.posted_body = answer.request().postData();
    found.answer_status = answer.status();
    found.page_url = page.url();
    found.heading = (await page.locator('h1').first().textContent()) || '';
    return found;
  } finally {
    await context.close();
  }
}

process.stdout.write(`${JSON.stringify(report)}\n`);
