import { describe, expect, it } from "vitest";
import { describeDescr, describeDtypeString } from "./dtype.js";
import { parsePyLiteral } from "./py-literal.js";

const descr = (text: string) => {
  const r = parsePyLiteral(text);
  if (!r.ok) throw new Error(r.error);
  return describeDescr(r.value);
};

describe("describeDtypeString", () => {
  // Expected sizes checked against numpy 1.24's np.dtype(s).itemsize.
  it.each([
    ["<f4", 4n],
    ["|b1", 1n],
    [">i8", 8n],
    ["<c16", 16n],
    ["|S10", 10n],
    ["<U7", 28n],
    ["|V12", 12n],
    ["<M8[ns]", 8n],
    ["d", 8n],
    ["?", 1n],
    ["float32", 4n],
    ["datetime64[ns]", 8n],
    ["i4,(2,3)f8", 52n],
  ])("%s has item size %s", (text, size) => {
    expect(describeDtypeString(text)).toEqual({ itemsize: size, hasObject: false });
  });

  it("recognises objects, also inside comma dtypes and unknown strings", () => {
    expect(describeDtypeString("|O")).toEqual({ itemsize: 8n, hasObject: true });
    expect(describeDtypeString("object")).toMatchObject({ hasObject: true });
    expect(describeDtypeString("i4,O")).toMatchObject({ hasObject: true });
    expect(describeDtypeString("<O9x")).toEqual({ itemsize: undefined, hasObject: true });
    expect(describeDtypeString("<q9")).toEqual({ itemsize: undefined, hasObject: false });
  });
});

describe("describeDescr", () => {
  it("adds up structured fields, padding and sub-arrays", () => {
    expect(descr("[('a', '|u1'), ('', '|V7'), ('b', '<f8')]")).toEqual({
      itemsize: 16n,
      hasObject: false,
    });
    expect(descr("[('x', '<i4', (2, 3)), ('y', [('p', '<f2'), ('q', '|S3')])]")).toEqual({
      itemsize: 29n,
      hasObject: false,
    });
    expect(descr("[(('title', 'n'), '<i8')]")).toEqual({ itemsize: 8n, hasObject: false });
    expect(descr("('<f4', (4,))")).toEqual({ itemsize: 16n, hasObject: false });
  });

  it("finds an object field anywhere", () => {
    expect(descr("[('a', '<f4'), ('b', [('c', '|O')])]")?.hasObject).toBe(true);
  });

  it("rejects what descr_to_dtype rejects", () => {
    expect(descr("[('a',)]")).toBeUndefined();
    expect(descr("[('a', '<f4', 2, 3)]")).toBeUndefined();
    expect(descr("[(1, '<f4')]")).toBeUndefined();
    expect(descr("3")).toBeUndefined();
  });
});
