import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { duplicateEntries, type JsonValue, jsonUnsignedInteger, parseJson } from "./strict-json.js";
import { invalidUtf8At } from "./utf8.js";

const enc = new TextEncoder();
const parse = (s: string, o = {}) => parseJson(enc.encode(s), o);

/** The plain JavaScript value of a parsed tree, for comparison with JSON.parse. */
function plain(v: JsonValue): unknown {
  switch (v.kind) {
    case "object": {
      const out: Record<string, unknown> = {};
      for (const e of v.entries)
        Object.defineProperty(out, e.key, {
          value: plain(e.value),
          enumerable: true,
          configurable: true,
          writable: true,
        });
      return out;
    }
    case "array":
      return v.items.map(plain);
    case "number":
      return Number(v.text);
    case "string":
    case "boolean":
      return v.value;
    case "null":
      return null;
    default:
      return undefined;
  }
}

describe("parseJson", () => {
  it("keeps duplicate keys, in order, with byte offsets", () => {
    const r = parse('{"a":1, "a":2,"b":[true,null]}');
    expect(r.ok).toBe(true);
    if (!r.ok || r.value.value.kind !== "object") return;
    const obj = r.value.value;
    expect(obj.entries.map((e) => e.key)).toEqual(["a", "a", "b"]);
    expect(duplicateEntries(obj).map((e) => e.keyOffset)).toEqual([8]);
  });

  it("treats __proto__ and constructor as plain keys", () => {
    const r = parse('{"__proto__":{"polluted":1},"constructor":2}');
    expect(r.ok).toBe(true);
    if (!r.ok || r.value.value.kind !== "object") return;
    expect(r.value.value.entries.map((e) => e.key)).toEqual(["__proto__", "constructor"]);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it("keeps numbers exact (offsets above 2^53)", () => {
    const r = parse("[18446744073709551615, 1.5e3, -0]");
    expect(r.ok).toBe(true);
    if (!r.ok || r.value.value.kind !== "array") return;
    const [big, float, neg] = r.value.value.items;
    expect(jsonUnsignedInteger(big!)).toBe(18446744073709551615n);
    expect(jsonUnsignedInteger(float!)).toBeUndefined();
    expect(jsonUnsignedInteger(neg!)).toBeUndefined();
  });

  it("decodes escapes and multi-byte UTF-8", () => {
    const r = parse('"a\\u00e9\\ud83d\\ude00\\n\\"é😀"');
    expect(r.ok && r.value.value.kind === "string" && r.value.value.value).toBe('aé😀\n"é😀');
  });

  it("refuses what serde_json refuses, and accepts Python's extensions only when asked", () => {
    for (const bad of [
      '"\\ud800"',
      '"\\udc00x"',
      "NaN",
      "[1,]",
      "{'a':1}",
      '{"a" 1}',
      "01",
      '"\t"',
      "[1] x",
    ]) {
      expect(parse(bad).ok, bad).toBe(false);
    }
    expect(parse('"\\ud800"', { python: true }).ok).toBe(true);
    expect(parse("[NaN, Infinity, -Infinity]", { python: true }).ok).toBe(true);
  });

  it("reports the offset of a syntax error", () => {
    const r = parse('{"a": tru}');
    expect(!r.ok && r.error.offset).toBe(6);
  });

  it("bounds depth and values kept", () => {
    const deep = parse(`${"[".repeat(200)}${"]".repeat(200)}`);
    expect(!deep.ok && deep.error.limit).toBe(true);
    const many = parse(`[${"0,".repeat(100)}0]`, { maxNodes: 50 });
    expect(!many.ok && many.error.limit).toBe(true);
  });

  it("skips members it is told not to keep, still checking their syntax", () => {
    const r = parse('{"big":[1,2,{"x":3}],"chat_template":"t"}', {
      keepMember: (k: string) => k === "chat_template",
      maxNodes: 4,
    });
    expect(r.ok).toBe(true);
    if (!r.ok || r.value.value.kind !== "object") return;
    expect(r.value.value.entries.map((e) => e.value.kind)).toEqual(["skipped", "string"]);
    expect(parse('{"big":[1,,2],"chat_template":"t"}', { keepMember: () => false }).ok).toBe(false);
  });

  it("agrees with JSON.parse on any JSON value", () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 6 }), (value) => {
        const text = JSON.stringify(value);
        const r = parse(text);
        expect(r.ok).toBe(true);
        if (r.ok) expect(plain(r.value.value)).toEqual(JSON.parse(text));
      }),
      { numRuns: 300 },
    );
  });

  it("never throws on arbitrary bytes", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        parseJson(bytes);
        parseJson(bytes, { python: true, keepMember: () => false });
      }),
      { numRuns: 1000 },
    );
  });
});

describe("invalidUtf8At", () => {
  it("accepts valid UTF-8 and finds the first bad byte", () => {
    expect(invalidUtf8At(enc.encode("aé😀中"))).toBe(-1);
    expect(invalidUtf8At(Uint8Array.of(0x61, 0xc0, 0x80))).toBe(1);
    expect(invalidUtf8At(Uint8Array.of(0xed, 0xa0, 0x80))).toBe(0);
    expect(invalidUtf8At(Uint8Array.of(0xf4, 0x90, 0x80, 0x80))).toBe(0);
    expect(invalidUtf8At(Uint8Array.of(0x61, 0xe2, 0x82))).toBe(1);
  });

  it("agrees with a fatal TextDecoder", () => {
    const fatal = new TextDecoder("utf-8", { fatal: true });
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        let valid = true;
        try {
          fatal.decode(bytes);
        } catch {
          valid = false;
        }
        expect(invalidUtf8At(bytes) < 0).toBe(valid);
      }),
      { numRuns: 2000 },
    );
  });
});
