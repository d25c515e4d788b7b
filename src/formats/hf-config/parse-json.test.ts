import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { isJsonObject, type JsonValue, parseJson } from "./parse-json.js";

/** Canonical text of a parsed value: keys sorted, so Map and object order do not matter. */
function canonical(value: unknown): string {
  if (value instanceof Map) {
    return `{${[...value.entries()]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`)
      .join(",")}}`;
  }
  if (Array.isArray(value)) return `[${value.map(canonical).join(",")}]`;
  if (value !== null && typeof value === "object") {
    return canonical(new Map(Object.entries(value)));
  }
  return JSON.stringify(value);
}

const parsed = (text: string): JsonValue => {
  const r = parseJson(text);
  if (!r.ok) throw new Error(r.error.message);
  return r.value;
};

describe("parseJson", () => {
  it("agrees with JSON.parse on valid JSON", () => {
    fc.assert(
      fc.property(fc.json(), (text) => {
        expect(canonical(parsed(text))).toBe(canonical(JSON.parse(text)));
      }),
      { numRuns: 500 },
    );
  });

  it("never throws on arbitrary text", () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 300 }), (text) => {
        parseJson(text);
      }),
      { numRuns: 500 },
    );
  });

  it("reads Python's NaN and Infinity, keeps the last duplicate key", () => {
    const v = parsed('{"a": NaN, "b": -Infinity, "c": [Infinity], "a": 2}');
    expect(isJsonObject(v) && v.get("a")).toBe(2);
    expect(isJsonObject(v) && v.get("b")).toBe(Number.NEGATIVE_INFINITY);
  });

  it("keeps __proto__ and constructor as plain data", () => {
    const v = parsed('{"__proto__": {"polluted": true}, "constructor": {"prototype": 1}}');
    expect(isJsonObject(v) && isJsonObject(v.get("__proto__"))).toBe(true);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it.each([
    ['{"a": 1} x', "Extra data"],
    ['{"a": "b\nc"}', "control character"],
    ['{"a": 1,}', "property name"],
    ["[1 2]", "Expected ','"],
    ['"\\x"', "escape"],
    ["", "Expecting value"],
  ])("refuses %j", (text, message) => {
    const r = parseJson(text);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error.message).toContain(message);
  });

  it("bounds nesting without recursion", () => {
    const deep = `${"[".repeat(100_000)}${"]".repeat(100_000)}`;
    const r = parseJson(deep);
    expect(r.ok).toBe(false);
    expect(parseJson(deep, { maxDepth: 200_000 }).ok).toBe(true);
  });
});
