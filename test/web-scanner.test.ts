import { readFileSync, rmSync, writeFileSync } from "node:fs";
import type { Server } from "node:http";
import { join } from "node:path";
import type { BrowserContext, Page, Request } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Verdict } from "../src/core/verdict.js";
import { scan } from "../src/scan/scan.js";
import { openFile } from "../src/sources/file-source.js";
import { makeGateRepos } from "./gate-helpers.js";
import { type HubServer, startHubServer } from "./hub-server.js";
import { buildWebApp, haveBrowser, launchChromium, serveApp } from "./web-helpers.js";

const root = join(import.meta.dirname, "..");

/** Held fixtures that exercise the pickle machine, zip, and the wasm (HDF5, 7z) and jinja paths. */
const FIXTURES = [
  "examples/benign/state_dict.pt",
  "examples/benign/array.pkl",
  "examples/malicious/reverse_shell_stand_in.pkl",
  "examples/malicious/exec_after_garbage.bin",
  "test/fixtures/keras/benign/sequential.h5",
  "test/fixtures/keras/malicious/lambda_os_system.h5",
  "test/fixtures/evasion/benign/state_dict_in_7z.7z",
  "test/fixtures/gguf/malicious/cve_2024_34359_v3.gguf",
];

const BROWSER = haveBrowser("the web scanner's browser tests");

let appDir: string;
let repos: string;
let hub: HubServer;
let server: Server;
let appUrl: string;
let context: BrowserContext;
let page: Page;
const requests: Request[] = [];
const consoleErrors: string[] = [];
/** What the CLI's engine says about each fixture, read from disk in Node. */
const nodeVerdicts = new Map<string, Verdict>();

beforeAll(async () => {
  if (!BROWSER) return;
  const report = await scan(
    FIXTURES.map((path) => ({ path, open: () => openFile(join(root, path)) })),
  );
  for (const f of report.files) nodeVerdicts.set(f.path, f.verdict);
  appDir = await buildWebApp();
  repos = await makeGateRepos();
  // Every file served straight (no LFS redirect to another origin), reached through the app's server.
  hub = await startHubServer({ repos, lfsThreshold: Number.MAX_SAFE_INTEGER });
  ({ server, url: appUrl } = await serveApp(appDir, { proxyTo: hub.url }));
  context = await launchChromium(join(appDir, ".profile"));
  context.on("request", (r) => requests.push(r));
  page = await context.newPage();
  page.on("console", (m) => {
    if (m.type() === "error") consoleErrors.push(m.text());
  });
  page.on("pageerror", (e) => consoleErrors.push(e.message));
  await page.goto(appUrl);
}, 60_000);

afterAll(async () => {
  await context?.close();
  server?.close();
  await hub?.close();
  if (appDir) rmSync(appDir, { recursive: true, force: true });
  if (repos) rmSync(repos, { recursive: true, force: true });
});

async function waitForScan(): Promise<void> {
  await page.locator("#results:not([aria-busy])").waitFor({ timeout: 20_000 });
  await page.locator("#downloads:not([hidden])").waitFor({ timeout: 5_000 });
}

async function verdictOf(path: string): Promise<string | null> {
  return page.locator(`li.file[data-path=${JSON.stringify(path)}]`).getAttribute("data-verdict");
}

describe.skipIf(!BROWSER)("in-browser scanner (headless Chromium)", () => {
  it("labels every control and reaches the file pickers by keyboard", async () => {
    const unlabelled = await page.evaluate(() =>
      Array.from(document.querySelectorAll("input, select, textarea"))
        .filter(
          (el) => (el as HTMLInputElement).labels?.length === 0 && !el.getAttribute("aria-label"),
        )
        .map((el) => el.id || el.outerHTML),
    );
    expect(unlabelled).toEqual([]);
    const reached: string[] = [];
    await page.locator("body").focus();
    for (let i = 0; i < 8 && !reached.includes("pick-folder"); i++) {
      await page.keyboard.press("Tab");
      reached.push(await page.evaluate(() => document.activeElement?.id ?? ""));
    }
    expect(reached).toContain("pick-files");
    expect(reached).toContain("pick-folder");
    // The focused picker's visible label shows a focus ring.
    expect(
      await page
        .locator('label[for="pick-folder"]')
        .evaluate((el) => getComputedStyle(el).outlineStyle),
    ).toBe("solid");
  });

  it("picks files and gives each the verdict the CLI gives", async () => {
    await page.locator("#pick-files").setInputFiles(FIXTURES.map((f) => join(root, f)));
    await waitForScan();
    expect(await page.locator("li.file").count()).toBe(FIXTURES.length);
    // The browser sees base names; each fixture's name is unique.
    for (const fixture of FIXTURES) {
      const name = fixture.split("/").at(-1)!;
      expect(await verdictOf(name), fixture).toBe(nodeVerdicts.get(fixture));
    }
    expect(await verdictOf("state_dict.pt")).toBe("safe");
    expect(await verdictOf("reverse_shell_stand_in.pkl")).toBe("malicious");
    expect(await verdictOf("lambda_os_system.h5")).toBe("malicious");
    expect(await verdictOf("state_dict_in_7z.7z")).toBe("safe");
    expect(await page.locator(".headline").getAttribute("data-verdict")).toBe("malicious");
  });

  it("shows a malicious file's findings with pseudocode and references", async () => {
    const item = page.locator('li.file[data-path="reverse_shell_stand_in.pkl"]');
    const critical = item.locator('.finding[data-severity="critical"]').first();
    await expect.poll(() => critical.count()).toBeGreaterThan(0);
    expect(await critical.locator("pre code").textContent()).toMatch(/\w+\.\w+\(/);
    expect(await critical.locator(".rule code").textContent()).toMatch(/^[a-z0-9-]+\.[a-z0-9-]+/);
    // No link leaves the page: modelvet has no site of its own to send readers to yet.
    expect(await critical.locator(".rule a").count()).toBe(0);
  });

  it("downloads the JSON and SARIF reports built in the tab", async () => {
    const [json] = await Promise.all([page.waitForEvent("download"), page.click("#dl-json")]);
    const report = JSON.parse(readFileSync((await json.path())!, "utf8"));
    expect(report.tool.name).toBe("modelvet");
    expect(report.files).toHaveLength(FIXTURES.length);
    expect(report.summary.verdicts.malicious).toBe(
      [...nodeVerdicts.values()].filter((v) => v === "malicious").length,
    );
    const [sarif] = await Promise.all([page.waitForEvent("download"), page.click("#dl-sarif")]);
    const log = JSON.parse(readFileSync((await sarif.path())!, "utf8"));
    expect(log.version).toBe("2.1.0");
    expect(log.runs[0].results.length).toBeGreaterThan(0);
  });

  it("scans a picked folder with relative paths", async () => {
    await page.locator("#pick-folder").setInputFiles(join(root, "examples"));
    await waitForScan();
    expect(await verdictOf("examples/benign/config.pkl")).toBe("safe");
    expect(await verdictOf("examples/malicious/reverse_shell_stand_in.pkl")).toBe("malicious");
  });

  it("scans dropped files, and shows hostile names as text", async () => {
    const malicious = [
      ...readFileSync(join(root, "examples/malicious/reverse_shell_stand_in.pkl")),
    ];
    await page.evaluate((bytes) => {
      const transfer = new DataTransfer();
      transfer.items.add(
        new File([new Uint8Array(bytes)], '<img src=x onerror="window.__pwned=1">.pkl'),
      );
      transfer.items.add(new File(["plain text, not a model"], "notes.txt"));
      const drop = document.getElementById("drop")!;
      drop.dispatchEvent(new DragEvent("drop", { dataTransfer: transfer, bubbles: true }));
    }, malicious);
    await waitForScan();
    expect(await verdictOf('<img src=x onerror="window.__pwned=1">.pkl')).toBe("malicious");
    expect(await verdictOf("notes.txt")).toBe("safe");
    expect(await page.evaluate(() => (window as { __pwned?: number }).__pwned)).toBeUndefined();
  });

  it("sends no file byte anywhere: only same-origin GETs of the app's own files", async () => {
    const origin = new URL(appUrl).origin;
    expect(requests.length).toBeGreaterThan(0);
    for (const r of requests) {
      const url = new URL(r.url());
      // Downloads of reports are blob: URLs made in the tab; anything else must be the app.
      if (url.protocol === "blob:") {
        expect(r.method()).toBe("GET");
        expect(new URL(url.pathname).origin).toBe(origin);
        continue;
      }
      expect(r.method(), r.url()).toBe("GET");
      expect(r.postDataBuffer(), r.url()).toBeNull();
      expect(url.origin, r.url()).toBe(origin);
      expect(url.pathname === "/" || url.pathname.startsWith("/assets/"), r.url()).toBe(true);
      expect(url.search, r.url()).toBe("");
    }
    expect(consoleErrors).toEqual([]);
  });

  it("scans a Hub repository by range requests, fetching nothing whole and sending nothing", async () => {
    const before = requests.length;
    hub.resetStats();
    await page.getByText("Hub address").click();
    await page
      .getByLabel("Hub (a mirror must allow this page in its CORS policy)")
      .fill(new URL(appUrl).origin);
    await page.getByLabel("Repository", { exact: true }).fill("hf://acme/evil");
    await page.getByRole("button", { name: "Scan repository" }).click();
    await waitForScan();
    const commit = await hub.commitOf("acme/evil");
    expect(await verdictOf(`hf://acme/evil@${commit}/shell.pkl`)).toBe("malicious");
    expect(await verdictOf(`hf://acme/evil@${commit}/pytorch_model.bin`)).toBe("malicious");
    expect(await page.locator("#summary").textContent()).toContain("by range requests");

    const made = requests.slice(before);
    expect(made.some((r) => r.url().includes("/resolve/"))).toBe(true);
    for (const r of made) {
      expect(r.method(), r.url()).toBe("GET");
      expect(r.postDataBuffer(), r.url()).toBeNull();
      expect(new URL(r.url()).origin, r.url()).toBe(new URL(appUrl).origin);
    }
    // Every file read went by ranges: the checkpoint's tensor data was never fetched.
    const reads = hub.log.filter((entry) => entry.url.includes("/resolve/"));
    expect(reads.length).toBeGreaterThan(0);
    for (const entry of reads) expect(entry.range, entry.url).toBeDefined();
  });

  it("fails closed when a wasm library cannot load: those files are not called safe", async () => {
    const blocked: string[] = [];
    const block = /\.wasm$|\/hdf5_hl-[^/]*\.js$|\/7zz[^/]*\.js$/;
    await context.route(block, (route) => {
      blocked.push(route.request().url());
      return route.abort();
    });
    try {
      await page
        .locator("#pick-files")
        .setInputFiles(
          [
            "test/fixtures/evasion/benign/state_dict_in_7z.7z",
            "test/fixtures/keras/malicious/lambda_os_system.h5",
            "examples/malicious/reverse_shell_stand_in.pkl",
          ].map((f) => join(root, f)),
        );
      await waitForScan();
      expect(blocked.length).toBeGreaterThan(0);
      expect(await verdictOf("state_dict_in_7z.7z")).not.toBe("safe");
      expect(await verdictOf("lambda_os_system.h5")).not.toBe("safe");
      expect(await verdictOf("reverse_shell_stand_in.pkl")).toBe("malicious");
    } finally {
      await context.unroute(block);
    }
  });
  it("stops a scan that makes libhdf5 loop forever and marks the unfinished files error", async () => {
    // One byte of a global heap set to 0 leaves libhdf5 looping inside the worker (see
    // src/sources/isolated-hdf5.test.ts); the page's watchdog (here 3 s) must end the scan.
    const bytes = Buffer.from(readFileSync(join(root, "test/fixtures/keras/benign/functional.h5")));
    bytes[4992] = 0;
    const file = join(appDir, "hang.h5");
    writeFileSync(file, bytes);
    await page.goto(`${appUrl}?stall=3`);
    try {
      await page.locator("#pick-files").setInputFiles([file]);
      await page.locator("#results:not([aria-busy])").waitFor({ timeout: 20_000 });
      expect(await verdictOf("hang.h5")).toBe("error");
      await expect
        .poll(() => page.locator("#status").textContent())
        .toMatch(/no file finished for 3 s/);
      expect(await page.locator("li.file").count()).toBe(1);
    } finally {
      await page.goto(appUrl);
    }
  }, 40_000);
});
