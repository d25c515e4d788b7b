// Renders the HTML report of `modelvet scan examples/` in headless Chromium and saves
// docs/report-screenshot.png (used by the README). Run after a build:
//   npm run build && node scripts/screenshot-report.mjs
// CHROMIUM_PATH overrides Debian's /usr/bin/chromium.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { chromium } from "playwright-core";
import { scan, writeHtml } from "../dist/index.js";
import { openFile } from "../dist/sources/file-source.js";
import { expandPaths } from "../dist/sources/walk.js";

const root = join(import.meta.dirname, "..");
process.chdir(root);
const paths = await expandPaths(["examples"]);
const report = await scan(paths.map((path) => ({ path, open: () => openFile(path) })));
const dir = mkdtempSync(join(tmpdir(), "modelvet-shot-"));
const page = join(dir, "report.html");
writeFileSync(page, writeHtml(report));
const context = await chromium.launchPersistentContext(join(dir, "profile"), {
  executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
  headless: true,
  args: [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
  ],
  viewport: { width: 960, height: 900 },
  deviceScaleFactor: 1,
});
try {
  const tab = await context.newPage();
  await tab.goto(pathToFileURL(page).href);
  await tab.screenshot({ path: join(root, "docs/report-screenshot.png"), fullPage: true });
} finally {
  await context.close();
  rmSync(dir, { recursive: true, force: true });
}
console.log("wrote docs/report-screenshot.png");
