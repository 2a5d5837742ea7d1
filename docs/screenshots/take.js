// Run against a fresh `make demo`: npm install playwright-core; node take.js http://127.0.0.1:8000/ \
//   http://127.0.0.1:8100 admin <password> docs/screenshots   (Chromium at /usr/bin/chromium)
// Screenshots of the running demo, for example/README.md (take_summary.js: the summary crop).
const { chromium } = require("playwright-core");
const [url, api, user, password, out] = process.argv.slice(2);
const KEY = "ipk_demo_5b0c9f27e1a84d36";
const MISBEHAVING = { api_key: KEY, latency: 0.3, failure_rate: 0.2, rate_limit_rate: 0.1,
                      retry_after: 2, revoked_accounts: "" };

async function knobs(page, changes) {
  await page.request.post(`${api}/_control`, { data: changes });
}

async function start(page, button) {
  await page.goto(url);
  await page.click(button);
  await page.waitForURL(/report=\d+/);
}

async function waitFinished(page) {
  await page.waitForSelector("#current[data-finished='1']", { timeout: 120000 });
}

(async () => {
  const browser = await chromium.launch({
    executablePath: "/usr/bin/chromium",
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
           "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  await page.goto(`${url}admin/login/?next=/demo/`);
  await page.fill("#id_username", user);
  await page.fill("#id_password", password);
  await page.click("input[type=submit]");
  await page.waitForURL(`${url}demo/`);

  // 1. A sync of Acme, live while it runs (the fake fails 20% and rate-limits 10%), then done.
  await knobs(page, { ...MISBEHAVING, latency: 0.6, seed: 3 });
  await start(page, "#accounts tr:nth-child(2) button");
  await page.waitForFunction(() => {
    const p = document.querySelector("#current progress");
    return p && p.value > 0.3 && p.value < 1;
  }, null, { timeout: 60000 });
  await page.screenshot({ path: `${out}/sync-running.png` });
  await waitFinished(page);
  await page.screenshot({ path: `${out}/sync-finished.png` });

  // 2. A rejected key: the sync of Globex fails at once, naming the step.
  await knobs(page, { ...MISBEHAVING, api_key: "ipk_rotated_by_someone_else" });
  await start(page, "#accounts tr:nth-child(3) button");
  await waitFinished(page);
  await page.screenshot({ path: `${out}/sync-failed.png` });
  const failedId = page.url().match(/report=(\d+)/)[1];

  // 3. Sync all accounts: a chord over the accounts, then the summary.
  await knobs(page, MISBEHAVING);
  await start(page, "button:has-text('Sync all accounts')");
  await waitFinished(page);
  await page.screenshot({ path: `${out}/sync-all.png` });

  // 4. ... and when one account's access is revoked.
  await knobs(page, { ...MISBEHAVING, revoked_accounts: "initech" });
  await start(page, "button:has-text('Sync all accounts')");
  await waitFinished(page);
  await page.screenshot({ path: `${out}/sync-all-failed.png` });
  await knobs(page, MISBEHAVING);

  // 5. The admin: every report, and the failed sync's detail.
  await page.goto(`${url}admin/async_actions/asyncactionreport/`);
  await page.screenshot({ path: `${out}/admin-reports.png` });
  await page.goto(`${url}admin/async_actions/asyncactionreport/${failedId}/change/`);
  await page.screenshot({ path: `${out}/admin-report-failed.png`, fullPage: true });
  await browser.close();
})().catch((error) => { console.error(error); process.exit(1); });
