import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type PyValue, parsePyLiteral } from "./py-literal.js";

const parse = (text: string, long = false): PyValue => {
  const r = parsePyLiteral(text, { allowLongSuffix: long });
  if (!r.ok) throw new Error(r.error);
  return r.value;
};
const fails = (text: string): boolean => !parsePyLiteral(text).ok;

describe("parsePyLiteral", () => {
  it("reads the header np.save writes", () => {
    expect(
      parse("{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }          \n"),
    ).toEqual({
      kind: "dict",
      entries: [
        [
          { kind: "str", value: "descr" },
          { kind: "str", value: "<f4" },
        ],
        [
          { kind: "str", value: "fortran_order" },
          { kind: "bool", value: false },
        ],
        [
          { kind: "str", value: "shape" },
          {
            kind: "tuple",
            items: [
              { kind: "int", value: 3n },
              { kind: "int", value: 4n },
            ],
          },
        ],
      ],
    });
  });

  it("tells tuples from grouping parentheses", () => {
    expect(parse("(1,)")).toEqual({ kind: "tuple", items: [{ kind: "int", value: 1n }] });
    expect(parse("(1)")).toEqual({ kind: "int", value: 1n });
    expect(parse("()")).toEqual({ kind: "tuple", items: [] });
    expect(parse("1, 2")).toMatchObject({ kind: "tuple" });
  });

  it("reads strings like Python: prefixes, escapes, concatenation", () => {
    expect(parse("'a' \"b\"")).toEqual({ kind: "str", value: "ab" });
    expect(parse("'\\n\\t\\x41\\u00e9\\101\\q'")).toEqual({ kind: "str", value: "\n\tAéA\\q" });
    expect(parse("r'\\n'")).toEqual({ kind: "str", value: "\\n" });
    expect(parse("u'x'")).toEqual({ kind: "str", value: "x" });
    expect(parse("'''a\nb'''")).toEqual({ kind: "str", value: "a\nb" });
    expect(parse("b'\\xff' b'a'")).toEqual({ kind: "bytes", value: Uint8Array.of(0xff, 0x61) });
    expect(fails("'a' b'b'")).toBe(true);
    expect(fails("'unterminated")).toBe(true);
    expect(fails("f'x'")).toBe(true);
  });

  it("reads numbers and signs, not names or expressions", () => {
    expect(parse("0x1F")).toEqual({ kind: "int", value: 31n });
    expect(parse("-1_000")).toEqual({ kind: "int", value: -1000n });
    expect(parse("12345678901234567890123")).toEqual({
      kind: "int",
      value: 12345678901234567890123n,
    });
    expect(parse("1.5e3")).toEqual({ kind: "float", value: 1500 });
    expect(parse("2j")).toEqual({ kind: "complex" });
    for (const bad of [
      "01",
      "--5",
      "1__0",
      "name",
      "1 if 2 else 3",
      "{**x}",
      "[*a]",
      "(1,,)",
      "{'a' 1}",
    ]) {
      expect(fails(bad), bad).toBe(true);
    }
  });

  it("accepts comments, leading indentation and Python 2 long suffixes when asked", () => {
    expect(parse("  {'a': 1 # note\n}")).toMatchObject({ kind: "dict" });
    expect(fails("{'shape': (10L,)}")).toBe(true);
    expect(parse("{'shape': (10L,)}", true)).toMatchObject({ kind: "dict" });
  });

  it("bounds nesting", () => {
    expect(parsePyLiteral(`${"[".repeat(100)}${"]".repeat(100)}`).ok).toBe(false);
    expect(parsePyLiteral(`${"(".repeat(100000)}`).ok).toBe(false);
  });

  it("never throws on random text", () => {
    const alphabet = fc.constantFrom(
      ..."{}[](),:'\"\\ \n#-+.0123456789eExjLbru_TrueFalsNo".split(""),
    );
    fc.assert(
      fc.property(fc.array(alphabet, { maxLength: 60 }), (chars) => {
        parsePyLiteral(chars.join(""), { allowLongSuffix: true });
      }),
      { numRuns: 3000 },
    );
    fc.assert(
      fc.property(fc.string({ maxLength: 80 }), (s) => void parsePyLiteral(s)),
      { numRuns: 1000 },
    );
  });
});
