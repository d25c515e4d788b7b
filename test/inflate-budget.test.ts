import { describe, expect, it } from "vitest";
import { memorySource } from "../src/core/byte-source.js";
import { scanFile } from "../src/scan/scan.js";
import { makeZip } from "./fixtures/zip/make-zip.js";

async function gzip(data: Uint8Array): Promise<Uint8Array> {
  const stream = new Blob([new Uint8Array(data)])
    .stream()
    .pipeThrough(new CompressionStream("gzip"));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

describe("decompression budget", () => {
  it("is shared by nested archives: a gzip inside a zip draws on the zip's allowance", async () => {
    const text = new Uint8Array(6000).fill(0x20); // spaces: not a model, compresses well
    const inner = await gzip(text);
    const zip = await makeZip([
      { name: "a.txt", data: text, method: 8 },
      { name: "b.gz", data: inner, method: 8 },
    ]);
    const scanWith = (maxTotalInflatedBytes: number) =>
      scanFile(
        { path: "nested.zip", open: async () => ({ source: memorySource(zip) }) },
        { limits: { maxTotalInflatedBytes } },
      );
    const roomy = await scanWith(1_000_000);
    expect(roomy.findings.filter((f) => f.rule === "limits.exceeded")).toEqual([]);
    // 6000 (a.txt) + inner.length (b.gz) + 6000 (inside b.gz) > 12000: only the innermost stream is cut.
    const tight = await scanWith(12_000);
    const cut = tight.findings.filter((f) => f.rule === "limits.exceeded");
    expect(cut.length).toBeGreaterThan(0);
    expect(cut.every((f) => f.location.member?.[0] === "b.gz")).toBe(true);
  });
});
