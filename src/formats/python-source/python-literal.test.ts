import { describe, expect, it } from "vitest";
import { decodePythonLiteral } from "./python-literal.js";

describe("decodePythonLiteral", () => {
  it.each([
    [`'abc'`, "abc", false],
    [`"a\\nb"`, "a\nb", false],
    [`'''x'y'''`, "x'y", false],
    [`"""a\\\nb"""`, "ab", false],
    [`r'\\n'`, "\\n", false],
    [`b'\\x41\\101'`, "AA", true],
    [`rb"\\x41"`, "\\x41", true],
    [`u'\\u00e9\\U0001F600'`, "é😀", false],
    [`b'\\u0041'`, "\\u0041", true],
    [`'\\q'`, "\\q", false],
  ])("%s", (source, value, bytes) => {
    expect(decodePythonLiteral(source)).toEqual({ value, bytes });
  });

  it.each([`f'{x}'`, `'\\N{BULLET}'`, `'unterminated`, `'\\x4'`, `x'a'`, `''`.slice(0, 1)])(
    "refuses %s",
    (source) => {
      expect(decodePythonLiteral(source)).toBeNull();
    },
  );
});
