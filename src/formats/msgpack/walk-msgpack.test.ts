import { readFileSync } from "node:fs";
import { join } from "node:path";
import { ExtData, encode } from "@msgpack/msgpack";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { mutatedCopies } from "../../../test/mutations.js";
import { memorySource } from "../../core/byte-source.js";
import type { Analysis, Probe } from "../types.js";
import { analyseFlaxMsgpack, detectFlaxMsgpack, walkMsgpackSource } from "./index.js";
import { runWalkSync } from "./walk-msgpack.js";

const probe = (b: Uint8Array, window = 64 * 1024 + 22): Probe => ({
  head: b.subarray(0, window),
  tail: b.subarray(Math.max(0, b.length - window)),
  size: b.length,
});
const analyse = (b: Uint8Array): Promise<Analysis> =>
  analyseFlaxMsgpack({ file: "m.msgpack", member: [], source: memorySource(b) });
const rules = (a: Analysis) => a.findings.map((f) => f.rule);

/** Flax's `_ndarray_to_bytes`: packb((shape, dtype.name, data), use_bin_type=True) in ExtType(1). */
const ndarray = (shape: number[], dtype: string, bytes: number, type = 1) =>
  new ExtData(type, encode([shape, dtype, new Uint8Array(bytes)]));
const flax = (tree: unknown) => encode(tree);

const PARAMS = {
  params: {
    Dense_0: { kernel: ndarray([3, 4], "float32", 48), bias: ndarray([4], "float32", 16) },
    step: ndarray([], "int32", 4, 3),
    phase: new ExtData(2, encode([0.5, -1.25])),
  },
};

describe("detectFlaxMsgpack", () => {
  it("detects Flax state dicts, also when only their head is seen", () => {
    expect(detectFlaxMsgpack(probe(flax(PARAMS)))).toBe(true);
    const big = flax({ params: { emb: ndarray([1024, 256], "float32", 1024 * 1024) } });
    expect(detectFlaxMsgpack(probe(big))).toBe(true);
    expect(detectFlaxMsgpack(probe(big, 40))).toBe(true);
  });

  it("refuses other maps, pickles, and committed Flax fixtures of other formats", () => {
    expect(detectFlaxMsgpack(probe(flax({ a: 1 })))).toBe(false);
    expect(detectFlaxMsgpack(probe(Uint8Array.of(0x80, 0x02, 0x7d, 0x71, 0x00, 0x2e)))).toBe(false);
    // {"a": {"b": 1}, 1: 2}: an integer key
    expect(
      detectFlaxMsgpack(probe(Uint8Array.of(0x82, 0xa1, 0x61, 0x81, 0xa1, 0x62, 1, 1, 2))),
    ).toBe(false);
    expect(detectFlaxMsgpack(probe(flax({ "\u0001": { b: 1 } })))).toBe(false);
    expect(detectFlaxMsgpack(probe(flax([PARAMS])))).toBe(false);
  });

  it("never throws and never fires on random bytes", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 2048 }), (b) => {
        expect(detectFlaxMsgpack(probe(b))).toBe(false);
      }),
      { numRuns: 2000 },
    );
    fc.assert(
      fc.property(
        fc.integer({ min: 0x81, max: 0x8f }),
        fc.uint8Array({ maxLength: 512 }),
        (m, rest) => {
          const b = Uint8Array.of(m, ...rest);
          expect(detectFlaxMsgpack(probe(b))).toBe(false);
        },
      ),
      { numRuns: 2000 },
    );
  });
});

describe("analyseFlaxMsgpack", () => {
  it("vouches for a valid state dict and counts its arrays", async () => {
    const a = await analyse(flax(PARAMS));
    expect(a.findings).toEqual([]);
    expect(a.details).toMatchObject({
      complete: true,
      arrays: 3,
      complexScalars: 1,
      tensorBytes: 68,
    });
  });

  it("reports unknown extension types once per type, medium", async () => {
    const a = await analyse(
      flax({
        ...PARAMS,
        x: new ExtData(42, new Uint8Array(3)),
        y: new ExtData(42, new Uint8Array(1)),
      }),
    );
    expect(a.findings.map((f) => [f.rule, f.severity])).toEqual([
      ["msgpack.unknown-ext", "medium"],
    ]);
    expect(a.findings[0]?.message).toContain("2 values of type 42");
  });

  it.each([
    ["shape and data disagree", { a: ndarray([5, 5], "float32", 48) }, "needs 100 bytes"],
    ["not a triple", { a: new ExtData(1, encode([[2], "int8"])) }, "triple"],
    [
      "negative dimension",
      { a: new ExtData(1, encode([[-1], "int8", new Uint8Array(1)])) },
      "non-negative",
    ],
    ["bad complex", { a: new ExtData(2, encode(["x", 1])) }, "complex"],
    ["bad timestamp", { a: { b: new ExtData(-1, new Uint8Array(5)) } }, "timestamp"],
    ["integer key", Uint8Array.of(0x82, 0xa1, 0x70, 0x81, 0xa1, 0x62, 1, 1, 2), "strict_map_key"],
  ])("reports malformed structure: %s", async (_name, tree, message) => {
    const a = await analyse(tree instanceof Uint8Array ? tree : flax(tree));
    expect(rules(a)).toContain("msgpack.malformed");
    expect(a.findings.map((f) => f.message).join("\n")).toContain(message);
  });

  it("reports an unknown dtype low", async () => {
    const a = await analyse(flax({ a: { b: ndarray([2], "str64", 16) } }));
    expect(a.findings.map((f) => [f.rule, f.severity])).toEqual([["msgpack.unknown-dtype", "low"]]);
  });

  it("reports truncation and trailing bytes", async () => {
    const bytes = flax(PARAMS);
    expect(rules(await analyse(bytes.subarray(0, bytes.length - 3)))).toEqual([
      "msgpack.malformed",
    ]);
    const trailing = Uint8Array.of(...bytes, 0x80, 0x04, 0x2e);
    const a = await analyse(trailing);
    expect(a.findings[0]?.message).toContain("3 bytes follow the msgpack value");
  });

  it("refuses hostile lengths without allocating them", async () => {
    for (const b of [
      Uint8Array.of(0xdf, 0xff, 0xff, 0xff, 0xff, 0xa1, 0x61),
      Uint8Array.of(0x81, 0xa1, 0x61, 0xdd, 0xff, 0xff, 0xff, 0xff),
      Uint8Array.of(0x81, 0xa1, 0x61, 0xdb, 0xff, 0xff, 0xff, 0xff),
      Uint8Array.of(0x81, 0xa1, 0x61, 0xc9, 0xff, 0xff, 0xff, 0xff, 0x01),
      Uint8Array.of(0x81, 0xa1, 0x61, 0xc1),
    ]) {
      const a = await analyse(b);
      expect(rules(a)).toContain("msgpack.malformed");
    }
  });

  it("bounds nesting depth and value counts", async () => {
    const depth = 5_000;
    const deep = new Uint8Array(depth * 3 + 1);
    for (let i = 0; i < depth; i++) deep.set([0x81, 0xa1, 0x61], i * 3);
    deep[depth * 3] = 0xc0;
    const a = await analyse(deep);
    expect(a.findings.map((f) => f.rule)).toContain("limits.exceeded");
    const wide = flax({ a: Array.from({ length: 1000 }, () => 0) });
    const r = await walkMsgpackSource(memorySource(wide), { maxValues: 10 });
    expect(r.issues.map((i) => i.kind)).toEqual(["limit"]);
  });

  it("skips tensor bytes instead of reading them", async () => {
    const bytes = flax({ params: { w: ndarray([4096, 1024], "float32", 4096 * 1024 * 4) } });
    let read = 0;
    const source = memorySource(bytes);
    const counting = {
      size: source.size,
      read: (offset: number, length: number) => {
        read += Math.min(length, Math.max(0, source.size - offset));
        return source.read(offset, length);
      },
    };
    const r = await walkMsgpackSource(counting);
    expect(r.status).toBe("complete");
    expect(read).toBeLessThan(256 * 1024);
  });

  it("never throws and always terminates on random input", async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 1024 }), async (b) => {
        await analyse(b);
        runWalkSync(b, b.length + 10);
      }),
      { numRuns: 1000 },
    );
  });

  it("never throws on mutated Flax files", async () => {
    const base = flax(PARAMS);
    await fc.assert(
      fc.asyncProperty(mutatedCopies(base, { minEdits: 0 }), async (b) => {
        detectFlaxMsgpack(probe(b));
        await analyse(b);
      }),
      { numRuns: 1000 },
    );
  });
});

describe("committed fixtures", () => {
  it("reads the generator's Flax bytes as Flax", () => {
    const file = join(
      import.meta.dirname,
      "../../../test/fixtures/msgpack/benign/flax_train_state.msgpack",
    );
    expect(detectFlaxMsgpack(probe(readFileSync(file)))).toBe(true);
  });
});
