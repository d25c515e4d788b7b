import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { mutatedCopies } from "../../../test/mutations.js";
import { memorySource } from "../../core/byte-source.js";
import {
  ChunkedReader,
  createWalkBudget,
  decodeVarint,
  PROTOBUF_MAX_DEPTH,
  type ProtoError,
  type ProtoField,
  readString,
  scanHead,
  WIRE_LEN,
  walkMessage,
} from "./wire-reader.js";

function varint(n: number): number[] {
  const out: number[] = [];
  let v = n;
  while (v >= 0x80) {
    out.push((v % 128) | 0x80);
    v = Math.floor(v / 128);
  }
  out.push(v);
  return out;
}
const tag = (field: number, wire: number) => varint(field * 8 + wire);
const len = (field: number, payload: number[]) => [
  ...tag(field, 2),
  ...varint(payload.length),
  ...payload,
];
const text = (s: string) => [...new TextEncoder().encode(s)];

async function fieldsOf(
  bytes: number[],
  chunk?: number,
): Promise<{ fields: ProtoField[]; error?: ProtoError }> {
  const data = new Uint8Array(bytes);
  const reader = new ChunkedReader(memorySource(data), chunk);
  const fields: ProtoField[] = [];
  const error = await walkMessage(reader, 0, data.length, 0, createWalkBudget(), (f) => {
    fields.push(f);
    return undefined;
  });
  return error ? { fields, error } : { fields };
}

/** Walks every LEN field as a nested message, as deep as the walker allows. */
async function walkAll(
  reader: ChunkedReader,
  start: number,
  end: number,
  depth: number,
): Promise<void> {
  const budget = createWalkBudget(100_000);
  const visit = async (f: ProtoField): Promise<ProtoError | undefined> => {
    if (f.wireType === WIRE_LEN) {
      await readString(reader, f, 64);
      await walkMessage(reader, f.start, f.start + f.length, depth + 1, budget, visit);
    }
    return undefined;
  };
  await walkMessage(reader, start, end, depth, budget, visit);
}

describe("decodeVarint", () => {
  it("decodes 1, 2 and 10-byte varints, refuses 11 bytes and truncation", () => {
    expect(decodeVarint(new Uint8Array([0x01]), 0)).toEqual({ value: 1, length: 1 });
    expect(decodeVarint(new Uint8Array([0xac, 0x02]), 0)).toEqual({ value: 300, length: 2 });
    const max = new Uint8Array([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]);
    expect(decodeVarint(max, 0)?.length).toBe(10);
    expect(decodeVarint(new Uint8Array(11).fill(0x80), 0)).toBeUndefined();
    expect(decodeVarint(new Uint8Array([0x80]), 0)).toBeUndefined();
  });
});

describe("walkMessage", () => {
  it("visits varint, fixed and length-delimited fields in order, skipping groups", async () => {
    const bytes = [
      ...tag(1, 0),
      ...varint(150),
      ...len(2, text("hi")),
      ...tag(3, 5),
      1,
      2,
      3,
      4,
      ...tag(4, 1),
      1,
      2,
      3,
      4,
      5,
      6,
      7,
      8,
      ...tag(5, 3),
      ...tag(1, 0),
      7,
      ...tag(5, 4), // a group holding one varint
      ...len(6, []),
    ];
    const { fields, error } = await fieldsOf(bytes);
    expect(error).toBeUndefined();
    expect(fields.map((f) => [f.number, f.wireType, f.value, f.length])).toEqual([
      [1, 0, 150, 0],
      [2, 2, 0, 2],
      [3, 5, 0, 4],
      [4, 1, 0, 8],
      [6, 2, 0, 0],
    ]);
  });

  it("reads through chunk boundaries", async () => {
    const bytes = [
      ...len(1, text("x".repeat(40))),
      ...len(2, text("y".repeat(40))),
      ...tag(3, 0),
      5,
    ];
    const { fields } = await fieldsOf(bytes, 16);
    expect(fields.map((f) => f.number)).toEqual([1, 2, 3]);
  });

  it.each([
    ["a zero field number", [0x00, 0x01]],
    ["wire type 6", [...tag(1, 6)]],
    ["wire type 7", [...tag(1, 7)]],
    ["a truncated varint", [...tag(1, 0), 0x80]],
    ["a length past the end", [...tag(1, 2), 10, 1, 2]],
    ["a fixed field past the end", [...tag(1, 1), 1, 2]],
    ["an unmatched END_GROUP", [...tag(1, 4)]],
    ["an unterminated group", [...tag(1, 3), ...tag(2, 0), 1]],
    ["a length over 2 GiB", [...tag(1, 2), ...varint(2 ** 31)]],
  ])("fails on %s", async (_what, bytes) => {
    const { error } = await fieldsOf(bytes);
    expect(error).toBeDefined();
    expect(error?.limit).toBeUndefined();
  });

  it("stops at the nesting limit", async () => {
    let bytes: number[] = [...tag(1, 0), 1];
    for (let i = 0; i < PROTOBUF_MAX_DEPTH + 5; i++) bytes = len(1, bytes);
    const data = new Uint8Array(bytes);
    const reader = new ChunkedReader(memorySource(data));
    const visit = async (f: ProtoField, depth: number): Promise<ProtoError | undefined> =>
      f.wireType === WIRE_LEN
        ? walkMessage(reader, f.start, f.start + f.length, depth + 1, createWalkBudget(), (g) =>
            visit(g, depth + 1),
          )
        : undefined;
    const deepest = await walkMessage(reader, 0, data.length, 0, createWalkBudget(), (f) =>
      visit(f, 0),
    );
    expect(deepest?.limit).toBe(true);
  });

  it("stops when the field budget is spent", async () => {
    const bytes = Array.from({ length: 100 }, () => [...tag(1, 0), 1]).flat();
    const data = new Uint8Array(bytes);
    const error = await walkMessage(
      new ChunkedReader(memorySource(data)),
      0,
      data.length,
      0,
      createWalkBudget(10),
      () => undefined,
    );
    expect(error?.limit).toBe(true);
  });

  it("never throws and terminates on random bytes, walked as deep as it goes", async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 512 }), async (bytes) => {
        const reader = new ChunkedReader(memorySource(bytes), 32);
        await walkAll(reader, 0, bytes.length, 0);
      }),
      { numRuns: 500 },
    );
  });

  it("never throws on mutated well-formed messages", async () => {
    const base = [
      ...tag(1, 0),
      8,
      ...len(7, [...len(1, [...len(4, text("Add")), ...len(7, text(""))])]),
      ...len(8, [...tag(2, 0), 13]),
    ];
    await fc.assert(
      fc.asyncProperty(
        mutatedCopies(new Uint8Array(base), { minEdits: 0, maxEdits: 6 }),
        async (bytes) => {
          await walkAll(new ChunkedReader(memorySource(bytes), 8), 0, bytes.length, 0);
        },
      ),
      { numRuns: 500 },
    );
  });
});

describe("scanHead", () => {
  it("lists fields, flags a LEN field running past the end, refuses bad headers", () => {
    const bytes = new Uint8Array([...tag(1, 0), 8, ...tag(7, 2), 100, 1, 2]);
    const out = scanHead(bytes, bytes.length);
    expect(out?.truncated).toBe(true);
    expect(out?.fields.map((f) => f.number)).toEqual([1, 7]);
    expect(scanHead(new Uint8Array([0x00]), 1)).toBeUndefined();
  });

  it("never throws on random bytes", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 256 }), fc.nat(1000), (bytes, extra) => {
        scanHead(bytes, bytes.length + extra);
      }),
    );
  });
});
