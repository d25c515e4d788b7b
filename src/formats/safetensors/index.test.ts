import { readFileSync } from "node:fs";
import { join } from "node:path";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type ByteSource, memorySource } from "../../core/byte-source.js";
import { DEFAULT_LIMITS } from "../../core/limits.js";
import { BUILTIN_POLICY } from "../../policy/index.js";
import { scanArtifact } from "../../scan/scan-artifact.js";
import { pickleFormat } from "../pickle/index.js";
import type { Probe, ScanContext } from "../types.js";
import { checkSafetensorsHeader } from "./check-header.js";
import {
  analyseSafetensors,
  detectSafetensors,
  SAFETENSORS_MAX_HEADER_BYTES,
  SAFETENSORS_TRAILING_CHILD,
  safetensorsFormat,
} from "./index.js";

const FIXTURES = join(import.meta.dirname, "../../../test/fixtures/safetensors");
const enc = new TextEncoder();

interface Entry {
  file: string;
  expect: "safe" | "suspicious";
  rules: string[];
  technique: string;
}
const manifest: { fixtures: Entry[] } = JSON.parse(
  readFileSync(join(FIXTURES, "manifest.json"), "utf8"),
);

function file(
  header: string | Uint8Array,
  data: Uint8Array | number = 0,
  length?: number,
): Uint8Array {
  const h = typeof header === "string" ? enc.encode(header) : header;
  const body = typeof data === "number" ? new Uint8Array(data) : data;
  const out = new Uint8Array(8 + h.length + body.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(length ?? h.length), true);
  out.set(h, 8);
  out.set(body, 8 + h.length);
  return out;
}

const probe = (bytes: Uint8Array): Probe => ({
  head: bytes.subarray(0, 65558),
  tail: bytes,
  size: bytes.length,
});
const artifact = (bytes: Uint8Array | ByteSource) => ({
  file: "model.safetensors",
  member: [],
  source: bytes instanceof Uint8Array ? memorySource(bytes) : bytes,
});
const rules = async (bytes: Uint8Array) =>
  (await analyseSafetensors(artifact(bytes))).findings.map((f) => f.rule);
const ctx: ScanContext = { limits: DEFAULT_LIMITS, policy: BUILTIN_POLICY, depth: 0 };

describe("detectSafetensors", () => {
  it("matches a length then a JSON object, and nothing textual", () => {
    expect(detectSafetensors(probe(file('{"a":{}}')))).toBe(true);
    expect(detectSafetensors(probe(file("{}")))).toBe(true);
    expect(detectSafetensors(probe(file('  {"a":1}')))).toBe(true);
    expect(detectSafetensors(probe(file('{"a":{"dtype":"F32"}}', 0, 1 << 30)))).toBe(true);
    expect(detectSafetensors(probe(file('{"a":1}', 0, 1 << 30)))).toBe(false);
    expect(detectSafetensors(probe(file("[1]")))).toBe(false);
    expect(detectSafetensors(probe(enc.encode('{"chat_template": "{{ x }}"}')))).toBe(false);
    expect(
      detectSafetensors(probe(Uint8Array.of(0x80, 2, 0x7d, 0x71, 0, 0x2e, 0, 0, 0x7b, 0x22))),
    ).toBe(false);
  });
});

describe("fixtures (test/fixtures/safetensors, built byte-exact from the specification)", () => {
  it.each(manifest.fixtures.map((e) => [e.file, e] as const))("%s", async (_f, entry) => {
    const bytes = readFileSync(join(FIXTURES, entry.file));
    expect(detectSafetensors(probe(bytes))).toBe(true);
    const analysis = await analyseSafetensors(artifact(bytes));
    const found = analysis.findings.map((f) => f.rule);
    if (entry.expect === "safe") {
      expect(
        analysis.findings.filter((f) => f.severity !== "info"),
        entry.technique,
      ).toEqual([]);
      expect(analysis.unanalysable).toBeUndefined();
    } else {
      for (const rule of entry.rules) expect(found, entry.technique).toContain(rule);
      expect(analysis.findings.some((f) => f.severity === "high" || f.severity === "medium")).toBe(
        true,
      );
    }
  });
});

describe("analyseSafetensors", () => {
  it("refuses a header over the 100 MB limit without reading it", async () => {
    let read = 0;
    const size = SAFETENSORS_MAX_HEADER_BYTES + 1000;
    const source: ByteSource = {
      size,
      read(offset, length) {
        read += length;
        const out = new Uint8Array(Math.min(length, size - offset));
        if (offset === 0)
          new DataView(out.buffer).setBigUint64(0, BigInt(SAFETENSORS_MAX_HEADER_BYTES + 1), true);
        return Promise.resolve(out);
      },
    };
    const analysis = await analyseSafetensors(artifact(source));
    expect(analysis.unanalysable).toBe(true);
    expect(analysis.findings[0]?.rule).toBe("safetensors.invalid-header");
    expect(read).toBeLessThan(1024);
  });

  it("hands trailing bytes back as a child", async () => {
    const bytes = file(
      '{"a":{"dtype":"U8","shape":[2],"data_offsets":[0,2]}}',
      Uint8Array.of(1, 2, 9, 9, 9),
    );
    const analysis = await analyseSafetensors(artifact(bytes));
    expect(analysis.findings.map((f) => f.rule)).toEqual(["safetensors.trailing-data"]);
    expect(analysis.children.map((c) => [c.name, c.source.size])).toEqual([
      [SAFETENSORS_TRAILING_CHILD, 3],
    ]);
  });

  it("reports each overlap, hole and out-of-range tensor", async () => {
    expect(
      await rules(
        file(
          '{"a":{"dtype":"U8","shape":[4],"data_offsets":[0,4]},"b":{"dtype":"U8","shape":[2],"data_offsets":[2,4]},"c":{"dtype":"U8","shape":[2],"data_offsets":[6,8]},"d":{"dtype":"U8","shape":[2],"data_offsets":[8,10]}}',
          8,
        ),
      ),
    ).toEqual(["safetensors.bad-range", "safetensors.bad-range", "safetensors.bad-range"]);
  });

  it("accepts empty tensors sharing an offset", async () => {
    expect(
      await rules(
        file(
          '{"a":{"dtype":"F32","shape":[0],"data_offsets":[0,0]},"b":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"c":{"dtype":"F32","shape":[0,5],"data_offsets":[4,4]}}',
          4,
        ),
      ),
    ).toEqual([]);
  });

  it("catches shape overflow with bigint arithmetic", async () => {
    expect(
      await rules(
        file('{"a":{"dtype":"F64","shape":[4294967296,4294967296],"data_offsets":[0,0]}}'),
      ),
    ).toContain("safetensors.bad-range");
    expect(
      await rules(file('{"a":{"dtype":"U8","shape":[18446744073709551616],"data_offsets":[0,0]}}')),
    ).toContain("safetensors.invalid-header");
  });

  it("lists at most 20 findings of one rule, then a summary", async () => {
    const entries = Array.from(
      { length: 30 },
      (_, i) => `"t${i}":{"dtype":"X","shape":[1],"data_offsets":[${i},${i + 1}]}`,
    );
    const found = await rules(file(`{${entries.join(",")}}`, 30));
    expect(found.filter((r) => r === "safetensors.unknown-dtype")).toHaveLength(21);
  });
});

describe("checkSafetensorsHeader (properties)", () => {
  const dtypes = ["F32", "F16", "BF16", "I64", "U8", "BOOL", "F64", "I8"] as const;
  const bits: Record<string, number> = {
    F32: 32,
    F16: 16,
    BF16: 16,
    I64: 64,
    U8: 8,
    BOOL: 8,
    F64: 64,
    I8: 8,
  };
  const tensors = fc.uniqueArray(
    fc.record({
      name: fc.string({ minLength: 1, maxLength: 12 }),
      dtype: fc.constantFrom(...dtypes),
      shape: fc.array(fc.integer({ min: 0, max: 5 }), { maxLength: 3 }),
    }),
    { selector: (t) => t.name, maxLength: 8 },
  );

  function build(list: { name: string; dtype: string; shape: number[] }[]): {
    header: Uint8Array;
    dataSize: bigint;
  } {
    let offset = 0;
    const header: Record<string, unknown> = {};
    for (const t of list) {
      const size = (t.shape.reduce((a, b) => a * b, 1) * bits[t.dtype]!) / 8;
      Object.defineProperty(header, t.name, {
        value: { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + size] },
        enumerable: true,
      });
      offset += size;
    }
    return { header: enc.encode(JSON.stringify(header)), dataSize: BigInt(offset) };
  }

  it("finds nothing wrong with any header laid out by the rules", () => {
    fc.assert(
      fc.property(tensors, (list) => {
        const { header, dataSize } = build(list);
        expect(checkSafetensorsHeader(header, { dataSize }).findings).toEqual([]);
      }),
      { numRuns: 300 },
    );
  });

  it("never throws on mutated headers and random data sizes", () => {
    fc.assert(
      fc.property(
        tensors,
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 6 }),
        fc.bigInt({ min: 0n, max: 1n << 70n }),
        (list, edits, dataSize) => {
          const { header } = build(list);
          for (const [at, b] of edits) if (header.length > 0) header[at % header.length] = b;
          const check = checkSafetensorsHeader(header, { dataSize });
          expect(Array.isArray(check.findings)).toBe(true);
        },
      ),
      { numRuns: 500 },
    );
  });

  it("never throws on arbitrary files", async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ minLength: 8, maxLength: 300 }), async (bytes) => {
        await analyseSafetensors(artifact(bytes));
      }),
      { numRuns: 500 },
    );
  });
});

describe("through the engine", () => {
  const formats = [safetensorsFormat, pickleFormat];
  const scan = (bytes: Uint8Array) =>
    scanArtifact(
      { file: "model.safetensors", member: [], source: memorySource(bytes) },
      ctx,
      formats,
    );

  it("vouches for a valid file", async () => {
    const result = await scan(readFileSync(join(FIXTURES, "benign/small_model.safetensors")));
    expect(result.format).toBe("safetensors");
    expect(result.verdict).toBe("safe");
    expect(result.findings).toEqual([]);
  });

  it("finds a pickle payload hidden after the tensors", async () => {
    const valid = readFileSync(join(FIXTURES, "benign/small_model.safetensors"));
    const payload = readFileSync(
      join(import.meta.dirname, "../../../test/fixtures/pickle/malicious/os_system_p4.pkl"),
    );
    const result = await scan(new Uint8Array([...valid, ...payload]));
    expect(result.verdict).toBe("malicious");
    expect(result.children[0]?.member).toEqual([SAFETENSORS_TRAILING_CHILD]);
    expect(result.children[0]?.format).toBe("pickle");
  });

  it("fails closed on a header it cannot read", async () => {
    const result = await scan(
      readFileSync(join(FIXTURES, "malformed/header_beyond_file.safetensors")),
    );
    expect(result.verdict).toBe("error");
  });
});
