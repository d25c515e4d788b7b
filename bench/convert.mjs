// Throughput and peak memory of `modelvet convert` on a generated 2 GB checkpoint (run: npm run bench).
// Builds a PyTorch zip checkpoint by hand, no Python — archive/data.pkl (a state dict of eight
// float32 tensors, as torch.save pickles it) plus eight stored 256 MB storages filled with a
// non-zero pattern — then converts it with the real CLI (scan, plan, streaming write, reread and
// verify) and prints MB/s over the checkpoint's bytes and the process's peak RSS.
import { closeSync, openSync, rmSync, statSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { crc32 } from "node:zlib";
import { main } from "../dist/cli/main.js";
import { PickleBuilder } from "../dist/formats/pickle/pickle-builder.js";

const MB = 1024 * 1024;
const TENSORS = 8;
const TENSOR_BYTES = 256 * MB;
const ROWS = 4096;
const COLS = TENSOR_BYTES / 4 / ROWS;

function statePickle() {
  const b = new PickleBuilder().proto(2).global("collections", "OrderedDict").op("EMPTY_TUPLE");
  b.op("REDUCE").op("MARK");
  for (let i = 0; i < TENSORS; i++) {
    b.binunicode(`model.layers.${i}.weight`).global("torch._utils", "_rebuild_tensor_v2");
    b.op("MARK").op("MARK").binunicode("storage").global("torch", "FloatStorage");
    b.binunicode(String(i))
      .binunicode("cpu")
      .int(ROWS * COLS)
      .op("TUPLE")
      .op("BINPERSID");
    b.int(0).int(ROWS).int(COLS).op("TUPLE2").int(COLS).int(1).op("TUPLE2").op("NEWFALSE");
    b.global("collections", "OrderedDict").op("EMPTY_TUPLE").op("REDUCE").op("TUPLE").op("REDUCE");
  }
  return b.op("SETITEMS").op("STOP").bytes();
}

const le = (bytes, value, at, width) => {
  for (let i = 0; i < width; i++) bytes[at + i] = Math.floor(value / 256 ** i) & 0xff;
};

/** A stored (uncompressed) zip member header: local (30 + name) or central (46 + name). */
function header(central, name, size, crc, offset) {
  const n = new TextEncoder().encode(name);
  const h = new Uint8Array((central ? 46 : 30) + n.length);
  le(h, central ? 0x02014b50 : 0x04034b50, 0, 4);
  const base = central ? 6 : 4; // central records carry "version made by" first
  if (central) le(h, 20, 4, 2);
  le(h, 20, base, 2);
  le(h, crc, base + 10, 4);
  le(h, size, base + 14, 4);
  le(h, size, base + 18, 4);
  le(h, n.length, base + 22, 2);
  if (central) le(h, offset, 42, 4);
  h.set(n, central ? 46 : 30);
  return h;
}

function writeCheckpoint(path) {
  const fd = openSync(path, "w");
  const pattern = new Uint8Array(16 * MB);
  const view = new Float32Array(pattern.buffer);
  for (let i = 0; i < view.length; i++) view[i] = Math.sin(i) * 3;
  const members = [
    ["archive/data.pkl", statePickle()],
    ["archive/version", new TextEncoder().encode("3\n")],
  ];
  for (let i = 0; i < TENSORS; i++) members.push([`archive/data/${i}`, null]);
  const central = [];
  let offset = 0;
  for (const [name, data] of members) {
    const size = data ? data.length : TENSOR_BYTES;
    const crc = data ? crc32(data) : 0; // storage CRCs are not checked by torch.load nor modelvet
    const local = header(false, name, size, crc, 0);
    writeSync(fd, local, 0, local.length, offset);
    const at = offset + local.length;
    if (data) writeSync(fd, data, 0, data.length, at);
    else
      for (let done = 0; done < size; done += pattern.length)
        writeSync(fd, pattern, 0, pattern.length, at + done);
    central.push(header(true, name, size, crc, offset));
    offset = at + size;
  }
  const cdStart = offset;
  for (const c of central) {
    writeSync(fd, c, 0, c.length, offset);
    offset += c.length;
  }
  const eocd = new Uint8Array(22);
  le(eocd, 0x06054b50, 0, 4);
  le(eocd, central.length, 8, 2);
  le(eocd, central.length, 10, 2);
  le(eocd, offset - cdStart, 12, 4);
  le(eocd, cdStart, 16, 4);
  writeSync(fd, eocd, 0, eocd.length, offset);
  closeSync(fd);
}

const dir = join(tmpdir(), `modelvet-bench-convert-${process.pid}`);
const input = join(dir, "pytorch_model.bin");
const output = join(dir, "model.safetensors");
const { mkdirSync } = await import("node:fs");
mkdirSync(dir, { recursive: true });
try {
  writeCheckpoint(input);
  const size = statSync(input).size;
  const sink = () => {
    const s = new PassThrough();
    s.resume();
    return s;
  };
  const stdout = new PassThrough();
  let text = "";
  stdout.on("data", (c) => {
    text += c;
  });
  const started = performance.now();
  const code = await main(["convert", input, "-o", output], { stdout, stderr: sink(), env: {} });
  const seconds = (performance.now() - started) / 1000;
  if (code !== 0) throw new Error(`convert exited ${code}`);
  const rssMb = process.resourceUsage().maxRSS / 1024;
  console.log(text.trim());
  console.log(
    `convert: ${(size / MB).toFixed(0)} MB checkpoint → ${(statSync(output).size / MB).toFixed(0)} MB safetensors in ${seconds.toFixed(2)} s = ${(size / MB / seconds).toFixed(0)} MB/s (scan + plan + source SHA-256 + write + reread/verify); peak RSS ${rssMb.toFixed(0)} MB`,
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}
