// Opens firstwall's HTML reports in headless Chromium (Debian's /usr/bin/chromium, driven by
// playwright-core from web/) and checks them as a person would see them: the page loads with no
// console error and no request other than the file itself, and every chart's canvas has drawn
// pixels. Usage: node report_browser.mjs SCREENSHOT.png REPORT.html... (the first report is
// photographed, whole page). Prints one line per report, with the time from opening the page to
// its charts drawn, and "N passed, N failed". FW_MIN_CANVASES: the fewest canvases a report must
// have (default 6).
import { createRequire } from "node:module";
import { pathToFileURL } from "node:url";
import path from "node:path";

const require = createRequire(import.meta.url);
const { chromium } = require(path.resolve(process.env.FW_WEB || "web", "node_modules/playwright-core"));

const [shot, ...reports] = process.argv.slice(2);
const browser = await chromium.launch({
  executablePath: process.env.FW_CHROMIUM || "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu"],
});
let passed = 0, failed = 0;
for (const [k, file] of reports.entries()) {
  const url = pathToFileURL(path.resolve(file)).href;
  const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
  const problems = [];
  page.on("console", m => { if (m.type() === "error" || m.type() === "warning") problems.push("console " + m.type() + ": " + m.text()); });
  page.on("pageerror", e => problems.push("page error: " + e.message));
  page.on("request", r => { if (r.url() !== url) problems.push("request: " + r.url()); });
  const t0 = Date.now();
  await page.goto(url, { waitUntil: "load" });
  await page.waitForSelector("body[data-fw-ready='1']", { timeout: 20000 }).catch(() => problems.push("the page's script did not finish"));
  const load_ms = Date.now() - t0;  // printed, never asserted: timings belong to benchmarks
  // Each canvas: how many of its pixels are in colour. Axes, grid lines and labels are grey or
  // black, so a chart drawn with its axes and no data counts none; every chart's data has a
  // saturated colour (the series, bars and Gantt palettes).
  const canvases = await page.$$eval("canvas", cs => cs.map(c => {
    const g = c.getContext("2d");
    const d = g.getImageData(0, 0, c.width, c.height).data;
    let ink = 0;
    for (let i = 0; i < d.length; i += 4) {
      const r = d[i], gr = d[i + 1], b = d[i + 2];
      if (d[i + 3] > 0 && Math.max(r, gr, b) - Math.min(r, gr, b) > 40) ink++;
    }
    return { cls: c.className || c.parentElement.className, w: c.width, h: c.height, ink };
  }));
  const blank = canvases.filter(c => c.ink < 50);
  if (canvases.length < Number(process.env.FW_MIN_CANVASES || 6)) problems.push("only " + canvases.length + " canvases");
  for (const c of blank) problems.push("blank canvas " + c.cls + " " + c.w + "x" + c.h + " (" + c.ink + " pixels in colour)");
  const sections = await page.$$eval("h2", hs => hs.map(h => h.textContent));
  if (k === 0 && shot) await page.screenshot({ path: shot, fullPage: true });
  await page.close();
  const name = path.basename(path.dirname(file)) + "/" + path.basename(file);
  if (problems.length) {
    failed++;
    console.log("FAIL " + name + " (ready in " + load_ms + " ms)\n  " + problems.join("\n  "));
  } else {
    passed++;
    console.log("ok   " + name + ": " + canvases.length + " canvases drawn, ready in " + load_ms + " ms; sections: " + sections.join(", "));
  }
}
await browser.close();
console.log(passed + " passed, " + failed + " failed");
process.exit(failed ? 1 : 0);
