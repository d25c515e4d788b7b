import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { memorySource } from "../core/byte-source.js";
import { materialise, swapBytes } from "./materialise.js";

/** Reference: element by element, the C-order walk of the view. */
function reference(
  storage: Uint8Array,
  elementSize: number,
  offset: number,
  shape: number[],
  strides: number[],
): Uint8Array {
  const numel = shape.reduce((a, b) => a * b, 1);
  const out = new Uint8Array(numel * elementSize);
  for (let flat = 0; flat < numel; flat++) {
    let rest = flat;
    let element = offset;
    for (let d = shape.length - 1; d >= 0; d--) {
      element += (rest % shape[d]!) * strides[d]!;
      rest = Math.floor(rest / shape[d]!);
    }
    out.set(
      storage.subarray(element * elementSize, (element + 1) * elementSize),
      flat * elementSize,
    );
  }
  return out;
}

async function collect(gen: AsyncGenerator<Uint8Array>): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  for await (const p of gen) parts.push(p);
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

const view = fc
  .record({
    elementSize: fc.constantFrom(1, 2, 4, 8),
    shape: fc.array(fc.integer({ min: 0, max: 5 }), { maxLength: 4 }),
    offset: fc.integer({ min: 0, max: 7 }),
    strideSeed: fc.array(fc.integer({ min: 0, max: 9 }), { minLength: 4, maxLength: 4 }),
    chunk: fc.integer({ min: 1, max: 64 }),
    bigEndian: fc.boolean(),
  })
  .map((v) => {
    const strides = v.shape.map((_, i) => v.strideSeed[i]!);
    let last = v.offset;
    for (let i = 0; i < v.shape.length; i++) last += Math.max(0, v.shape[i]! - 1) * strides[i]!;
    return { ...v, strides, numel: last + 1 };
  });

describe("materialise", () => {
  it("equals the element-by-element reference for any view (strides, offsets, stride 0)", async () => {
    await fc.assert(
      fc.asyncProperty(view, fc.integer({ min: 0, max: 2 ** 31 }), async (v, seed) => {
        const storage = new Uint8Array(v.numel * v.elementSize).map(
          (_, i) => (i * 31 + seed) & 0xff,
        );
        const before = storage.slice();
        const got = await collect(
          materialise(
            {
              shape: v.shape,
              strides: v.strides,
              offset: v.offset,
              storage: {
                source: memorySource(storage),
                numel: v.numel,
                elementSize: v.elementSize,
                bigEndian: v.bigEndian,
                label: "s",
              },
            },
            v.chunk * v.elementSize,
          ),
        );
        const want = reference(storage, v.elementSize, v.offset, v.shape, v.strides);
        if (v.bigEndian) swapBytes(want, v.elementSize);
        expect(got).toEqual(want);
        expect(storage).toEqual(before); // the source is never modified
      }),
      { numRuns: 300 },
    );
  });

  it("swapBytes reverses each element", () => {
    const b = Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8);
    swapBytes(b, 4);
    expect([...b]).toEqual([4, 3, 2, 1, 8, 7, 6, 5]);
  });
});
