// node take_summary.js http://127.0.0.1:8000/ admin <password> docs/screenshots/sync-all-summary.png
// The InvoicesPlus section (accounts, "Sync all accounts" runs with their summaries).
const { chromium } = require("playwright-core");
const [url, user, password, out] = process.argv.slice(2);
(async () => {
  const browser = await chromium.launch({ executablePath: "/usr/bin/chromium",
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run"] });
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  await page.goto(`${url}admin/login/?next=/demo/`);
  await page.fill("#id_username", user);
  await page.fill("#id_password", password);
  await page.click("input[type=submit]");
  await page.waitForURL(`${url}demo/`);
  const top = await page.locator("h1").boundingBox();
  const bottom = await page.locator("#accounts-syncs").boundingBox();
  await page.screenshot({ path: out, fullPage: true, clip: {
    x: 0, y: top.y - 16, width: 1280, height: bottom.y + bottom.height - top.y + 32 } });
  await browser.close();
})().catch((error) => { console.error(error); process.exit(1); });
