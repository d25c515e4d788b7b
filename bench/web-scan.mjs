// In-browser scan time vs the CLI (run: npm run build && node bench/web-scan.mjs).
// Builds the web app into a temporary folder, serves it locally, and in headless Chromium scans
// (a) the held fixtures in examples/ and (b) a sparse 1 GiB PyTorch zip checkpoint (torch.save's
// layout: archive/data.pkl plus four 256 MiB stored storages, written as holes). Each case is
// scanned three times; the medians are printed next to the CLI's (`modelvet scan`, a fresh process
// each time) and the engine's own time in Node. The browser hashes files up to 256 MiB; the 1 GiB
// file is compared with `--no-hash`, and with the CLI's default (which reads the whole file).
// CHROMIUM_PATH overrides Debian's /usr/bin/chromium.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { chromium } from "playwright-core";
import ts from "typescript";
import { build } from "vite";
import { stateDictPickle } from "../dist/formats/pickle/pickle-builder.js";
import { scan } from "../dist/index.js";
import { serveWebApp } from "../dist/server/static.js";
import { openFile } from "../dist/sources/file-source.js";

const root = join(import.meta.dirname, "..");
const MiB = 1024 * 1024;
const RUNS = 3;
const dir = mkdtempSync(join(tmpdir(), "modelvet-web-bench-"));

/** test/large-files.ts is self-contained: transpile it to use its sparse zip writer here. */
async function largeFiles() {
  const source = readFileSync(join(root, "test/large-files.ts"), "utf8");
  const { outputText } = ts.transpileModule(source, {
    compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
  });
  const file = join(dir, "large-files.mjs");
  writeFileSync(file, outputText);
  return import(pathToFileURL(file).href);
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

function listFiles(folder) {
  return readdirSync(folder, { recursive: true })
    .map((name) => join(folder, String(name)))
    .filter((path) => statSync(path).isFile() && !path.endsWith(".md"));
}

const { writeSparseZip } = await largeFiles();
const big = join(dir, "pytorch_model.bin");
const STORAGES = 4;
const STORAGE_BYTES = 256 * MiB;
const bigSize = writeSparseZip(big, [
  { name: "archive/data.pkl", data: stateDictPickle(STORAGES, STORAGE_BYTES) },
  { name: "archive/version", data: new TextEncoder().encode("3\n") },
  ...Array.from({ length: STORAGES }, (_, i) => ({
    name: `archive/data/${i}`,
    size: STORAGE_BYTES,
  })),
]);
const examples = listFiles(join(root, "examples"));
const cases = [
  { name: `examples/ (${examples.length} files)`, files: examples, hash: true },
  { name: `1 GiB zip checkpoint (${(bigSize / MiB).toFixed(0)} MiB)`, files: [big], hash: false },
];

const appDir = join(dir, "site");
await build({
  configFile: join(root, "web/vite.config.ts"),
  build: { outDir: appDir, emptyOutDir: true },
  logLevel: "error",
});
const server = createServer((req, res) => {
  serveWebApp(req, res, new URL(req.url ?? "/", "http://x").pathname, appDir).then((served) => {
    if (!served) res.writeHead(404).end();
  });
});
await new Promise((done) => server.listen(0, "127.0.0.1", done));
const url = `http://127.0.0.1:${server.address().port}/`;
const context = await chromium.launchPersistentContext(join(dir, "profile"), {
  executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
  headless: true,
  args: ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"],
});

const rows = [];
try {
  const page = await context.newPage();
  await page.goto(url);
  for (const c of cases) {
    const inTab = [];
    const wall = [];
    for (let run = 0; run < RUNS; run++) {
      const started = performance.now();
      await page.locator("#pick-files").setInputFiles(c.files);
      await page.locator("#results:not([aria-busy]) #downloads:not([hidden])").waitFor();
      wall.push(performance.now() - started);
      inTab.push(Number(await page.locator("#results").getAttribute("data-elapsed-ms")));
      const verdicts = await page
        .locator("li.file")
        .evaluateAll((els) => els.map((e) => e.getAttribute("data-verdict")));
      if (run === 0) c.browserVerdicts = verdicts.join(",");
    }
    const engine = [];
    for (let run = 0; run < RUNS; run++) {
      const started = performance.now();
      await scan(c.files.map((path) => ({ path, open: () => openFile(path, { hash: c.hash }) })));
      engine.push(performance.now() - started);
    }
    const cli = (extra) => {
      const times = [];
      for (let run = 0; run < RUNS; run++) {
        const started = performance.now();
        try {
          execFileSync(
            process.execPath,
            [join(root, "bin/modelvet.js"), "scan", ...c.files, "--format", "json", ...extra],
            { stdio: "ignore" },
          );
        } catch (error) {
          if (error.status !== 1) throw error; // 1: findings at or above --fail-on
        }
        times.push(performance.now() - started);
      }
      return median(times);
    };
    rows.push({
      case: c.name,
      "browser: worker (ms)": median(inTab),
      "browser: pick → verdicts (ms)": Math.round(median(wall)),
      "node engine (ms)": Math.round(median(engine)),
      "CLI --no-hash (ms)": Math.round(cli(["--no-hash"])),
      "CLI default (ms)": Math.round(cli([])),
      "browser verdicts": c.browserVerdicts,
    });
  }
} finally {
  await context.close();
  server.close();
  rmSync(dir, { recursive: true, force: true });
}
console.table(rows);
