// How much of a remote 2 GB checkpoint a scan fetches (run: npm run bench, or after npm run build:
// node bench/remote-read.mjs). Writes sparse 2 GB files to the temporary folder — a PyTorch zip
// checkpoint in torch.save's layout (eight 256 MB storages, and a variant with 300 storages as
// large language models have) and a safetensors file (eight 256 MB tensors) — serves them from
// the local Hub look-alike (test/hub-server.ts, transpiled on the fly), and scans each over HTTP
// range requests, printing the bytes fetched, the requests and the time next to the file size.
// Then it runs `modelvet scan hf://bench/big` end to end (listing included) the same way.
// Loopback only: the numbers are the scanner's cost, not a network's latency.
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { pathToFileURL } from "node:url";
import ts from "typescript";
import { main } from "../dist/cli/main.js";
import { stateDictPickle } from "../dist/formats/pickle/pickle-builder.js";
import { scanFile } from "../dist/index.js";
import { openHttpSource } from "../dist/sources/http-range-source.js";

const ROOT = new URL("..", import.meta.url).pathname;
const MB = 1024 * 1024;
const work = await mkdtemp(join(tmpdir(), "modelvet-remote-bench-"));

/** Transpiles a self-contained test helper (node: imports only) and imports it. */
async function load(file) {
  const source = await readFile(join(ROOT, file), "utf8");
  const { outputText } = ts.transpileModule(source, {
    compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
  });
  const out = join(work, file.replace(/[/\\]/g, "_").replace(/\.ts$/, ".mjs"));
  await writeFile(out, outputText);
  return import(pathToFileURL(out).href);
}

function zipEntries(n) {
  const per = Math.floor((2048 * MB) / n / 4096) * 4096;
  return [
    { name: "archive/data.pkl", data: stateDictPickle(n, per) },
    { name: "archive/version", data: new TextEncoder().encode("3\n") },
    ...Array.from({ length: n }, (_, i) => ({ name: `archive/data/${i}`, size: per })),
  ];
}

const fmt = (n) =>
  n >= MB ? `${(n / MB).toFixed(1)} MiB` : n >= 1024 ? `${(n / 1024).toFixed(1)} KiB` : `${n} B`;

try {
  const { startHubServer } = await load("test/hub-server.ts");
  const { writeSparseZip, writeSparseSafetensors } = await load("test/large-files.ts");
  const repo = join(work, "repos", "bench", "big");
  await mkdir(repo, { recursive: true });
  const files = [
    ["zip checkpoint, 8 storages", "pytorch_model.bin", (p) => writeSparseZip(p, zipEntries(8))],
    ["zip checkpoint, 300 storages", "many.pt", (p) => writeSparseZip(p, zipEntries(300))],
    ["safetensors, 8 tensors", "model.safetensors", (p) => writeSparseSafetensors(p, 8, 256 * MB)],
  ];
  for (const [, name, write] of files) write(join(repo, name));
  // The LFS SHA-256 is not what is measured; spare hashing 6 GB of holes.
  const server = await startHubServer({ repos: join(work, "repos"), lfsOid: () => "0".repeat(64) });
  try {
    for (const [label, name] of files) {
      server.resetStats();
      const started = performance.now();
      const opened = await openHttpSource(`${server.url}/bench/big/resolve/main/${name}`);
      const result = await scanFile({ path: name, open: async () => ({ source: opened.source }) });
      const ms = performance.now() - started;
      console.log(
        `${label}: ${fmt(opened.size)} file, verdict ${result.verdict} (${result.format}), ` +
          `${fmt(server.stats.bytesServed)} fetched in ${server.stats.requests} requests ` +
          `(${((server.stats.bytesServed / opened.size) * 100).toFixed(4)} %), ${ms.toFixed(0)} ms`,
      );
    }
    server.resetStats();
    const stdout = new PassThrough();
    let out = "";
    stdout.on("data", (c) => {
      out += c;
    });
    const started = performance.now();
    await main(["scan", "hf://bench/big", "--format", "json"], {
      stdout,
      stderr: new PassThrough(),
      env: { HF_ENDPOINT: server.url },
    });
    const ms = performance.now() - started;
    const report = JSON.parse(out);
    const total = report.files.reduce((sum, f) => sum + f.size, 0);
    console.log(
      `modelvet scan hf://bench/big (${report.files.length} files, ${fmt(total)}): ` +
        `${fmt(server.stats.bytesServed)} fetched in ${server.stats.requests} requests ` +
        `(listing included), ${ms.toFixed(0)} ms, verdicts ${JSON.stringify(report.summary.verdicts)}`,
    );
  } finally {
    await server.close();
  }
} finally {
  await rm(work, { recursive: true, force: true });
}
