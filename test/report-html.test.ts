import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import type { BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { writeHtml } from "../src/report/html.js";
import type { ScanReport } from "../src/scan/scan.js";
import { haveBrowser, launchChromium } from "./browser.js";
import { richReport } from "./report-helpers.js";

const HOSTILE_PATH = 'models/<img src=x onerror="window.__pwned=1">.pkl';

/** The rich report plus a file whose name, message, pseudocode and references are hostile. */
async function hostileReport(): Promise<ScanReport> {
  const report = await richReport();
  report.files.push({
    path: HOSTILE_PATH,
    size: 10,
    format: "pickle",
    verdict: "malicious",
    findings: [
      {
        rule: "pickle.dangerous-global",
        severity: "critical",
        message: "<script>window.__pwned=2</script> & friends",
        location: { file: HOSTILE_PATH, member: ["<b>inner</b>"], offset: 3 },
        evidence: {
          global: "os.system",
          pseudocode: 'os.system("</code></pre><script>window.__pwned=3</script>")',
        },
        references: ["javascript:window.__pwned=4", "CVE-2025-1234", "https://example.com/a?b=<c>"],
      },
    ],
    children: [],
    timings: { analyseMs: 0 },
  });
  report.summary.files++;
  report.summary.verdicts.malicious++;
  report.summary.findings++;
  return report;
}

let dir: string;
let context: BrowserContext;
let page: Page;
let report: ScanReport;
const requests: string[] = [];
const consoleErrors: string[] = [];

const BROWSER = haveBrowser("the HTML report's browser tests");

beforeAll(async () => {
  if (!BROWSER) return;
  dir = mkdtempSync(join(tmpdir(), "modelvet-html-"));
  report = await hostileReport();
  const file = join(dir, "report.html");
  writeFileSync(file, writeHtml(report, { generatedAt: new Date("2026-01-01T00:00:00Z") }));
  context = await launchChromium(join(dir, "profile"));
  page = await context.newPage();
  page.on("request", (r) => requests.push(r.url()));
  page.on("console", (m) => {
    if (m.type() === "error") consoleErrors.push(m.text());
  });
  await page.goto(pathToFileURL(file).href);
}, 60_000);

afterAll(async () => {
  await context?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe.skipIf(!BROWSER)("HTML report in headless Chromium", () => {
  it("is one page that loads nothing else and runs no script", async () => {
    expect(requests).toEqual([page.url()]);
    expect(consoleErrors).toEqual([]);
    expect(await page.evaluate(() => document.scripts.length)).toBe(0);
    expect(await page.evaluate(() => (window as { __pwned?: number }).__pwned)).toBeUndefined();
  });

  it("shows the summary counts", async () => {
    const count = (verdict: string) =>
      page.locator(`.counts li[data-verdict=${verdict}] .n`).textContent();
    expect(await count("malicious")).toBe(String(report.summary.verdicts.malicious));
    expect(await count("suspicious")).toBe(String(report.summary.verdicts.suspicious));
    expect(await count("error")).toBe(String(report.summary.verdicts.error));
    expect(await count("safe")).toBe(String(report.summary.verdicts.safe));
    expect(await page.locator(".headline").textContent()).toMatch(
      /^Do not load: \d+ files are malicious\.$/,
    );
    expect(await page.title()).toContain("modelvet report");
  });

  it("lists every file with a verdict badge that says the verdict in words", async () => {
    const rows = page.locator("tbody tr");
    expect(await rows.count()).toBe(report.files.length);
    for (const file of report.files) {
      const row = rows.filter({ has: page.getByText(file.path, { exact: true }) });
      expect(await row.getAttribute("data-verdict"), file.path).toBe(file.verdict);
      expect(await row.locator(".badge").textContent()).toContain(file.verdict);
    }
  });

  it("shows each finding with rule, severity, location, message, pseudocode and references", async () => {
    const finding = page.locator('.finding[data-severity="critical"]', {
      hasText: "builtins.exec",
    });
    expect(await finding.locator(".rule").textContent()).toContain("pickle.dangerous-global");
    expect(await finding.locator(".rule").textContent()).toContain("at byte 75");
    expect(await finding.locator("pre").textContent()).toContain("_var0 = builtins.exec(");
    const link = finding.locator(".refs a").first();
    expect(await link.getAttribute("href")).toMatch(/^https:\/\//);
    const nested = page.locator(".finding", { hasText: "weights.zip" }).first();
    expect(await nested.locator(".where").textContent()).toBe(
      "in weights.zip › model.pt › archive/data.pkl, at byte 429",
    );
  });

  it("shows hostile text as text", async () => {
    expect(await page.getByText(HOSTILE_PATH, { exact: true }).count()).toBeGreaterThan(0);
    expect(await page.locator("img").count()).toBe(0);
    expect(await page.locator("b").count()).toBe(0);
    const section = page.locator("section.file", { hasText: "window.__pwned=1" });
    expect(await section.locator(".message").textContent()).toBe(
      "<script>window.__pwned=2</script> & friends",
    );
    expect(await section.locator("pre").textContent()).toBe(
      'os.system("</code></pre><script>window.__pwned=3</script>")',
    );
    expect(await section.locator(".where").textContent()).toContain("<b>inner</b>");
    expect(await section.locator('a[href^="javascript:"]').count()).toBe(0);
    expect(await section.locator(".refs").textContent()).toContain("javascript:window.__pwned=4");
    expect(await section.locator(".refs a").nth(0).getAttribute("href")).toBe(
      "https://www.cve.org/CVERecord?id=CVE-2025-1234",
    );
  });

  it("lists set-aside findings with their reason", async () => {
    const details = page.locator("section.file details").first();
    expect(await details.locator("summary").textContent()).toMatch(/set aside$/);
    const texts = await page.locator(".suppression").allTextContents();
    expect(texts).toContain(
      "Set aside (ignore): torch layers are expected here — until 2030-01-01",
    );
    expect(texts).toContain("Set aside (baseline): in the baseline baseline.json");
  });

  it("has the structure assistive technology needs", async () => {
    expect(await page.locator("html").getAttribute("lang")).toBe("en");
    expect(await page.getByRole("heading", { level: 1 }).count()).toBe(1);
    expect(await page.getByRole("heading", { name: "Summary" }).count()).toBe(1);
    expect(await page.getByRole("table").count()).toBe(1);
    expect(await page.getByRole("columnheader").allTextContents()).toEqual([
      "File",
      "Verdict",
      "Format",
      "Findings",
      "Size",
      "SHA-256",
    ]);
    expect(await page.locator('meta[name="viewport"]').count()).toBe(1);
  });

  it("fits a phone screen without sideways scrolling", async () => {
    await page.setViewportSize({ width: 360, height: 740 });
    const overflow = await page.evaluate(
      () => document.documentElement.scrollWidth - document.documentElement.clientWidth,
    );
    expect(overflow).toBeLessThanOrEqual(0);
    expect(await page.locator("thead").isVisible()).toBe(true); // moved off-screen, still read out
    await page.setViewportSize({ width: 1100, height: 900 });
  });

  it("is readable in dark mode too", async () => {
    await page.emulateMedia({ colorScheme: "dark" });
    const [fg, bg] = await page.evaluate(() => {
      const s = getComputedStyle(document.body);
      return [s.color, s.backgroundColor];
    });
    expect(fg).not.toBe(bg);
    await page.emulateMedia({ colorScheme: "light" });
  });
});
