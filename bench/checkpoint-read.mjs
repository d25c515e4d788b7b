// How much of a 2 GB checkpoint a scan reads (run: npm run bench).
// Writes two sparse 2 GB PyTorch checkpoints to the temporary folder — a zip one (torch.save's
// layout: archive/data.pkl plus eight 256 MB stored storages) and a legacy one (five pickles, then
// the storages) — scans each through the real engine, and counts the bytes read through the byte
// source. Tensor data must be skipped: the target is kilobytes read and well under a second.
import { closeSync, openSync, rmSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { crc32 } from "node:zlib";
import { PickleBuilder, stateDictPickle } from "../dist/formats/pickle/pickle-builder.js";
import { scanFile } from "../dist/index.js";
import { openFile } from "../dist/sources/file-source.js";

const MB = 1024 * 1024;
const STORAGES = 8;
const STORAGE_BYTES = 256 * MB;

function u16(v) {
  return [v & 0xff, (v >>> 8) & 0xff];
}
function u32(v) {
  return [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff];
}

function writeZipCheckpoint(path) {
  const fd = openSync(path, "w");
  const members = [
    ["archive/data.pkl", stateDictPickle(STORAGES, STORAGE_BYTES)],
    ["archive/version", new TextEncoder().encode("3\n")],
  ];
  for (let i = 0; i < STORAGES; i++) members.push([`archive/data/${i}`, null]);
  const central = [];
  let offset = 0;
  for (const [name, data] of members) {
    const nameBytes = new TextEncoder().encode(name);
    const size = data ? data.length : STORAGE_BYTES;
    const crc = data ? crc32(data) : 0; // storage CRCs left 0: neither torch.load nor modelvet reads them
    const head = Uint8Array.from([
      ...u32(0x04034b50),
      ...u16(20),
      ...u16(0),
      ...u16(0),
      ...u16(0),
      ...u16(0),
      ...u32(crc),
      ...u32(size),
      ...u32(size),
      ...u16(nameBytes.length),
      ...u16(0),
      ...nameBytes,
    ]);
    writeSync(fd, head, 0, head.length, offset);
    if (data) writeSync(fd, data, 0, data.length, offset + head.length);
    central.push(
      Uint8Array.from([
        ...u32(0x02014b50),
        ...u16(20),
        ...u16(20),
        ...u16(0),
        ...u16(0),
        ...u16(0),
        ...u16(0),
        ...u32(crc),
        ...u32(size),
        ...u32(size),
        ...u16(nameBytes.length),
        ...u16(0),
        ...u16(0),
        ...u16(0),
        ...u16(0),
        ...u32(0),
        ...u32(offset),
        ...nameBytes,
      ]),
    );
    offset += head.length + size;
  }
  const cdStart = offset;
  for (const record of central) {
    writeSync(fd, record, 0, record.length, offset);
    offset += record.length;
  }
  const eocd = Uint8Array.from([
    ...u32(0x06054b50),
    ...u16(0),
    ...u16(0),
    ...u16(central.length),
    ...u16(central.length),
    ...u32(offset - cdStart),
    ...u32(cdStart),
    ...u16(0),
  ]);
  writeSync(fd, eocd, 0, eocd.length, offset);
  closeSync(fd);
}

function writeLegacyCheckpoint(path) {
  const fd = openSync(path, "w");
  const magic = Uint8Array.from([
    0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19, 0x2e,
  ]);
  const protocol = new PickleBuilder().proto(2).int(1001).op("STOP").bytes();
  const sysInfo = new PickleBuilder()
    .proto(2)
    .op("EMPTY_DICT")
    .binunicode("little_endian")
    .op("NEWTRUE")
    .op("SETITEM")
    .op("STOP")
    .bytes();
  const keys = new PickleBuilder().proto(2).op("MARK");
  for (let i = 0; i < STORAGES; i++) keys.binunicode(String(i));
  const parts = [
    magic,
    protocol,
    sysInfo,
    stateDictPickle(STORAGES, STORAGE_BYTES),
    keys.op("LIST").op("STOP").bytes(),
  ];
  let offset = 0;
  for (const p of parts) {
    writeSync(fd, p, 0, p.length, offset);
    offset += p.length;
  }
  for (let i = 0; i < STORAGES; i++) {
    const count = new Uint8Array(8);
    new DataView(count.buffer).setBigInt64(0, BigInt(STORAGE_BYTES / 4), true);
    writeSync(fd, count, 0, 8, offset);
    offset += 8 + STORAGE_BYTES;
  }
  writeSync(fd, new Uint8Array(1), 0, 0, offset); // size the file (sparse)
  closeSync(fd);
  return offset;
}

async function measure(label, path, size) {
  const opened = await openFile(path, { hash: false });
  let bytesRead = 0;
  let reads = 0;
  const counted = {
    size: size ?? opened.source.size,
    async read(offset, length) {
      const bytes = await opened.source.read(offset, length);
      bytesRead += bytes.length;
      reads++;
      return bytes;
    },
  };
  let peakRss = process.memoryUsage().rss;
  const timer = setInterval(() => {
    peakRss = Math.max(peakRss, process.memoryUsage().rss);
  }, 5);
  const started = performance.now();
  const result = await scanFile({
    path,
    open: async () => ({ source: counted, close: opened.close }),
  });
  const ms = performance.now() - started;
  clearInterval(timer);
  console.log(
    `${label}: ${(counted.size / MB).toFixed(0)} MB file, verdict ${result.verdict} (${result.format}), ` +
      `${(bytesRead / 1024).toFixed(1)} KiB read in ${reads} reads, ${ms.toFixed(0)} ms, peak RSS ${(peakRss / MB).toFixed(0)} MB`,
  );
  for (const f of result.findings) console.log(`   ${f.severity} ${f.rule}: ${f.message}`);
}

const zip = join(tmpdir(), "modelvet-bench-2g.pt");
const legacy = join(tmpdir(), "modelvet-bench-2g-legacy.pt");
try {
  writeZipCheckpoint(zip);
  const legacySize = writeLegacyCheckpoint(legacy);
  await measure("zip checkpoint", zip);
  await measure("legacy checkpoint", legacy, legacySize);
} finally {
  rmSync(zip, { force: true });
  rmSync(legacy, { force: true });
}
