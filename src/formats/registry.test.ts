import { describe, expect, it } from "vitest";
import { FORMATS } from "./registry.js";

describe("format registry", () => {
  it("has unique ids and puts pickle last", () => {
    const ids = FORMATS.map((f) => f.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids.at(-1)).toBe("pickle");
  });
  it("detects nothing on an empty file", () => {
    const probe = { head: new Uint8Array(), tail: new Uint8Array(), size: 0 };
    expect(FORMATS.filter((f) => f.detect(probe)).map((f) => f.id)).toEqual([]);
  });
});
