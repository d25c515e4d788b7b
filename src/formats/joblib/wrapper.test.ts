import { describe, expect, it } from "vitest";
import type { CallOpcode, SymGlobal, SymValue } from "../pickle/values.js";
import { NONE, symInt } from "../pickle/values.js";
import { detectJoblib } from "./detect-joblib.js";
import {
  applyBuildState,
  mentionsWrapperClass,
  newWrapperAttributes,
  targetClass,
  wrapperClassOf,
} from "./wrapper.js";

const g = (module: string | null, name: string | null, constant = true): SymGlobal => ({
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
const dict = (...entries: [SymValue, SymValue][]): SymValue => ({
  kind: "dict",
  entries,
  count: entries.length,
});
const call = (opcode: CallOpcode, callable: SymValue, args: SymValue = tuple()): SymValue => ({
  kind: "call",
  id: 0,
  pickle: 0,
  offset: 0,
  opcode,
  callable,
  args,
});
const WRAPPER = g("joblib.numpy_pickle", "NumpyArrayWrapper");

describe("wrapperClassOf", () => {
  it("knows joblib's wrapper classes by module, and nothing else", () => {
    expect(wrapperClassOf(WRAPPER)).toBe("NumpyArrayWrapper");
    expect(wrapperClassOf(g("sklearn.externals.joblib.numpy_pickle", "NumpyArrayWrapper"))).toBe(
      "NumpyArrayWrapper",
    );
    expect(wrapperClassOf(g("joblib.numpy_pickle_compat", "ZNDArrayWrapper"))).toBe(
      "ZNDArrayWrapper",
    );
    expect(wrapperClassOf(g("evil", "NumpyArrayWrapper"))).toBeUndefined();
    expect(wrapperClassOf(g("joblib.numpy_pickle", "NumpyArrayWrapper", false))).toBeUndefined();
  });
});

describe("targetClass", () => {
  it("recognises every way a pickle makes an instance", () => {
    expect(targetClass(call("NEWOBJ", WRAPPER))).toEqual({
      kind: "wrapper",
      wrapper: "NumpyArrayWrapper",
    });
    const reconstructor = call(
      "REDUCE",
      g("copyreg", "_reconstructor"),
      tuple(WRAPPER, g("builtins", "object"), NONE),
    );
    expect(targetClass(reconstructor)).toMatchObject({ kind: "wrapper" });
    expect(targetClass(call("REDUCE", WRAPPER, tuple(NONE)))).toMatchObject({
      kind: "wrapper",
      init: tuple(NONE),
    });
    expect(targetClass(call("INST", WRAPPER))).toEqual({
      kind: "wrapper",
      wrapper: "NumpyArrayWrapper",
    });
    expect(targetClass(call("NEWOBJ", g("collections", "OrderedDict")))).toEqual({ kind: "other" });
    expect(targetClass(call("REDUCE", g("numpy", "dtype"), tuple(str("f8"))))).toEqual({
      kind: "other",
    });
    expect(targetClass(WRAPPER)).toEqual({ kind: "other" });
    expect(targetClass(call("NEWOBJ", g(null, null, false))).kind).toBe("unknown");
    expect(targetClass(call("REDUCE", g(null, null, false))).kind).toBe("unknown");
  });
});

describe("wrapper attributes", () => {
  it("maps constructor arguments with their defaults, then applies BUILD states", () => {
    const attrs = newWrapperAttributes(
      "NumpyArrayWrapper",
      tuple(g("numpy", "ndarray"), tuple(), str("C"), NONE),
    );
    expect(attrs.values.get("numpy_array_alignment_bytes")).toEqual(symInt(16));
    applyBuildState(attrs, tuple(NONE, dict([str("order"), str("F")])));
    expect(attrs.values.get("order")).toEqual(str("F"));
    expect(attrs.unknown).toBeUndefined();
    expect(attrs.builds).toBe(1);
  });

  it("gives up on states it cannot read or that replace the wrapper's behaviour", () => {
    for (const state of [
      call("REDUCE", g("collections", "OrderedDict")),
      dict([str("read"), g("builtins", "print")]),
      tuple(NONE, dict([str("__class__"), g("builtins", "object")])),
      dict([call("REDUCE", g("builtins", "str")), NONE]),
      { kind: "dict", entries: [], count: 20 } satisfies SymValue,
    ]) {
      const attrs = newWrapperAttributes("NumpyArrayWrapper");
      applyBuildState(attrs, state);
      expect(attrs.unknown).toBeTruthy();
    }
    const bad = newWrapperAttributes("NumpyArrayWrapper", tuple(NONE));
    expect(bad.unknown).toMatch(/arguments/);
  });
});

describe("mentionsWrapperClass", () => {
  it("finds the class outside the creation of an array, not inside it", () => {
    const array = call("NEWOBJ", WRAPPER);
    expect(
      mentionsWrapperClass(call("REDUCE", g("sklearn.tree._tree", "Tree"), tuple(array))),
    ).toBe(false);
    expect(mentionsWrapperClass(dict([str("__class__"), WRAPPER]))).toBe(true);
    expect(mentionsWrapperClass(call("NEWOBJ", WRAPPER, tuple(WRAPPER)))).toBe(true);
  });
});

describe("detectJoblib", () => {
  const bytes = (s: string, first = 0x80) =>
    Uint8Array.from([first, ...new TextEncoder().encode(s)]);
  it("looks for the wrapper's name at both ends of a pickle", () => {
    const far = bytes(`${"x".repeat(100)}NumpyArrayWrapper`);
    expect(
      detectJoblib({ head: far.subarray(0, 20), tail: far.subarray(60), size: far.length }),
    ).toBe(true);
    const old = bytes("joblib.numpy_pickle\nZNDArrayWrapper\n");
    expect(detectJoblib({ head: old, tail: old, size: old.length })).toBe(true);
    const none = bytes("joblib.numpy_pickle\n");
    expect(detectJoblib({ head: none, tail: none, size: none.length })).toBe(false);
    const notPickle = bytes("NumpyArrayWrapper", 0x23);
    expect(detectJoblib({ head: notPickle, tail: notPickle, size: notPickle.length })).toBe(false);
  });
});
