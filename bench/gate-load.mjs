// Load test of `modelvet serve` (the gate), loopback only and bounded in time and disk:
//   node bench/gate-load.mjs          (after `npm run build`; a few hundred MB of RAM, ~1 min)
// It starts the hub look-alike (test/hub-server.ts, transpiled on the fly) with a sparse 1 GiB
// safetensors file, the gate from dist/ with a SQLite store in a temporary folder, and measures:
//  1. download throughput of the 1 GiB file through the gate vs directly from the upstream (ratio);
//  2. added latency of a GET for a small, already-vetted file (gate minus direct, median and p99);
//  3. requests/s one instance holds for vetted-file metadata (HEAD of resolve) with its p99.
// Client and servers share the machine's CPUs, so every number is a lower bound for the gate.

import { spawn } from "node:child_process";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { Agent, request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import ts from "typescript";

const ROOT = new URL("..", import.meta.url).pathname;
const GIB = 1024 ** 3;
const DURATION_MS = Number(process.env.GATE_BENCH_SECONDS ?? 5) * 1000;
const CONCURRENCY = Number(process.env.GATE_BENCH_CONCURRENCY ?? 32);

const work = await mkdtemp(join(tmpdir(), "modelvet-gate-bench-"));

/** Transpiles a self-contained test helper (node: imports only); returns the .mjs path. */
async function transpile(file) {
  const source = await readFile(join(ROOT, file), "utf8");
  const { outputText } = ts.transpileModule(source, {
    compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
  });
  const out = join(work, file.replace(/[/\\]/g, "_").replace(/\.ts$/, ".mjs"));
  await writeFile(out, outputText);
  return out;
}

// The hub look-alike and the gate (the real CLI, `modelvet serve`) each run in their own process;
// this one is only the client.
const hubScript = join(work, "hub-main.mjs");
await writeFile(
  hubScript,
  `import { startHubServer } from ${JSON.stringify(pathToFileURL(await transpile("test/hub-server.ts")).href)};
const hub = await startHubServer({ repos: process.argv[2], separateCdn: true,
  // Spares hashing the 1 GiB file; the hash only names the version.
  lfsOid: (_repo, path) => (path === "model.safetensors" ? "b".repeat(64) : undefined) });
console.log("hub " + hub.url);`,
);
const { writeSparseSafetensors } = await import(
  pathToFileURL(await transpile("test/large-files.ts")).href
);

const repos = join(work, "repos");
await mkdir(join(repos, "acme/big"), { recursive: true });
const bigSize = writeSparseSafetensors(join(repos, "acme/big/model.safetensors"), 16, GIB / 16);
await writeFile(
  join(repos, "acme/big/config.json"),
  `${JSON.stringify({ model_type: "bench" })}\n`,
);

const children = [];
/** Starts a child process and resolves with the URL it prints after `prefix`. */
function startChild(args, prefix) {
  const child = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "ignore"] });
  children.push(child);
  return new Promise((resolve, reject) => {
    let out = "";
    child.stdout.on("data", (chunk) => {
      out += chunk;
      const m = new RegExp(`${prefix} (http://\\S+)`).exec(out);
      if (m) resolve(m[1]);
    });
    child.on("exit", (code) => reject(new Error(`${args.join(" ")} exited with ${code}`)));
  });
}
const hubUrl = await startChild([hubScript, repos], "hub");
const gateUrl = await startChild(
  [
    join(ROOT, "bin/modelvet.js"),
    "serve",
    "--upstream",
    hubUrl,
    "--port",
    "0",
    "--no-policy",
    "--db",
    `sqlite:${join(work, "gate.db")}`,
    "--log-level",
    "warn",
  ],
  "listening on",
);
const hub = { url: hubUrl };
// For scale: a bare node:http proxy (follows the redirect, pipes the bytes, checks nothing), the
// ceiling for any proxy written in Node on this machine.
const pipeScript = join(work, "pipe-proxy.mjs");
await writeFile(
  pipeScript,
  `import { createServer, get } from "node:http";
const upstream = process.argv[2];
const fetchTo = (url, res) => get(url, (up) => {
  if (up.statusCode >= 300 && up.statusCode < 400) { up.resume(); return fetchTo(new URL(up.headers.location, url), res); }
  res.writeHead(up.statusCode, { "content-length": up.headers["content-length"] });
  up.pipe(res);
});
const server = createServer((req, res) => fetchTo(upstream + req.url, res));
server.listen(0, "127.0.0.1", () => console.log("pipe http://127.0.0.1:" + server.address().port));`,
);
const pipeUrl = await startChild([pipeScript, hubUrl], "pipe");

const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY * 2 });

/** One request; resolves with status, body bytes and ms. Follows one redirect if asked. */
function hit(url, { method = "GET", follow = false } = {}) {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const req = request(url, { method, agent }, (res) => {
      let bytes = 0;
      res.on("data", (chunk) => {
        bytes += chunk.length;
      });
      res.on("end", () => {
        if (follow && res.statusCode >= 300 && res.statusCode < 400 && res.headers.location) {
          hit(new URL(res.headers.location, url).toString(), { method }).then((next) =>
            resolve({ ...next, ms: performance.now() - started }),
          );
          return;
        }
        resolve({ status: res.statusCode, bytes, ms: performance.now() - started });
      });
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end();
  });
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const pct = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)];
};
const fmt = (n, d = 2) => n.toFixed(d);

try {
  // 1. Throughput, 1 GiB.
  const bigPath = "/acme/big/resolve/main/model.safetensors";
  const first = await hit(gateUrl + bigPath);
  if (first.status !== 200 || first.bytes !== bigSize) throw new Error(`gate: ${first.status}`);
  const metrics = await (await fetch(`${gateUrl}/metrics`)).text();
  const scanBytes = /modelvet_gate_upstream_bytes_total\{purpose="scan"\} (\d+)/.exec(metrics)?.[1];
  const scans = /modelvet_gate_scan_duration_seconds_count (\d+)/.exec(metrics)?.[1];
  const scanSeconds = Number(/modelvet_gate_scan_duration_seconds_sum (\S+)/.exec(metrics)?.[1]);
  console.log(
    `1 GiB file: first request (scan + download) ${fmt(first.ms / 1000)} s; ${scans} scan, ` +
      `${scanBytes} bytes fetched to scan it in ${fmt(scanSeconds * 1000, 1)} ms`,
  );
  const direct = [];
  const gated = [];
  const piped = [];
  for (let i = 0; i < 3; i++) {
    const p = await hit(pipeUrl + bigPath);
    if (p.bytes !== bigSize) throw new Error("pipe proxy: short body");
    piped.push(p.bytes / GIB / (p.ms / 1000));
    const d = await hit(hub.url + bigPath, { follow: true });
    if (d.bytes !== bigSize) throw new Error("direct: short body");
    direct.push(d.bytes / GIB / (d.ms / 1000));
    const g = await hit(gateUrl + bigPath);
    if (g.bytes !== bigSize) throw new Error("gate: short body");
    gated.push(g.bytes / GIB / (g.ms / 1000));
  }
  const dThr = median(direct);
  const gThr = median(gated);
  console.log(
    `throughput (median of 3): direct ${fmt(dThr)} GiB/s, through the gate ${fmt(gThr)} GiB/s, ratio ${fmt(gThr / dThr)}`,
  );
  console.log(
    `for scale, a bare node:http pipe proxy: ${fmt(median(piped))} GiB/s (gate / pipe proxy ${fmt(gThr / median(piped))})`,
  );

  // 2. Added latency for an already-vetted small file.
  const smallPath = "/acme/big/resolve/main/config.json";
  await hit(gateUrl + smallPath);
  const dl = [];
  const gl = [];
  for (let i = 0; i < 300; i++) {
    dl.push((await hit(hub.url + smallPath)).ms);
    gl.push((await hit(gateUrl + smallPath)).ms);
  }
  console.log(
    `vetted small file GET (300 sequential): direct median ${fmt(median(dl))} ms p99 ${fmt(pct(dl, 99))} ms; ` +
      `gate median ${fmt(median(gl))} ms p99 ${fmt(pct(gl, 99))} ms; added median ${fmt(median(gl) - median(dl))} ms`,
  );

  // 3. Metadata requests/s (HEAD of a vetted file), CONCURRENCY clients for DURATION_MS.
  for (const [label, base] of [
    ["direct upstream", hub.url],
    ["gate", gateUrl],
  ]) {
    const latencies = [];
    const until = performance.now() + DURATION_MS;
    let errors = 0;
    const client = async () => {
      while (performance.now() < until) {
        const r = await hit(base + bigPath, { method: "HEAD" });
        if (r.status !== 200 && r.status !== 302) errors++;
        latencies.push(r.ms);
      }
    };
    const started = performance.now();
    await Promise.all(Array.from({ length: CONCURRENCY }, client));
    const seconds = (performance.now() - started) / 1000;
    console.log(
      `HEAD vetted file, ${CONCURRENCY} concurrent, ${label}: ${fmt(latencies.length / seconds, 0)} req/s, ` +
        `median ${fmt(median(latencies))} ms, p99 ${fmt(pct(latencies, 99))} ms, errors ${errors}`,
    );
  }
} finally {
  agent.destroy();
  for (const child of children) {
    child.removeAllListeners("exit");
    child.kill("SIGTERM");
  }
  await new Promise((r) => setTimeout(r, 300));
  await rm(work, { recursive: true, force: true });
}
