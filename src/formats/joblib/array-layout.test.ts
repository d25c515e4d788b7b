import { describe, expect, it } from "vitest";
import {
  FALSE,
  NONE,
  type SymCall,
  type SymGlobal,
  type SymValue,
  symInt,
  TRUE,
} from "../pickle/values.js";
import { resolveDtype, resolveLayout, resolveShape } from "./array-layout.js";
import { newWrapperAttributes } from "./wrapper.js";

const g = (module: string, name: string, constant = true): SymGlobal => ({
  kind: "global",
  id: 0,
  pickle: 0,
  offset: 0,
  opcode: "GLOBAL",
  module,
  name,
  constant,
});
const str = (value: string): SymValue => ({ kind: "str", value, length: value.length });
const tuple = (...items: SymValue[]): SymValue => ({ kind: "tuple", items, count: items.length });
const int = (n: number | bigint): SymValue => symInt(n);
const call = (callable: SymValue, args: SymValue): SymCall => ({
  kind: "call",
  id: 0,
  pickle: 0,
  offset: 0,
  opcode: "REDUCE",
  callable,
  args,
});
const dtype = (type: SymValue): SymCall => call(g("numpy", "dtype"), tuple(type, FALSE, TRUE));
/** `(3, '<', None, None, None, elsize, -1, flags)`, NumPy's usual dtype state. */
const state = (elsize = -1, flags = 0): SymValue =>
  tuple(int(3), str("<"), NONE, NONE, NONE, int(elsize), int(-1), int(flags));

const withState = (s?: SymValue) => () => s;

describe("resolveDtype", () => {
  it("sizes number types from their type string", () => {
    for (const [type, size] of [
      ["f4", 4n],
      ["<i8", 8n],
      ["b1", 1n],
      ["c16", 16n],
      ["M8", 8n],
      ["float32", 4n],
    ] as const) {
      const r = resolveDtype(dtype(str(type)), withState(state()));
      expect(r.ok && [r.value.itemsize, r.value.hasObject], type).toEqual([size, false]);
    }
  });

  it("takes flexible types' item size from the state (U10 is 40 bytes)", () => {
    const r = resolveDtype(dtype(str("U10")), withState(state(40)));
    expect(r.ok && r.value.itemsize).toBe(40n);
    const record = resolveDtype(dtype(g("numpy", "record")), withState(state(56)));
    expect(record.ok && record.value.itemsize).toBe(56n);
  });

  it("decides hasobject by the state's flags from version 3 on, as NumPy does", () => {
    const obj = resolveDtype(dtype(str("O8")), withState(state(-1, 63)));
    expect(obj.ok && [obj.value.hasObject, obj.value.mismatch]).toEqual([true, undefined]);
    const structured = resolveDtype(dtype(str("V16")), withState(state(16, 63)));
    expect(structured.ok && [structured.value.hasObject, structured.value.mismatch]).toEqual([
      true,
      undefined,
    ]);
    const denied = resolveDtype(dtype(str("O8")), withState(state(-1, 0)));
    expect(denied.ok && denied.value.hasObject).toBe(false);
    expect(denied.ok && denied.value.mismatch).toMatch(/object pointers/);
    const claimed = resolveDtype(dtype(str("f8")), withState(state(-1, -127)));
    expect(claimed.ok && claimed.value.hasObject).toBe(true); // -127 + 128 = 1
  });

  it("reads the older 5- and 6-item states, and the 9-item one with metadata", () => {
    const five = tuple(str("|"), NONE, NONE, int(12), int(4));
    expect(resolveDtype(dtype(str("S12")), withState(five))).toMatchObject({
      ok: true,
      value: { itemsize: 12n, hasObject: false },
    });
    const six = tuple(int(1), str("|"), NONE, NONE, int(-1), int(-1));
    expect(resolveDtype(dtype(str("O")), withState(six))).toMatchObject({
      ok: true,
      value: { itemsize: 8n, hasObject: true },
    });
    const nine = tuple(int(4), str("<"), NONE, NONE, NONE, int(-1), int(-1), int(0), NONE);
    expect(resolveDtype(dtype(str("M8")), withState(nine))).toMatchObject({ ok: true });
  });

  it("fails closed on what it cannot know, and says when NumPy would raise", () => {
    const unknown = (v: ReturnType<typeof resolveDtype>) => !v.ok && v.error.kind;
    expect(unknown(resolveDtype(call(g("os", "system"), tuple(str("f8"))), withState()))).toBe(
      "unknown",
    );
    expect(unknown(resolveDtype(dtype(g("numpy", "float64")), withState()))).toBe("unknown");
    expect(unknown(resolveDtype(dtype(str("x9")), withState()))).toBe("unknown");
    expect(unknown(resolveDtype(dtype(str("V8")), withState(state(-1))))).toBe("unknown");
    expect(unknown(resolveDtype(dtype(str("f8")), withState(tuple(int(1)))))).toBe("unknown");
    const floatFlags = tuple(int(3), str("<"), NONE, NONE, NONE, int(-1), int(-1), {
      kind: "float",
      value: 0,
    });
    expect(unknown(resolveDtype(dtype(str("f8")), withState(floatFlags)))).toBe("unknown");
    const v9 = tuple(int(9), str("<"), NONE, NONE, NONE, int(-1), int(-1), int(0));
    expect(unknown(resolveDtype(dtype(str("f8")), withState(v9)))).toBe("invalid");
    expect(unknown(resolveDtype(str("f8"), withState()))).toBe("invalid");
  });
});

describe("resolveShape", () => {
  it("accepts tuples and lists of ints and bools", () => {
    expect(resolveShape(tuple(int(2), int(3)))).toEqual({ ok: true, value: [2n, 3n] });
    expect(resolveShape(tuple())).toEqual({ ok: true, value: [] });
    expect(resolveShape({ kind: "list", items: [TRUE, int(4)], count: 2 })).toEqual({
      ok: true,
      value: [1n, 4n],
    });
  });

  it("rejects what int64 maths or reshaping would refuse", () => {
    const kind = (v: SymValue) => {
      const r = resolveShape(v);
      return r.ok ? "ok" : r.error.kind;
    };
    expect(kind(tuple(int(-1)))).toBe("invalid");
    expect(kind(tuple(int(2n ** 63n)))).toBe("invalid");
    expect(kind(tuple(int(2n ** 32n), int(2n ** 32n)))).toBe("invalid");
    expect(kind(tuple(int(0), int(2n ** 62n), int(4)))).toBe("ok");
    expect(kind(tuple(str("3")))).toBe("invalid");
    expect(kind(str("12"))).toBe("invalid");
    expect(kind(int(3))).toBe("invalid");
    expect(kind(tuple(call(g("builtins", "int"), tuple(str("3")))))).toBe("unknown");
    expect(kind(call(g("builtins", "tuple"), tuple()))).toBe("unknown");
    expect(kind({ kind: "tuple", items: [int(1)], count: 40 })).toBe("unknown");
  });
});

describe("resolveLayout", () => {
  it("pads only when numpy_array_alignment_bytes is set and not None", () => {
    const attrs = newWrapperAttributes("NumpyArrayWrapper");
    attrs.values.set("shape", tuple(int(3)));
    attrs.values.set("dtype", dtype(str("i4")));
    expect(resolveLayout(attrs, withState()).ok && resolveLayout(attrs, withState())).toMatchObject(
      {
        value: { count: 3n, padded: false },
      },
    );
    attrs.values.set("numpy_array_alignment_bytes", NONE);
    expect(resolveLayout(attrs, withState())).toMatchObject({ value: { padded: false } });
    attrs.values.set("numpy_array_alignment_bytes", int(16));
    expect(resolveLayout(attrs, withState())).toMatchObject({ value: { padded: true } });
    attrs.values.set("numpy_array_alignment_bytes", call(g("builtins", "int"), tuple()));
    expect(resolveLayout(attrs, withState())).toMatchObject({
      ok: false,
      error: { kind: "unknown" },
    });
  });

  it("says joblib fails on a wrapper without shape or dtype", () => {
    const attrs = newWrapperAttributes("NumpyArrayWrapper");
    expect(resolveLayout(attrs, withState())).toMatchObject({ error: { kind: "invalid" } });
    attrs.values.set("shape", tuple());
    expect(resolveLayout(attrs, withState())).toMatchObject({ error: { kind: "invalid" } });
  });
});
