import { describe, expect, it } from "vitest";
import { blobSource } from "./blob-source.js";

describe("blobSource", () => {
  const bytes = Uint8Array.from({ length: 300 }, (_, i) => i % 251);
  const source = blobSource(new Blob([bytes]));

  it("has the blob's size", () => {
    expect(source.size).toBe(300);
  });

  it("reads the slice asked for", async () => {
    expect(Array.from(await source.read(10, 5))).toEqual([10, 11, 12, 13, 14]);
  });

  it("returns fewer bytes only at the end, and none past it", async () => {
    expect((await source.read(295, 100)).length).toBe(5);
    expect((await source.read(400, 10)).length).toBe(0);
  });

  it("reads only the slice, not the whole blob", async () => {
    const sliced: [number, number][] = [];
    const spy = {
      size: 1 << 30,
      slice(start = 0, end = 0) {
        sliced.push([start, end]);
        return { arrayBuffer: async () => new ArrayBuffer(end - start) };
      },
    };
    await blobSource(spy).read(1000, 8);
    expect(sliced).toEqual([[1000, 1008]]);
  });
});
