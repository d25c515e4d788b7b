import { describe, expect, it } from "vitest";
import {
  decodeEscapedBytes,
  decodeLongBytes,
  decodeRawUnicodeEscape,
  decodeUtf8SurrogatePass,
  parseFloatLine,
  parseIntLine,
  parseLongLine,
  parsePythonInt,
} from "./decode-text.js";

const latin1 = (s: string): Uint8Array => Uint8Array.from(s, (c) => c.charCodeAt(0));

describe("decode-text", () => {
  it("parses INT lines like _pickle.c (strtol, then int(…, 0))", () => {
    expect(parseIntLine("00")).toBe(false);
    expect(parseIntLine("01")).toBe(true);
    expect(parseIntLine("1")).toBe(1);
    expect(parseIntLine("-42")).toBe(-42);
    expect(parseIntLine("010")).toBe(8); // strtol octal
    expect(parseIntLine("0x1f")).toBe(31);
    expect(parseIntLine("1_000")).toBe(1000); // Python int() fallback
    expect(parseIntLine("99999999999999999999")).toBe(99999999999999999999n);
    expect(parseIntLine("abc")).toBeUndefined();
    expect(parseIntLine("08")).toBeUndefined();
  });

  it("parses LONG, GET/PUT and FLOAT lines", () => {
    expect(parseLongLine("123L")).toBe(123);
    expect(parseLongLine("-5")).toBe(-5);
    expect(parseLongLine("L")).toBeUndefined();
    expect(parsePythonInt(" 007 ", 10)).toBe(7);
    expect(parsePythonInt("0x10", 10)).toBeUndefined();
    expect(parsePythonInt("1__0", 0)).toBeUndefined();
    expect(parseFloatLine("2.5")).toBe(2.5);
    expect(parseFloatLine("-1e3")).toBe(-1000);
    expect(parseFloatLine("inf")).toBe(Number.POSITIVE_INFINITY);
    expect(parseFloatLine("nan")).toBeNaN();
    expect(parseFloatLine("1_0.5")).toBe(10.5);
    expect(parseFloatLine("1.2.3")).toBeUndefined();
    expect(parseFloatLine("_1")).toBeUndefined();
  });

  it("decodes STRING escapes like PyBytes_DecodeEscape", () => {
    const d = (s: string) => {
      const r = decodeEscapedBytes(latin1(s));
      return r && [...r];
    };
    expect(d("a\\nb")).toEqual([0x61, 0x0a, 0x62]);
    expect(d("\\x41\\101\\0")).toEqual([0x41, 0x41, 0]);
    expect(d("\\q")).toEqual([0x5c, 0x71]);
    expect(d("\\'\\\"\\\\")).toEqual([0x27, 0x22, 0x5c]);
    expect(d("\\x4")).toBeUndefined();
    expect(d("trailing\\")).toBeUndefined();
  });

  it("decodes raw-unicode-escape with the odd-backslash rule", () => {
    const d = (s: string) => decodeRawUnicodeEscape(latin1(s));
    expect(d("sys\\u0074em")).toBe("system");
    expect(d("\\U0001F600")).toBe("😀");
    expect(d("\\\\u0041")).toBe("\\\\u0041");
    expect(d("\\\\\\u0041")).toBe("\\\\A");
    expect(d("caf\xe9")).toBe("café");
    expect(d("\\u12")).toBeUndefined();
    expect(d("\\U00110000")).toBeUndefined();
  });

  it("decodes UTF-8 with surrogatepass", () => {
    expect(decodeUtf8SurrogatePass(Uint8Array.of(0xc3, 0xa9))).toBe("é");
    expect(decodeUtf8SurrogatePass(Uint8Array.of(0x61, 0xed, 0xa0, 0x80))).toBe("a\ud800");
    expect(decodeUtf8SurrogatePass(Uint8Array.of(0xc3, 0x28))).toBeUndefined();
    expect(decodeUtf8SurrogatePass(Uint8Array.of(0xf0, 0x9f, 0x98, 0x80))).toBe("😀");
  });

  it("decodes LONG1/LONG4 two's complement", () => {
    expect(decodeLongBytes(new Uint8Array(0))).toBe(0);
    expect(decodeLongBytes(Uint8Array.of(0xff))).toBe(-1);
    expect(decodeLongBytes(Uint8Array.of(0xff, 0x00))).toBe(255);
    expect(decodeLongBytes(Uint8Array.of(0, 0, 0, 0, 0, 0, 0, 0x80))).toBe(-(2n ** 63n));
    expect(decodeLongBytes(Uint8Array.of(1, 0, 0, 0, 0, 0, 0, 0))).toBe(1);
  });
});
