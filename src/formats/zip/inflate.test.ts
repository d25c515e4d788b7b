import { describe, expect, it } from "vitest";
import { deflateRaw } from "../../../test/fixtures/zip/make-zip.js";
import { memorySource } from "../../core/byte-source.js";
import { inflateRaw } from "./inflate.js";

describe("inflateRaw", () => {
  it("inflates a whole stream", async () => {
    const data = new TextEncoder().encode("abc".repeat(10_000));
    const packed = await deflateRaw(data);
    const out = await inflateRaw(memorySource(packed), 0, packed.length, { maxOutput: 1 << 20 });
    expect(out.stop).toBe("end");
    expect(out.bytes).toEqual(data);
    expect(out.consumed).toBe(packed.length);
  });

  it("inflates from an offset inside a larger source", async () => {
    const packed = await deflateRaw(new TextEncoder().encode("hello"));
    const padded = new Uint8Array(packed.length + 10);
    padded.set(packed, 5);
    const out = await inflateRaw(memorySource(padded), 5, packed.length, { maxOutput: 100 });
    expect(new TextDecoder().decode(out.bytes)).toBe("hello");
  });

  it("stops at maxOutput", async () => {
    const packed = await deflateRaw(new Uint8Array(1_000_000));
    const out = await inflateRaw(memorySource(packed), 0, packed.length, { maxOutput: 4096 });
    expect(out.stop).toBe("limit");
    expect(out.bytes).toHaveLength(4096);
  });

  it("treats output of exactly maxOutput as complete", async () => {
    const packed = await deflateRaw(new Uint8Array(4096));
    const out = await inflateRaw(memorySource(packed), 0, packed.length, { maxOutput: 4096 });
    expect(out.stop).toBe("end");
  });

  it("stops when the expansion ratio is impossible", async () => {
    const packed = await deflateRaw(new Uint8Array(2_000_000));
    const out = await inflateRaw(memorySource(packed), 0, packed.length, {
      maxOutput: 1 << 30,
      maxRatio: 10,
      ratioGuardMinOutput: 1000,
    });
    expect(out.stop).toBe("ratio");
    expect(out.bytes.length).toBeLessThan(2_000_000);
  });

  it("keeps what decoded before corrupt data", async () => {
    const packed = await deflateRaw(new TextEncoder().encode("x".repeat(100_000)));
    const out = await inflateRaw(memorySource(packed), 0, Math.floor(packed.length / 2), {
      maxOutput: 1 << 20,
    });
    expect(out.stop).toBe("error");
    expect(out.error).toBeTruthy();
  });

  it("reports garbage as an error, never throws", async () => {
    const out = await inflateRaw(memorySource(Uint8Array.of(0xff, 0xff, 0xff)), 0, 3, {
      maxOutput: 100,
    });
    expect(out.stop).toBe("error");
    const empty = await inflateRaw(memorySource(new Uint8Array(0)), 0, 0, { maxOutput: 100 });
    expect(empty.bytes).toHaveLength(0);
  });
});
