import { readFileSync } from "node:fs";
import { join } from "node:path";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { MarshalCode, MarshalValue } from "./marshal-value.js";
import { readMarshal } from "./read-marshal.js";
import { summariseCode } from "./summarise-code.js";
import { MARSHAL_TYPES, TYPE_BY_CODE } from "./type-codes.js";

/** Real `marshal.dumps(fn.__code__)` from CPython 3.7–3.13 (make_keras_fixtures.py). */
interface MarshalSample {
  file: string;
  python: string;
  name: string;
  filename: string;
  names: string[];
  strings: string[];
  varnames: string[];
  codeObjects: number;
}
const DIR = join(import.meta.dirname, "../../../test/fixtures/keras");
const samples: MarshalSample[] = JSON.parse(
  readFileSync(join(DIR, "manifest.json"), "utf8"),
).marshal;
const bytesOf = (file: string) => new Uint8Array(readFileSync(join(DIR, file)));

function expectedLayout(python: string): string {
  const minor = Number(python.split(".")[1]);
  return minor >= 11 ? "py311+" : minor >= 8 ? "py38-310" : "py30-37";
}

function code(bytes: Uint8Array): MarshalCode {
  const r = readMarshal(bytes);
  if (!r.ok) throw new Error(r.error.message);
  if (r.value.value.kind !== "code") throw new Error(`not code: ${r.value.value.kind}`);
  return r.value.value;
}

describe("marshal type table", () => {
  it("has unique codes and names", () => {
    expect(new Set(MARSHAL_TYPES.map((t) => t.code)).size).toBe(MARSHAL_TYPES.length);
    expect(new Set(MARSHAL_TYPES.map((t) => t.name)).size).toBe(MARSHAL_TYPES.length);
    expect(TYPE_BY_CODE.size).toBe(MARSHAL_TYPES.length);
  });
});

describe("readMarshal on real CPython output", () => {
  it("covers 3.11 and at least one older layout", () => {
    const versions = new Set(samples.map((s) => s.python.split(".").slice(0, 2).join(".")));
    expect(versions).toContain("3.11");
    expect(samples.length).toBeGreaterThanOrEqual(3);
  });

  it.each(samples.map((s) => [s.file, s] as const))("%s", (file, sample) => {
    const bytes = bytesOf(file);
    const read = readMarshal(bytes);
    expect(read.ok).toBe(true);
    if (!read.ok) return;
    expect(read.value.length).toBe(bytes.length);
    expect(read.value.layout).toBe(expectedLayout(sample.python));
    const c = read.value.value as MarshalCode;
    expect(c.kind).toBe("code");
    expect(c.name).toBe(sample.name);
    expect(c.filename).toBe(sample.filename);
    const s = summariseCode(c);
    expect(new Set(s.names)).toEqual(new Set(sample.names));
    expect(new Set(s.strings)).toEqual(new Set(sample.strings));
    expect(new Set(s.varnames)).toEqual(new Set(sample.varnames));
    expect(s.codeObjects).toBe(sample.codeObjects);
    expect(s.truncated).toBe(false);
  });

  it("lists what the os.system lambda uses", () => {
    const c = code(bytesOf("marshal/lambda_payload.py311.marshal"));
    const s = summariseCode(c);
    expect(s.name).toBe("<lambda>");
    expect(s.args).toEqual(["x"]);
    expect(s.names).toEqual(["__import__", "system"]);
    expect(s.strings).toEqual(["os", 'touch "$CANARY"']);
  });

  it("reads nested code objects, longs, complex, bytes and frozensets", () => {
    const c = code(bytesOf("marshal/nested_function.py311.marshal"));
    const s = summariseCode(c);
    expect(s.nested).toEqual(expect.arrayContaining(["scale.<locals>.<lambda>"]));
    expect(s.bytes).toEqual(["b'\\x00\\xff'"]);
    expect(s.args).toEqual(["x", "factor"]);
    const flat: MarshalValue[] = [];
    const walk = (v: MarshalValue) => {
      flat.push(v);
      if (v.kind === "tuple" || v.kind === "frozenset") v.items.forEach(walk);
    };
    c.consts.forEach(walk);
    expect(flat).toContainEqual({ kind: "int", value: 10n ** 30n });
    expect(flat).toContainEqual({ kind: "complex", real: 3, imag: 4 });
    expect(flat).toContainEqual({ kind: "ellipsis" });
    expect(flat.some((v) => v.kind === "frozenset")).toBe(true);
  });

  it("ignores bytes after the object, as marshal.loads does", () => {
    const bytes = bytesOf("marshal/lambda_benign.py311.marshal");
    const padded = new Uint8Array([...bytes, 0xff, 0x00, 0x13]);
    const r = readMarshal(padded);
    expect(r.ok && r.value.length).toBe(bytes.length);
  });

  it("forced to the wrong layout, fails with an error value", () => {
    const r = readMarshal(bytesOf("marshal/lambda_payload.py311.marshal"), { layout: "py38-310" });
    expect(r.ok).toBe(false);
  });
});

describe("readMarshal on hand-made values", () => {
  const b = (...parts: (number | string)[]) =>
    new Uint8Array(
      parts.flatMap((p) => (typeof p === "number" ? [p] : [...p].map((ch) => ch.charCodeAt(0)))),
    );
  const i32 = (n: number) => {
    const out = new Uint8Array(4);
    new DataView(out.buffer).setInt32(0, n, true);
    return [...out];
  };

  it("reads scalars, containers and references", () => {
    // [None, True, 'ab' (flagged), r0, {1: 2.5}]
    const f64 = new Uint8Array(8);
    new DataView(f64.buffer).setFloat64(0, 2.5, true);
    const bytes = b(
      "[",
      ...i32(5),
      "N",
      "T",
      0x80 | "z".charCodeAt(0),
      2,
      "ab",
      "r",
      ...i32(0),
      "{",
      "i",
      ...i32(1),
      "g",
      ...f64,
      "0",
    );
    const r = readMarshal(bytes);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.value.value).toEqual({
      kind: "list",
      items: [
        { kind: "none" },
        { kind: "bool", value: true },
        { kind: "str", value: "ab" },
        { kind: "str", value: "ab" },
        {
          kind: "dict",
          entries: [
            [
              { kind: "int", value: 1n },
              { kind: "float", value: 2.5 },
            ],
          ],
        },
      ],
    });
  });

  it("reads a negative long and a text float", () => {
    const r = readMarshal(b("(", ...i32(2), "l", ...i32(-2), 1, 0, 1, 0, "f", 4, "-1.5"));
    expect(r.ok && r.value.value).toEqual({
      kind: "tuple",
      items: [
        { kind: "int", value: -(1n + (1n << 15n)) },
        { kind: "float", value: -1.5 },
      ],
    });
  });

  it("turns bad input into error values", () => {
    const cases: [Uint8Array, string][] = [
      [b(), "truncated"],
      [b("?"), "unknown-type"],
      [b("\x01"), "unknown-type"],
      [b("r", ...i32(0)), "bad-reference"],
      [b("s", ...i32(100), "ab"), "truncated"],
      [b("(", ...i32(-1)), "bad-value"],
      [b("(", ...i32(0x7fffffff)), "truncated"],
      [b(")", 1, "0"), "null"],
      [b("l", ...i32(1), 0xff, 0xff), "bad-value"],
    ];
    for (const [bytes, code] of cases) {
      const r = readMarshal(bytes);
      expect(r.ok, code).toBe(false);
      if (!r.ok) expect(r.error.code).toBe(code);
    }
  });

  it("refuses nesting deeper than maxDepth", () => {
    const deep = b(...Array.from({ length: 50 }, () => [")", 1]).flat(), "N");
    expect(readMarshal(deep, { maxDepth: 100 }).ok).toBe(true);
    const r = readMarshal(deep, { maxDepth: 10 });
    expect(!r.ok && r.error.code).toBe("too-deep");
    const veryDeep = new Uint8Array(200_001).fill(1);
    for (let i = 0; i < 200_000; i += 2) veryDeep[i] = ")".charCodeAt(0);
    veryDeep[200_000] = "N".charCodeAt(0);
    const r2 = readMarshal(veryDeep);
    expect(!r2.ok && r2.error.code).toBe("too-deep");
  });

  it("survives a tuple that contains itself", () => {
    const r = readMarshal(b(0x80 | ")".charCodeAt(0), 1, "r", ...i32(0)));
    expect(r.ok).toBe(true);
  });
});

describe("readMarshal properties", () => {
  const real = samples.map((s) => bytesOf(s.file));

  it("never throws on random bytes", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 512 }), (bytes) => {
        readMarshal(bytes);
      }),
      { numRuns: 2000 },
    );
  });

  it("never throws on mutated real code objects, and summaries stay bounded", () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...real),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), {
          minLength: 1,
          maxLength: 8,
        }),
        fc.nat(),
        (bytes, edits, cut) => {
          const copy = bytes.slice(0, bytes.length - (cut % 8));
          for (const [at, value] of edits) copy[at % copy.length] = value;
          const r = readMarshal(copy);
          if (r.ok && r.value.value.kind === "code") {
            const s = summariseCode(r.value.value, { maxItems: 16 });
            expect(s.names.length).toBeLessThanOrEqual(16);
          }
        },
      ),
      { numRuns: 3000 },
    );
  });
});
