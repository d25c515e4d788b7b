import { readFileSync } from "node:fs";
import { join } from "node:path";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { memorySource, readAll } from "../../core/byte-source.js";
import { DEFAULT_LIMITS, type Limits } from "../../core/limits.js";
import type { Policy } from "../../policy/types.js";
import { PickleBuilder, reducePickle } from "../pickle/pickle-builder.js";
import type { Analysis, ScanContext } from "../types.js";
import { detectNpy, npyFormat, TRAILING_CHILD } from "./index.js";

const FIXTURES = join(import.meta.dirname, "../../../test/fixtures/numpy");
const policy: Policy = {
  classifyGlobal: (module, name) =>
    module === "posix" && name === "system"
      ? { class: "dangerous", severity: "critical", rule: null, reason: "test: runs a shell" }
      : { class: "unknown", severity: "medium", rule: null, reason: "test" },
};
const enc = new TextEncoder();

/** A .npy file as np.save lays it out: preamble, header padded to 64 bytes with a newline, data. */
function npy(header: string, data: Uint8Array | number = 0, major = 1): Uint8Array {
  const lengthBytes = major === 1 ? 2 : 4;
  const raw = major === 3 ? enc.encode(header) : Uint8Array.from(header, (c) => c.charCodeAt(0));
  const total = Math.ceil((10 + (lengthBytes - 2) + raw.length + 1) / 64) * 64;
  const headerLength = total - 8 - lengthBytes;
  const padded = new Uint8Array(headerLength).fill(0x20);
  padded.set(raw);
  padded[headerLength - 1] = 0x0a;
  const body = typeof data === "number" ? new Uint8Array(data) : data;
  const out = new Uint8Array(total + body.length);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, major, 0]);
  const view = new DataView(out.buffer);
  if (major === 1) view.setUint16(8, headerLength, true);
  else view.setUint32(8, headerLength, true);
  out.set(padded, 8 + lengthBytes);
  out.set(body, total);
  return out;
}

const dict = (descr: string, shape: string, fortran = "False"): string =>
  `{'descr': ${descr}, 'fortran_order': ${fortran}, 'shape': ${shape}, }`;

async function analyse(bytes: Uint8Array, limits: Partial<Limits> = {}): Promise<Analysis> {
  const ctx: ScanContext = { limits: { ...DEFAULT_LIMITS, ...limits }, policy, depth: 0 };
  return npyFormat.analyse({ file: "a.npy", member: [], source: memorySource(bytes) }, ctx);
}
const rules = (a: Analysis): string[] => a.findings.map((f) => f.rule);

describe("detectNpy", () => {
  it("matches the magic only", () => {
    const bytes = npy(dict("'<f4'", "(2,)"), 8);
    expect(detectNpy({ head: bytes, tail: bytes, size: bytes.length })).toBe(true);
    const pickle = reducePickle("os", "system", "x");
    expect(detectNpy({ head: pickle, tail: pickle, size: pickle.length })).toBe(false);
    expect(npyFormat.id).toBe("npy");
  });
});

describe("npyFormat.analyse: plain arrays", () => {
  it("accepts a header whose size matches and never needs the data", async () => {
    const a = await analyse(npy(dict("'<f4'", "(3, 4)"), 48));
    expect(a.format).toBe("npy");
    expect(a.findings).toEqual([]);
    expect(a.children).toEqual([]);
    expect(a.details).toMatchObject({
      version: "1.0",
      shape: "(3, 4)",
      dataBytes: 48,
      fortranOrder: false,
    });
  });

  it("handles 0-d arrays, empty arrays, structured dtypes and Fortran order", async () => {
    expect((await analyse(npy(dict("'|b1'", "()"), 1))).findings).toEqual([]);
    expect((await analyse(npy(dict("'<f8'", "(0, 5)"), 0))).findings).toEqual([]);
    const s = dict("[('a', '<i4'), ('b', '|S3', (2,))]", "(2,)", "True");
    expect((await analyse(npy(s, 20))).findings).toEqual([]);
  });

  it("reads format 2.0 and 3.0 headers (u32 length, UTF-8)", async () => {
    expect((await analyse(npy(dict("'<i8'", "(2,)"), 16, 2))).details).toMatchObject({
      version: "2.0",
    });
    const v3 = await analyse(npy(dict("[('température', '<f4'), ('σ', '<i2')]", "(1,)"), 6, 3));
    expect(v3.findings).toEqual([]);
    expect(v3.details).toMatchObject({ version: "3.0" });
  });

  it("accepts Python 2 long suffixes in 1.0/2.0 headers, as NumPy filters them", async () => {
    expect((await analyse(npy(dict("'<f4'", "(3L,)"), 12))).findings).toEqual([]);
    expect(rules(await analyse(npy(dict("'<f4'", "(3L,)"), 12, 3)))).toEqual([
      "npy.malformed-header",
    ]);
  });

  it("reports missing data", async () => {
    const a = await analyse(npy(dict("'<f4'", "(100,)"), 40));
    expect(rules(a)).toEqual(["npy.size-mismatch"]);
    expect(a.findings[0]!.severity).toBe("medium");
  });

  it("reports bytes after the data and hands them on", async () => {
    const hidden = reducePickle("posix", "system", "id");
    const data = new Uint8Array(8 + hidden.length);
    data.set(hidden, 8);
    const a = await analyse(npy(dict("'<f4'", "(2,)"), data));
    expect(rules(a)).toEqual(["npy.trailing-data"]);
    expect(a.findings[0]!.severity).toBe("medium");
    expect(a.children.map((c) => c.name)).toEqual([TRAILING_CHILD]);
    expect(await readAll(a.children[0]!.source)).toEqual(hidden);
  });

  it("only notes another array after this one (np.save called twice on one file)", async () => {
    const second = npy(dict("'<i8'", "(1,)"), 8);
    const a = await analyse(Uint8Array.from([...npy(dict("'<f4'", "(2,)"), 8), ...second]));
    expect(rules(a)).toEqual(["npy.trailing-data"]);
    expect(a.findings[0]!.severity).toBe("info");
    expect(await readAll(a.children[0]!.source)).toEqual(second);
    const objectThenPlain = await analyse(
      Uint8Array.from([
        ...npy(
          dict("'|O'", "(0,)"),
          new PickleBuilder().proto(2).op("EMPTY_LIST").op("STOP").bytes(),
        ),
        ...second,
      ]),
    );
    expect(rules(objectThenPlain)).toEqual(["npy.object-array", "npy.trailing-data"]);
    expect(objectThenPlain.findings[1]!.severity).toBe("info");
  });

  it("never multiplies itself into trouble with huge shapes", async () => {
    const a = await analyse(npy(dict("'<f8'", "(99999999999, 99999999999)"), 8));
    expect(rules(a)).toEqual(["npy.size-mismatch"]);
  });

  it("reports bytes after an object array's pickle", async () => {
    const pickle = reducePickle("builtins", "list", "x");
    const a = await analyse(npy(dict("'|O'", "(1,)"), Uint8Array.from([...pickle, 1, 2, 3])));
    expect(rules(a)).toEqual(["npy.object-array", "pickle.unknown-global", "npy.trailing-data"]);
    expect(a.findings[2]!.severity).toBe("medium");
  });

  it("says when it does not understand a dtype", async () => {
    const a = await analyse(npy(dict("'<q9'", "(2,)"), 8));
    expect(rules(a)).toEqual(["npy.unknown-dtype"]);
  });
});

describe("npyFormat.analyse: malformed headers", () => {
  it.each([
    ["not a dict", "[1, 2]"],
    ["missing key", "{'descr': '<f4', 'shape': (2,)}"],
    ["extra key", "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), 'x': 1}"],
    ["bad shape", dict("'<f4'", "[2]")],
    ["negative dimension", dict("'<f4'", "(-2,)")],
    ["fortran_order not a bool", dict("'<f4'", "(2,)", "0")],
    ["descr not a descriptor", dict("3", "(2,)")],
    ["an expression", dict("__import__('os').system('x')", "(2,)")],
    ["a syntax error", "{'descr': '<f4',"],
  ])("%s is a high finding", async (_what, header) => {
    const a = await analyse(npy(header, 8));
    expect(rules(a)).toEqual(["npy.malformed-header"]);
    expect(a.findings[0]!.severity).toBe("high");
  });

  it("reports unsupported versions and a header longer than the file", async () => {
    const v4 = npy(dict("'<f4'", "(2,)"), 8);
    v4[6] = 4;
    expect(rules(await analyse(v4))).toEqual(["npy.malformed-header"]);
    const cut = npy(dict("'<f4'", "(2,)"), 0).subarray(0, 40);
    expect(rules(await analyse(cut))).toEqual(["npy.malformed-header"]);
  });

  it("still analyses a pickle behind a header it cannot read (fail safe)", async () => {
    const a = await analyse(
      npy(
        "{'descr': '|O', 'fortran_order': False, 'shape': (1,), 'evil': 1}",
        reducePickle("posix", "system", "x"),
      ),
    );
    expect(a.format).toBe("npy-object");
    expect(rules(a)).toEqual(["npy.malformed-header", "pickle.dangerous-global"]);
  });

  it("does not read headers over maxDecodedArgument", async () => {
    const a = await analyse(npy(dict("'<f4'", "(2,)"), 8), { maxDecodedArgument: 16 });
    expect(rules(a)).toEqual(["limits.exceeded"]);
    expect(a.unanalysable).toBe(true);
  });
});

describe("npyFormat.analyse: object arrays", () => {
  it("analyses the pickle after the header", async () => {
    const a = await analyse(npy(dict("'|O'", "(1,)"), reducePickle("posix", "system", "touch x")));
    expect(a.format).toBe("npy-object");
    expect(rules(a)).toEqual(["npy.object-array", "pickle.dangerous-global"]);
    const f = a.findings[1]!;
    expect(f.evidence?.global).toBe("posix.system");
    expect(f.offset).toBeGreaterThanOrEqual(64);
  });

  it("treats an object field inside a structured dtype as an object array", async () => {
    const pickle = new PickleBuilder().proto(2).op("EMPTY_LIST").op("STOP").bytes();
    const a = await analyse(npy(dict("[('a', '<f4'), ('b', '|O')]", "(1,)"), pickle));
    expect(a.format).toBe("npy-object");
    expect(rules(a)).toEqual(["npy.object-array"]);
  });

  it("reads the real fixtures: benign strings, malicious __reduce__", async () => {
    const benign = await analyse(readFileSync(join(FIXTURES, "benign/object_strings.npy")));
    expect(benign.format).toBe("npy-object");
    const evil = await analyse(readFileSync(join(FIXTURES, "malicious/object_reduce.npy")));
    expect(evil.findings.some((f) => f.severity === "critical")).toBe(true);
  });
});

describe("robustness (fast-check)", () => {
  it("never throws on mutated .npy files", async () => {
    const seeds = [
      readFileSync(join(FIXTURES, "benign/structured.npy")),
      readFileSync(join(FIXTURES, "malicious/object_reduce.npy")),
      npy(dict("'<f4'", "(2, 3)"), 24, 3),
    ];
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: seeds.length - 1 }),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), {
          minLength: 1,
          maxLength: 6,
        }),
        fc.nat(),
        async (which, mutations, cut) => {
          const bytes = Uint8Array.from(seeds[which]!);
          for (const [at, value] of mutations) bytes[6 + (at % (bytes.length - 6))] = value;
          const a = await analyse(bytes.subarray(0, Math.max(6, bytes.length - (cut % 200))));
          expect(["npy", "npy-object"]).toContain(a.format);
        },
      ),
      { numRuns: 300 },
    );
  });
});
