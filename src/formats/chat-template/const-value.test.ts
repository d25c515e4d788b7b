import { describe, expect, it } from "vitest";
import {
  applyFilter,
  binary,
  ConstDict,
  callStringMethod,
  combine,
  formatFieldNames,
  index,
  known,
  MAX_VARIANTS,
  printf,
  pyStr,
  slice,
  strFormat,
  union,
} from "./const-value.js";

describe("Python semantics of constant operations", () => {
  it("slices like Python", () => {
    const s = "abcdef";
    const cases: [number | null, number | null, number | null, string][] = [
      [null, null, -1, "fedcba"],
      [null, null, -2, "fdb"],
      [1, -1, null, "bcde"],
      [-2, null, null, "ef"],
      [5, 1, -1, "fedc"],
      [-100, 100, 2, "ace"],
      [4, 1, null, ""],
    ];
    for (const [a, b, c, out] of cases) expect(slice(s, a, b, c), `${a}:${b}:${c}`).toBe(out);
    expect(slice(s, null, null, 0)).toBeUndefined();
    expect(slice(["a", "b", "c"], null, null, -1)).toEqual(["c", "b", "a"]);
  });

  it("indexes strings, lists and dicts", () => {
    expect(index("abc", -1)).toBe("c");
    expect(index(["x", "y"], 5)).toBeUndefined();
    expect(index(new ConstDict(new Map([["k", "v"]])), "k")).toBe("v");
  });

  it("formats with % and str.format", () => {
    expect(printf("%c%c%s", [95, 95, "x"])).toBe("__x");
    expect(printf("%s", "one")).toBe("one");
    expect(printf("%s", ["a", "b"])).toBeUndefined();
    expect(printf("%(a)s!", new ConstDict(new Map([["a", "b"]])))).toBe("b!");
    expect(printf("100%%", [])).toBe("100%");
    expect(strFormat("{}{}{{x}}", ["a", 1], new Map())).toBe("a1{x}");
    expect(strFormat("{0}{n!r}", ["a"], new Map([["n", "b"]]))).toBe("a'b'");
    expect(strFormat("{0.__class__}", ["a"], new Map())).toBeUndefined();
    expect(formatFieldNames("{0.__class__.__mro__[1]} {{no.attr}} {x[y]}")).toEqual([
      "__class__",
      "__mro__",
      "1",
      "y",
    ]);
  });

  it("applies Jinja filters and str methods", () => {
    expect(applyFilter("join", ["_", "_", 1], [], new Map())).toBe("__1");
    expect(applyFilter("join", "abc", ["-"], new Map())).toBe("a-b-c");
    expect(applyFilter("reverse", "ssalc", [], new Map())).toBe("class");
    expect(applyFilter("replace", "a-b-c", ["-", "", 1], new Map())).toBe("ab-c");
    expect(applyFilter("format", "%s%s", ["a", "b"], new Map())).toBe("ab");
    expect(applyFilter("title", "hello world", [], new Map())).toBe("Hello World");
    expect(applyFilter("unknown", "x", [], new Map())).toBeUndefined();
    expect(callStringMethod("-", "join", [["a", "b"]], new Map())).toBe("a-b");
    expect(callStringMethod("-", "join", [["a", 1]], new Map())).toBeUndefined();
    expect(callStringMethod("  x  ", "strip", [], new Map())).toBe("x");
    expect(callStringMethod("a b  c", "split", [], new Map())).toEqual(["a", "b", "c"]);
    expect(callStringMethod("a,b,c", "split", [",", 1], new Map())).toEqual(["a", "b,c"]);
  });

  it("converts like str() and concatenates like ~", () => {
    expect(pyStr(true)).toBe("True");
    expect(pyStr(null)).toBe("None");
    expect(pyStr(["a", 1])).toBe("['a', 1]");
    expect(binary("~", "a", 1)).toBe("a1");
    expect(binary("+", "a", 1)).toBeUndefined();
    expect(binary("*", "ab", 3)).toBe("ababab");
    expect(binary("*", "ab", 1e9)).toBeUndefined();
  });

  it("bounds the number of variants", () => {
    let v = known("a");
    for (let i = 0; i < 10; i++) v = union(v, known(`x${i}`));
    const product = combine([v, v], ([a, b]) => `${a}${b}`, true);
    expect(product.values.length).toBeLessThanOrEqual(MAX_VARIANTS);
    expect(product.exact).toBe(false);
    expect(product.built).toBe(true);
  });
});
