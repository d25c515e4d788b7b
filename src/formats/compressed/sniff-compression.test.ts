import { readFileSync } from "node:fs";
import { join } from "node:path";
import { deflateSync, gzipSync } from "node:zlib";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { PickleBuilder } from "../pickle/pickle-builder.js";
import { sniffCompression } from "./sniff-compression.js";

const FIXTURES = join(import.meta.dirname, "../../../test/fixtures/tar");
const fixture = (name: string): Uint8Array => readFileSync(join(FIXTURES, name));
const enc = new TextEncoder();

describe("sniffCompression", () => {
  it("recognises each format made by its real tool", () => {
    expect(sniffCompression(gzipSync(Buffer.from("hi")))).toEqual({ kind: "gzip", dataOffset: 0 });
    expect(sniffCompression(fixture("benign/checkpoint.tar.bz2"))?.kind).toBe("bzip2");
    expect(sniffCompression(fixture("benign/checkpoint.tar.xz"))?.kind).toBe("xz");
    expect(sniffCompression(fixture("malicious/joblib_lzma.joblib"))?.kind).toBe("lzma");
    expect(sniffCompression(fixture("malicious/joblib_zlib.joblib"))?.kind).toBe("zlib");
    expect(sniffCompression(fixture("malicious/joblib_zfile.pkl"))).toEqual({
      kind: "joblib-zfile",
      dataOffset: 21,
    });
    for (const level of [1, 3, 6, 9]) {
      expect(sniffCompression(deflateSync(Buffer.from("data data data"), { level }))?.kind).toBe(
        "zlib",
      );
    }
  });

  it("does not fire on pickles, text or other formats", () => {
    const negatives = [
      new PickleBuilder().proto(2).op("EMPTY_LIST").op("STOP").bytes(),
      // a protocol-1 list pickle starts with 0x5D, like lzma-alone's usual properties byte
      Uint8Array.of(0x5d, 0x71, 0x00, 0x28, 0x4b, 0x01, 0x4b, 0x02, 0x65, 0x2e, 0, 0, 0, 0, 0),
      enc.encode("x^2 + y^2 = z^2, a text file that starts with x^"),
      enc.encode("BZh9 is not a bzip2 stream without its block magic"),
      enc.encode("ZF0x12 but no zlib after the header......"),
      Uint8Array.of(0x1f, 0x8b, 0x07, 0, 0, 0, 0, 0, 0, 0),
      Uint8Array.of(0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00, 0x00, 0x01, 0, 0, 0, 0),
      Uint8Array.of(0x78, 0x9c, 0x07),
      Uint8Array.of(0x50, 0x4b, 0x03, 0x04),
      new Uint8Array(64),
    ];
    for (const bytes of negatives) expect(sniffCompression(bytes)).toBeUndefined();
  });

  it("rarely fires on random bytes and never throws", () => {
    let hits = 0;
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 0, maxLength: 64 }), (bytes) => {
        if (sniffCompression(bytes) !== undefined) hits++;
      }),
      { numRuns: 2000 },
    );
    expect(hits).toBeLessThan(5);
  });
});
