import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  deflateRaw,
  findSignature,
  makeZip,
  patch,
  SIG,
  type ZipEntrySpec,
  type ZipSpec,
} from "../../../test/fixtures/zip/make-zip.js";
import { type ByteSource, memorySource, readAll } from "../../core/byte-source.js";
import { DEFAULT_LIMITS, type Limits } from "../../core/limits.js";
import { crc32 } from "./crc32.js";
import {
  createInflateBudget,
  openZip,
  readZipMember,
  type ZipArchive,
  type ZipMember,
  type ZipMemberError,
} from "./zip-reader.js";

const text = (b: Uint8Array): string => new TextDecoder().decode(b);
const PICKLE = Uint8Array.from([0x80, 0x04, 0x95, 0x05, 0, 0, 0, 0, 0, 0, 0, 0x4e, 0x2e]);

async function open(bytes: Uint8Array, limits: Partial<Limits> = {}): Promise<ZipArchive> {
  const result = await openZip(memorySource(bytes), { limits: { ...DEFAULT_LIMITS, ...limits } });
  if (!result.ok) throw new Error(`openZip failed: ${result.error.message}`);
  return result.value;
}

async function build(entries: ZipEntrySpec[], spec?: ZipSpec): Promise<ZipArchive> {
  return open(await makeZip(entries, spec));
}

type Read = { ok: true; value: ZipMember } | { ok: false; error: ZipMemberError };

async function read(archive: ZipArchive, index = 0, limits: Partial<Limits> = {}): Promise<Read> {
  const all = { ...DEFAULT_LIMITS, ...limits };
  return readZipMember(archive, archive.entries[index]!, {
    limits: all,
    budget: createInflateBudget(all),
  });
}

async function readOk(archive: ZipArchive, index = 0, limits: Partial<Limits> = {}) {
  const r = await read(archive, index, limits);
  if (!r.ok) throw new Error(`member unreadable: ${r.error.findings.map((f) => f.message)}`);
  return { ...r.value, bytes: await readAll(r.value.source) };
}

const rules = (findings: readonly { rule: string }[]): string[] => findings.map((f) => f.rule);

describe("openZip / readZipMember", () => {
  it("lists members and reads stored and deflated data", async () => {
    const big = "tensor ".repeat(5000);
    const archive = await build([
      { name: "archive/data.pkl", data: PICKLE },
      { name: "archive/notes.txt", data: big, method: 8 },
      { name: "archive/dir/", data: "" },
    ]);
    expect(archive.entries.map((e) => e.name)).toEqual([
      "archive/data.pkl",
      "archive/notes.txt",
      "archive/dir/",
    ]);
    expect(archive.entries[2]!.isDirectory).toBe(true);
    expect(archive.findings).toEqual([]);
    const stored = await readOk(archive, 0);
    expect(stored.bytes).toEqual(PICKLE);
    expect(stored.findings).toEqual([]);
    const deflated = await readOk(archive, 1);
    expect(text(deflated.bytes)).toBe(big);
    expect(deflated.entry.compressedSize).toBeLessThan(big.length);
    expect(deflated.findings).toEqual([]);
    expect(deflated.complete).toBe(true);
  });

  it("reports a CRC mismatch and still reads the member (stored and deflated)", async () => {
    const archive = await build([
      { name: "a.pkl", data: PICKLE, crc: 0x12345678 },
      { name: "b.pkl", data: PICKLE, method: 8, crc: 0x12345678 },
    ]);
    for (const i of [0, 1]) {
      const m = await readOk(archive, i);
      expect(m.bytes).toEqual(PICKLE);
      expect(rules(m.findings)).toEqual(["zip.crc-mismatch"]);
      expect(m.findings[0]!.severity).toBe("high");
      expect(m.findings[0]!.offset).toBeGreaterThan(0);
    }
  });

  it("reads by the central name and reports a different local name", async () => {
    const archive = await build([{ name: "data.pkl", localName: "datap.kl", data: PICKLE }]);
    const m = await readOk(archive);
    expect(m.entry.name).toBe("data.pkl");
    expect(m.bytes).toEqual(PICKLE);
    expect(rules(m.findings)).toEqual(["zip.name-mismatch"]);
    expect(m.findings[0]!.offset).toBe(0);
  });

  it("lists duplicate names and reports them once", async () => {
    const archive = await build([
      { name: "x/data.pkl", data: "first" },
      { name: "x/data.pkl", data: "second" },
      { name: "x/data.pkl", data: "third" },
    ]);
    expect(archive.entries).toHaveLength(3);
    expect(rules(archive.findings)).toEqual(["zip.duplicate-name"]);
    expect(text((await readOk(archive, 1)).bytes)).toBe("second");
  });

  it("refuses truly encrypted members", async () => {
    // Traditional encryption: a 12-byte header precedes the ciphertext, so sizes differ.
    const cipher = Uint8Array.from({ length: 12 + PICKLE.length }, (_, i) => (i * 97 + 13) & 0xff);
    const archive = await build([
      {
        name: "secret.pkl",
        data: cipher,
        flags: 0x1,
        declaredSize: PICKLE.length,
        crc: crc32(PICKLE),
      },
    ]);
    const r = await read(archive);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.error.encrypted).toBe(true);
    expect(rules(r.error.findings)).toContain("zip.encrypted");
  });

  it("refuses AES members, and flagged deflated members whose data does not verify", async () => {
    const garbage = Uint8Array.from({ length: 64 }, (_, i) => (i * 31 + 7) & 0xff);
    const archive = await build([{ name: "s.pkl", data: garbage, flags: 0x1, method: 99 }]);
    const r = await read(archive);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error.encrypted).toBe(true);
    const deflatedLie = await makeZip([{ name: "t.pkl", data: PICKLE, method: 8, flags: 0x1 }]);
    // Corrupt the CRC: the data no longer verifies, so it counts as encrypted.
    const central = findSignature(deflatedLie, SIG.central)[0]!;
    patch(deflatedLie, central + 16, 0xdeadbeef, 4);
    const r2 = await read(await open(deflatedLie));
    expect(r2.ok).toBe(false);
    if (!r2.ok) expect(r2.error.encrypted).toBe(true);
  });

  it("reads members whose encryption flag lies, and reports the flag bits", async () => {
    for (const flags of [0x1, 0x20, 0x40]) {
      for (const method of [0, 8]) {
        const archive = await build([{ name: "model/config.pkl", data: PICKLE, flags, method }]);
        const m = await readOk(archive);
        expect(m.bytes).toEqual(PICKLE);
        expect(rules(m.findings)).toEqual(["zip.flag-bits"]);
        expect(m.findings[0]!.severity).toBe("high");
      }
    }
  });

  it("reports flag bits set only in the local header", async () => {
    const archive = await build([{ name: "a.pkl", data: PICKLE, localFlags: 0x20 }]);
    expect(rules((await readOk(archive)).findings)).toEqual(["zip.flag-bits"]);
  });

  it("finds the central directory when bytes are prepended without adjusting offsets", async () => {
    const prepend = new TextEncoder().encode("#!/bin/sh\necho this is also a script\n");
    const archive = await build(
      [
        { name: "a/data.pkl", data: PICKLE },
        { name: "a/b.txt", data: "hello", method: 8 },
      ],
      { prepend },
    );
    expect(archive.prependedBytes).toBe(prepend.length);
    expect(archive.leadingBytes).toBe(prepend.length);
    expect(rules(archive.findings)).toEqual(["zip.prepended-data"]);
    expect(archive.findings[0]!.severity).toBe("medium");
    expect((await readOk(archive, 0)).bytes).toEqual(PICKLE);
    expect(text((await readOk(archive, 1)).bytes)).toBe("hello");
  });

  it("reports bytes before the first member when offsets count them", async () => {
    const archive = await build([{ name: "a.pkl", data: PICKLE }], {
      prependAdjusted: new Uint8Array(100),
    });
    expect(archive.prependedBytes).toBe(0);
    expect(archive.leadingBytes).toBe(100);
    expect(rules(archive.findings)).toEqual(["zip.prepended-data"]);
    expect((await readOk(archive)).bytes).toEqual(PICKLE);
  });

  it("finds the end record behind a comment", async () => {
    const archive = await build([{ name: "a.pkl", data: PICKLE }], { comment: "c".repeat(60000) });
    expect(archive.entries).toHaveLength(1);
    expect(archive.findings).toEqual([]);
  });

  it("reads zip64 archives", async () => {
    const archive = await build(
      [
        { name: "archive/data.pkl", data: PICKLE },
        { name: "archive/big.txt", data: "z".repeat(70000), method: 8 },
      ],
      { zip64: true },
    );
    expect(archive.zip64).toBe(true);
    expect(archive.findings).toEqual([]);
    expect(archive.entries[1]!.uncompressedSize).toBe(70000);
    expect(archive.entries[1]!.zip64).toBe(true);
    expect((await readOk(archive, 0)).bytes).toEqual(PICKLE);
    expect((await readOk(archive, 1)).bytes).toHaveLength(70000);
  });

  it("reads zip64 archives with prepended bytes", async () => {
    const archive = await build([{ name: "a.pkl", data: PICKLE }], {
      zip64: true,
      prepend: new Uint8Array(33),
    });
    expect(archive.prependedBytes).toBe(33);
    expect((await readOk(archive)).bytes).toEqual(PICKLE);
  });

  it("uses central sizes when the local header has zeros and a data descriptor", async () => {
    const archive = await build([
      { name: "a.pkl", data: PICKLE, dataDescriptor: true },
      { name: "b.txt", data: "deflated ".repeat(30), method: 8, dataDescriptor: true },
    ]);
    const a = await readOk(archive, 0);
    expect(a.bytes).toEqual(PICKLE);
    expect(a.findings).toEqual([]);
    expect(text((await readOk(archive, 1)).bytes)).toBe("deflated ".repeat(30));
  });

  it("does not read unsupported methods", async () => {
    const archive = await build([{ name: "a.pkl", data: PICKLE, method: 12 }]);
    const r = await read(archive);
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.error.encrypted).toBe(false);
      expect(rules(r.error.findings)).toEqual(["zip.unsupported-method"]);
    }
  });

  it("reports member data past the end of the file and reads what is there", async () => {
    const bytes = await makeZip([{ name: "a.pkl", data: PICKLE }]);
    const central = findSignature(bytes, SIG.central)[0]!;
    patch(bytes, central + 20, 0x7fffffff, 4);
    patch(bytes, central + 24, 0x7fffffff, 4);
    const archive = await open(bytes);
    expect(rules(archive.findings)).toContain("zip.malformed");
    const m = await readOk(archive);
    expect(m.complete).toBe(false);
    expect(Array.from(m.bytes.subarray(0, PICKLE.length))).toEqual(Array.from(PICKLE));
    expect(rules(m.findings)).toContain("zip.malformed");
  });

  it("reports overlapping members", async () => {
    const archive = await build([
      { name: "a.bin", data: "shared data" },
      { name: "b.bin", data: "", sameDataAs: 0 },
    ]);
    expect(rules(archive.findings)).toContain("zip.overlap");
  });

  it("reports an end-record count that disagrees with the central directory", async () => {
    const archive = await build(
      [
        { name: "a", data: "1" },
        { name: "b", data: "2" },
      ],
      { eocdCount: 1 },
    );
    expect(archive.entries).toHaveLength(2);
    expect(rules(archive.findings)).toEqual(["zip.malformed"]);
  });

  it("bounds members by maxArchiveMembers", async () => {
    const archive = await open(
      await makeZip(Array.from({ length: 5 }, (_, i) => ({ name: `m${i}`, data: "x" }))),
      { maxArchiveMembers: 3 },
    );
    expect(archive.entries).toHaveLength(3);
    expect(rules(archive.findings)).toContain("limits.exceeded");
  });

  it("stops inflating at maxMemberBytes", async () => {
    const archive = await build([{ name: "bomb.bin", data: new Uint8Array(200_000), method: 8 }]);
    const m = await readOk(archive, 0, { maxMemberBytes: 1000 });
    expect(m.bytes).toHaveLength(1000);
    expect(m.complete).toBe(false);
    expect(rules(m.findings)).toEqual(["limits.exceeded"]);
    expect(m.findings[0]!.severity).toBe("high");
  });

  it("stops inflating when the archive's total budget runs out", async () => {
    const archive = await build([
      { name: "a.bin", data: new Uint8Array(50_000), method: 8 },
      { name: "b.bin", data: new Uint8Array(50_000), method: 8 },
    ]);
    const limits = { ...DEFAULT_LIMITS, maxTotalInflatedBytes: 60_000 };
    const budget = createInflateBudget(limits);
    const a = await readZipMember(archive, archive.entries[0]!, { limits, budget });
    const b = await readZipMember(archive, archive.entries[1]!, { limits, budget });
    expect(a.ok && a.value.complete).toBe(true);
    expect(b.ok && b.value.source.size).toBe(10_000);
    if (b.ok) expect(rules(b.value.findings)).toEqual(["limits.exceeded"]);
  });

  it("analyses what inflates before corrupt deflate data", async () => {
    const good = await deflateRaw(new TextEncoder().encode("hello ".repeat(1000)));
    const bad = good.slice(0, Math.floor(good.length / 2));
    const bytes = await makeZip([{ name: "a.txt", data: bad, method: 0 }]);
    // Relabel the stored bytes as deflate.
    patch(bytes, findSignature(bytes, SIG.local)[0]! + 8, 8, 2);
    patch(bytes, findSignature(bytes, SIG.central)[0]! + 10, 8, 2);
    const m = await readOk(await open(bytes));
    expect(m.complete).toBe(false);
    expect(rules(m.findings)).toContain("zip.malformed");
  });

  it("recovers members from local headers when there is no end record", async () => {
    const bytes = await makeZip([
      { name: "a.pkl", data: PICKLE },
      { name: "b.txt", data: "bee", method: 8 },
    ]);
    const cut = bytes.subarray(0, findSignature(bytes, SIG.central)[0]!);
    const archive = await open(cut);
    expect(archive.recovered).toBe(true);
    expect(archive.entries.map((e) => e.name)).toEqual(["a.pkl", "b.txt"]);
    expect(rules(archive.findings)).toEqual(["zip.malformed"]);
    expect((await readOk(archive, 0)).bytes).toEqual(PICKLE);
    expect(text((await readOk(archive, 1)).bytes)).toBe("bee");
  });

  it("returns an error finding for bytes that are not a zip", async () => {
    const result = await openZip(memorySource(new TextEncoder().encode("not a zip at all")), {
      limits: DEFAULT_LIMITS,
    });
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.error.rule).toBe("zip.malformed");
  });

  it("decodes CP437 names without the UTF-8 flag and UTF-8 names with it", async () => {
    const bytes = await makeZip([{ name: "caf\u00e9", data: "x" }]);
    expect((await open(bytes)).entries[0]!.name).toBe("caf\u00e9");
    const central = findSignature(bytes, SIG.central)[0]!;
    patch(bytes, central + 8, 0, 2);
    // 0xC3 0xA9 in CP437 is "├⌐".
    expect((await open(bytes)).entries[0]!.name).toBe("caf\u251c\u2310");
  });

  it("reads only the ranges it needs", async () => {
    const bytes = await makeZip([
      { name: "archive/data.pkl", data: PICKLE },
      { name: "archive/data/0", data: new Uint8Array(500_000) },
    ]);
    let readBytes = 0;
    const inner = memorySource(bytes);
    const counting: ByteSource = {
      size: inner.size,
      read(offset, length) {
        readBytes += length;
        return inner.read(offset, length);
      },
    };
    const opened = await openZip(counting, { limits: DEFAULT_LIMITS });
    if (!opened.ok) throw new Error("open failed");
    await readZipMember(opened.value, opened.value.entries[0]!, {
      limits: DEFAULT_LIMITS,
      budget: createInflateBudget(DEFAULT_LIMITS),
    });
    expect(readBytes).toBeLessThan(200_000);
  });
});

describe("robustness (fast-check)", () => {
  const limits = { ...DEFAULT_LIMITS, maxMemberBytes: 1 << 20, maxTotalInflatedBytes: 4 << 20 };

  async function exercise(bytes: Uint8Array): Promise<void> {
    const opened = await openZip(memorySource(bytes), { limits });
    if (!opened.ok) return;
    const budget = createInflateBudget(limits);
    for (const entry of opened.value.entries) {
      await readZipMember(opened.value, entry, { limits, budget });
    }
  }

  it("never throws on random bytes", async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 600 }), async (bytes) => {
        await exercise(bytes);
      }),
      { numRuns: 300 },
    );
  });

  it("never throws on mutated valid zips", async () => {
    const seeds = await Promise.all([
      makeZip([
        { name: "archive/data.pkl", data: PICKLE },
        { name: "archive/x.txt", data: "hello hello hello", method: 8 },
      ]),
      makeZip([{ name: "a/data.pkl", data: PICKLE, method: 8 }], { zip64: true }),
      makeZip([{ name: "a", data: "b", dataDescriptor: true }], { prepend: new Uint8Array(7) }),
    ]);
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: seeds.length - 1 }),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), {
          minLength: 1,
          maxLength: 8,
        }),
        fc.nat(),
        async (seed, mutations, cut) => {
          const bytes = seeds[seed]!.slice();
          for (const [at, value] of mutations) bytes[at % bytes.length] = value;
          await exercise(bytes);
          await exercise(bytes.subarray(cut % bytes.length));
        },
      ),
      { numRuns: 300 },
    );
  });
});
