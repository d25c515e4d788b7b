import { readFileSync } from "node:fs";
import { join } from "node:path";
import { deflateSync, gzipSync } from "node:zlib";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { memorySource, readAll } from "../../core/byte-source.js";
import { DEFAULT_LIMITS, type Limits } from "../../core/limits.js";
import type { Policy } from "../../policy/types.js";
import { reducePickle } from "../pickle/pickle-builder.js";
import type { Analysis, FormatAnalyser, ScanContext } from "../types.js";
import {
  compressedFormat,
  createCompressedFormat,
  DECOMPRESSED_CHILD,
  detectCompressed,
} from "./index.js";

const FIXTURES = join(import.meta.dirname, "../../../test/fixtures/tar");
const fixture = (name: string): Uint8Array => readFileSync(join(FIXTURES, name));
const policy: Policy = {
  classifyGlobal: () => ({ class: "unknown", severity: "medium", rule: null, reason: "test" }),
};
const PICKLE = reducePickle("posix", "system", "touch x");
/** bz2.compress(b"\0" * 40 MiB, 9): 49 bytes. */
const BZIP2_BOMB = Uint8Array.from(
  Buffer.from(
    "425a683931415926535957c6d77f0141414080c00000010008200030cc0529a6409026c502409e2ee48a70a120af8daefe",
    "hex",
  ),
);

async function analyse(
  bytes: Uint8Array,
  name = "t.bin",
  limits: Partial<Limits> = {},
  format: FormatAnalyser = compressedFormat,
): Promise<Analysis> {
  const ctx: ScanContext = { limits: { ...DEFAULT_LIMITS, ...limits }, policy, depth: 0 };
  return format.analyse({ file: name, member: [], source: memorySource(bytes) }, ctx);
}

const rules = (a: Analysis): string[] => a.findings.map((f) => f.rule);
const childBytes = async (a: Analysis): Promise<Uint8Array> => readAll(a.children[0]!.source);

describe("compressedFormat", () => {
  it("is detected by content and has id compressed", () => {
    const gz = gzipSync(PICKLE);
    expect(detectCompressed({ head: gz, tail: gz, size: gz.length })).toBe(true);
    expect(detectCompressed({ head: PICKLE, tail: PICKLE, size: PICKLE.length })).toBe(false);
    expect(compressedFormat.id).toBe("compressed");
  });

  it("decompresses gzip into one child named after the file", async () => {
    const a = await analyse(gzipSync(PICKLE), "dir/model.pkl.gz");
    expect(a.format).toBe("gzip");
    expect(a.findings).toEqual([]);
    expect(a.children.map((c) => c.name)).toEqual(["model.pkl"]);
    expect(await childBytes(a)).toEqual(PICKLE);
    expect(a.details).toMatchObject({ decompressedBytes: PICKLE.length, complete: true });
    expect((await analyse(gzipSync(PICKLE), "x.tgz")).children[0]!.name).toBe("x.tar");
    expect((await analyse(gzipSync(PICKLE), "noext")).children[0]!.name).toBe(DECOMPRESSED_CHILD);
  });

  it("reads every member of a multi-member gzip", async () => {
    const a = await analyse(
      Buffer.concat([gzipSync(PICKLE.subarray(0, 10)), gzipSync(PICKLE.subarray(10))]),
    );
    expect(a.findings).toEqual([]);
    expect(await childBytes(a)).toEqual(PICKLE);
  });

  it("reports a truncated stream and still hands on what was decoded", async () => {
    const big = Buffer.from("model weights ".repeat(50_000));
    const gz = gzipSync(big);
    const a = await analyse(gz.subarray(0, gz.length - 20));
    expect(rules(a)).toEqual(["compressed.truncated"]);
    const out = await childBytes(a);
    expect(out.length).toBeGreaterThan(0);
    expect(Buffer.from(out).equals(big.subarray(0, out.length))).toBe(true);
  });

  it("reports data after the end of the stream", async () => {
    const a = await analyse(Buffer.concat([gzipSync(PICKLE), Buffer.from("appended junk")]));
    expect(rules(a)).toEqual(["compressed.trailing-data"]);
    expect(a.findings[0]!.severity).toBe("medium");
    expect(await childBytes(a)).toEqual(PICKLE);
  });

  it("is unanalysable when nothing decodes", async () => {
    const bz = fixture("benign/checkpoint.tar.bz2").slice();
    bz.fill(0x41, 20, 60);
    const a = await analyse(bz);
    expect(a.format).toBe("bzip2");
    expect(a.unanalysable).toBe(true);
    expect(rules(a)).toEqual(["compressed.corrupt", "archive.unanalysable"]);
  });

  it.each([
    ["benign/checkpoint.tar.bz2", "bzip2"],
    ["benign/checkpoint.tar.xz", "xz"],
    ["malicious/joblib_lzma.joblib", "lzma"],
    ["malicious/joblib_zlib.joblib", "zlib"],
    ["malicious/joblib_zfile.pkl", "joblib-zfile"],
  ])("decodes %s (%s) made by the real tool", async (file, kind) => {
    const a = await analyse(fixture(file), file);
    expect(a.format).toBe(kind);
    expect(a.findings).toEqual([]);
    const out = await childBytes(a);
    expect(out.length).toBeGreaterThan(40);
  });

  it("decodes zlib in memory and reports truncation", async () => {
    const data = Buffer.from("zlib data ".repeat(10_000));
    const z = deflateSync(data, { level: 9 });
    expect(await childBytes(await analyse(z))).toEqual(Uint8Array.from(data));
    const cut = await analyse(z.subarray(0, z.length - 10));
    expect(rules(cut)).toEqual(["compressed.truncated"]);
  });

  it("gives up on 'zlib' that decodes to nothing (the two-byte header matched by chance)", async () => {
    const a = await analyse(
      Uint8Array.of(0x78, 0x9c, 0x05, 0xff, 0xfe, 0x00, 0x91, 0xff, 0xff, 0x13),
    );
    expect(a.notThisFormat).toBe(true);
  });

  it("stops at maxMemberBytes and keeps the prefix", async () => {
    const data = Buffer.alloc(200_000, 1);
    for (const bytes of [gzipSync(data), deflateSync(data)]) {
      const a = await analyse(bytes, "x", { maxMemberBytes: 50_000 });
      expect(rules(a)).toEqual(["limits.exceeded"]);
      expect((await childBytes(a)).length).toBe(50_000);
    }
  });

  it("stops a bzip2 bomb by its ratio", async () => {
    const a = await analyse(BZIP2_BOMB);
    expect(rules(a)).toEqual(["archive.bomb"]);
    expect(a.findings[0]!.severity).toBe("high");
    const out = await childBytes(a);
    expect(out.length).toBeLessThan(40 * 1024 * 1024);
    expect(out.length).toBeGreaterThan(16 * 1024 * 1024);
  });

  it("reports a bomb that hits the size limit first as a bomb too", async () => {
    const a = await analyse(BZIP2_BOMB, "x", { maxMemberBytes: 17 * 1024 * 1024 });
    expect(rules(a)).toEqual(["archive.bomb"]);
  });

  it("gives 7-Zip only the first maxInputBytes of a huge input, and says so", async () => {
    const xz = fixture("benign/checkpoint.tar.xz");
    const a = await analyse(xz, "x", {}, createCompressedFormat({ maxInputBytes: 400 }));
    expect(rules(a)).toEqual(["limits.exceeded"]);
    // gzip streams through DecompressionStream and needs no such copy
    const gz = gzipSync(Buffer.from("x".repeat(100_000)));
    const g = await analyse(gz, "x", {}, createCompressedFormat({ maxInputBytes: 40 }));
    expect(g.findings).toEqual([]);
  });
});

describe("robustness (fast-check)", () => {
  it("never throws on mutated gzip, xz and zlib streams", async () => {
    const seeds = [
      gzipSync(Buffer.from("seed data ".repeat(300))),
      fixture("benign/checkpoint.tar.xz"),
      deflateSync(Buffer.from("seed data ".repeat(300))),
    ];
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: seeds.length - 1 }),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), {
          minLength: 1,
          maxLength: 5,
        }),
        fc.nat(),
        async (which, mutations, cut) => {
          const bytes = Uint8Array.from(seeds[which]!);
          // keep the magic so the analyser is the one under test
          for (const [at, value] of mutations) bytes[12 + (at % (bytes.length - 12))] = value;
          const a = await analyse(bytes.subarray(0, Math.max(14, bytes.length - (cut % 50))));
          expect(a.children.length).toBeLessThanOrEqual(1);
        },
      ),
      { numRuns: 40 },
    );
  });
});
