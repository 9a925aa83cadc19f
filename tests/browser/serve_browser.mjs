// The dashboard (`firstwall serve`) in headless Chromium (Debian's, driven by playwright-core from
// web/), used as people use it: a viewer logs in and sees the plans without approve buttons, and
// the server refuses the approval she sends by hand; an approver logs in, approves plan 1 with
// its button and sees it approved and in the audit log. Every page: no console error or warning,
// no request to another origin, every canvas drawn. Usage: node serve_browser.mjs URL SHOT.png
// (the approver's page, photographed whole). Prints what it saw and "N passed, N failed".
import { createRequire } from "node:module";
import path from "node:path";

const require = createRequire(import.meta.url);
const { chromium } = require(path.resolve(process.env.FW_WEB || "web", "node_modules/playwright-core"));

const [url, shot] = process.argv.slice(2);
const origin = new URL(url).origin;
const browser = await chromium.launch({
  executablePath: process.env.FW_CHROMIUM || "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu"],
});
let passed = 0, failed = 0;

async function open(user, password, problems) {
  const context = await browser.newContext({ viewport: { width: 1300, height: 900 } });
  const page = await context.newPage();
  page.on("console", m => { if (m.type() === "error" || m.type() === "warning") problems.push("console " + m.type() + ": " + m.text()); });
  page.on("pageerror", e => problems.push("page error: " + e.message));
  page.on("request", r => { if (new URL(r.url()).origin !== origin) problems.push("request: " + r.url()); });
  await page.goto(url, { waitUntil: "load" });
  await page.waitForSelector("body[data-fw-ready='login']", { timeout: 20000 });
  await page.fill("#user", user);
  await page.fill("#password", password);
  await page.click("#login-form button[type=submit]");
  await page.waitForSelector("body[data-fw-ready='1']", { timeout: 30000 });
  return { context, page };
}

async function inked(page, problems) {
  const canvases = await page.$$eval("canvas", cs => cs.map(c => {
    const d = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
    let ink = 0;
    for (let i = 0; i < d.length; i += 4) if (d[i + 3] > 0 && (d[i] < 250 || d[i + 1] < 250 || d[i + 2] < 250)) ink++;
    return { id: c.id || c.parentElement.className, ink };
  }));
  if (canvases.length < 5) problems.push("only " + canvases.length + " canvases");
  for (const c of canvases) if (c.ink < 50) problems.push("blank canvas " + c.id);
  return canvases.length;
}

function verdict(name, problems, what) {
  if (problems.length) {
    failed++;
    console.log("FAIL " + name + "\n  " + problems.join("\n  "));
  } else {
    passed++;
    console.log("ok   " + name + ": " + what);
  }
}

{
  const problems = [];
  const { context, page } = await open("vic", "vicpass1", problems);
  await inked(page, problems);
  const rows = await page.$$eval("#plans tbody tr", rs => rs.length);
  if (rows !== 1) problems.push(rows + " plan rows, not 1");
  if (await page.$("button.approve")) problems.push("a viewer is shown an approve button");
  const csrf = (await (await page.request.get(origin + "/api/session")).json()).csrf;
  const r = await page.request.post(origin + "/api/plans/1/approve", { headers: { "X-CSRF-Token": csrf }, data: {} });
  if (r.status() !== 403) problems.push("a viewer's approval answered " + r.status());
  await page.click("#logout");
  await page.waitForSelector("#login-form", { state: "visible" });
  verdict("viewer", problems, "plans shown without approve buttons; approving by hand answered 403; logged out");
  await context.close();
}
{
  const problems = [];
  const { context, page } = await open("ana", "anapass1", problems);
  await page.click("tr[data-plan='1'] button.approve");
  await page.waitForSelector("tr[data-plan='1'] td.state-approved", { timeout: 20000 }).catch(() => problems.push("plan 1 not shown approved"));
  await page.waitForFunction(() => [...document.querySelectorAll("#audit tbody tr")].some(r => r.cells[3].textContent === "plan_approved" && r.cells[2].textContent === "ana"), null, { timeout: 20000 })
    .catch(() => problems.push("the approval is not in the audit log shown"));
  const chain = await page.textContent("#chain");
  if (!chain.startsWith("hash chain verified")) problems.push("chain: " + chain);
  const n = await inked(page, problems);
  if (shot) await page.screenshot({ path: shot, fullPage: true });
  verdict("approver", problems, "approved plan 1 with its button; seen approved and in the audit log (" + chain + "); " + n + " canvases drawn");
  await context.close();
}
await browser.close();
console.log(passed + " passed, " + failed + " failed");
process.exit(failed ? 1 : 0);
