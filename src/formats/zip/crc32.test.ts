import { describe, expect, it } from "vitest";
import { crc32, crc32Update } from "./crc32.js";

describe("crc32", () => {
  it("matches the standard check value", () => {
    expect(crc32(new TextEncoder().encode("123456789"))).toBe(0xcbf43926);
    expect(crc32(new Uint8Array(0))).toBe(0);
  });

  it("continues across chunks", () => {
    const bytes = new TextEncoder().encode("hello, zip world");
    expect(crc32Update(crc32(bytes.subarray(0, 5)), bytes.subarray(5))).toBe(crc32(bytes));
  });
});
