// Analyser throughput on two synthetic pickles (run: npm run bench).
//  (a) a list of 10^7 small ints, as pickle.dumps writes it (BININT1 in APPENDS batches of 1000);
//  (b) a tuple of three 100 MB byte strings (BINBYTES8), whose bytes must be skipped, not read.
// Prints MB/s and the peak resident memory seen while analysing. Numbers go in notes, not tests.
import { closeSync, openSync, rmSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { analysePickle, BUILTIN_POLICY, DEFAULT_LIMITS } from "../dist/index.js";
import { openFile } from "../dist/sources/file-source.js";

const MB = 1024 * 1024;

function writeIntList(path, count) {
  const fd = openSync(path, "w");
  writeSync(fd, Uint8Array.of(0x80, 4, 0x5d)); // PROTO 4, EMPTY_LIST
  const batch = new Uint8Array(1 + 2 * 1000 + 1);
  for (let done = 0; done < count; done += 1000) {
    let p = 0;
    batch[p++] = 0x28; // MARK
    for (let i = 0; i < 1000; i++) {
      batch[p++] = 0x4b; // BININT1
      batch[p++] = (done + i) & 0xff;
    }
    batch[p++] = 0x65; // APPENDS
    writeSync(fd, batch);
  }
  writeSync(fd, Uint8Array.of(0x2e)); // STOP
  closeSync(fd);
}

function writeBigBytes(path, count, size) {
  const fd = openSync(path, "w");
  writeSync(fd, Uint8Array.of(0x80, 4, 0x28)); // PROTO 4, MARK
  const chunk = new Uint8Array(8 * MB).fill(0x41);
  for (let n = 0; n < count; n++) {
    const head = new Uint8Array(9);
    head[0] = 0x8e; // BINBYTES8
    new DataView(head.buffer).setBigUint64(1, BigInt(size), true);
    writeSync(fd, head);
    for (let w = 0; w < size; w += chunk.length)
      writeSync(fd, chunk, 0, Math.min(chunk.length, size - w));
  }
  writeSync(fd, Uint8Array.of(0x74, 0x2e)); // TUPLE, STOP
  closeSync(fd);
}

async function measure(label, path) {
  const input = await openFile(path, { hash: false });
  const ctx = { limits: DEFAULT_LIMITS, policy: BUILTIN_POLICY, depth: 0 };
  globalThis.gc?.();
  const baseRss = process.memoryUsage().rss;
  let peakRss = baseRss;
  const timer = setInterval(() => {
    peakRss = Math.max(peakRss, process.memoryUsage().rss);
  }, 5);
  const started = performance.now();
  const report = await analysePickle(input.source, ctx);
  const seconds = (performance.now() - started) / 1000;
  clearInterval(timer);
  peakRss = Math.max(peakRss, process.memoryUsage().rss);
  await input.close();
  const size = input.source.size;
  console.log(
    `${label}: ${(size / MB).toFixed(1)} MB in ${seconds.toFixed(3)} s = ${(size / MB / seconds).toFixed(0)} MB/s; ` +
      `opcodes ${report.opcodeCount}; findings ${report.findings.length}; ` +
      `peak RSS ${(peakRss / MB).toFixed(0)} MB (${((peakRss - baseRss) / MB).toFixed(0)} MB above start)`,
  );
}

const dir = tmpdir();
const ints = join(dir, "modelvet-bench-ints.pkl");
const bytes = join(dir, "modelvet-bench-bytes.pkl");
try {
  writeIntList(ints, 10_000_000);
  writeBigBytes(bytes, 3, 100 * MB);
  await measure("(a) 10^7 small ints", ints);
  await measure("(b) 3 x 100 MB bytes", bytes);
} finally {
  rmSync(ints, { force: true });
  rmSync(bytes, { force: true });
}
