import { createHash } from "node:crypto";
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { terminal } from "../../test/cli-terminal.js";
import { main } from "./main.js";

const FIXTURES = join(import.meta.dirname, "../../test/fixtures");
const ROOT = join(FIXTURES, "convert");
const EXPECTED = JSON.parse(readFileSync(join(ROOT, "expected.json"), "utf8")).fixtures as Record<
  string,
  { tensors?: Record<string, { dtype: string; shape: number[]; sha256: string }>; refuse?: string }
>;

/** Reads a safetensors file as the spec defines it, independently of the writer. */
function readSafetensors(path: string) {
  const bytes = readFileSync(path);
  const n = Number(bytes.readBigUInt64LE(0));
  expect(n % 8).toBe(0);
  const header = JSON.parse(bytes.subarray(8, 8 + n).toString("utf8"));
  const metadata = header.__metadata__ as Record<string, string>;
  delete header.__metadata__;
  const tensors: Record<string, { dtype: string; shape: number[]; sha256: string }> = {};
  let expectedBegin = 0;
  const names = Object.keys(header).sort(
    (a, b) => header[a].data_offsets[0] - header[b].data_offsets[0],
  );
  for (const name of names) {
    const {
      dtype,
      shape,
      data_offsets: [begin, end],
    } = header[name];
    expect(begin).toBe(expectedBegin); // contiguous, no gaps, no aliasing
    expectedBegin = end;
    const data = bytes.subarray(8 + n + begin, 8 + n + end);
    tensors[name] = { dtype, shape, sha256: createHash("sha256").update(data).digest("hex") };
  }
  expect(8 + n + expectedBegin).toBe(bytes.length);
  return { tensors, metadata };
}

const tmp = () => mkdtempSync(join(tmpdir(), "modelvet-convert-"));

describe("modelvet convert", () => {
  const convertible = Object.entries(EXPECTED).filter(([, e]) => e.refuse === undefined);
  it.each(convertible)("%s: the written file matches torch's tensors", async (file, expected) => {
    const out = join(tmp(), "out.safetensors");
    const t = terminal();
    expect(await main(["convert", join(ROOT, file), "-o", out], t.term)).toBe(0);
    expect(t.out()).toContain("verified");
    const read = readSafetensors(out);
    expect(read.tensors).toEqual(expected.tensors);
    expect(read.metadata.format).toBe("pt");
    const source = readFileSync(join(ROOT, file));
    expect(read.metadata.source_sha256).toBe(createHash("sha256").update(source).digest("hex"));
  });

  it.each([
    "torch/malicious/state_dict_payload.pt",
    "torch/malicious/legacy_payload_in_sys_info.pt",
  ])("refuses the proven malicious %s and writes nothing", async (file) => {
    const dir = tmp();
    const out = join(dir, "out.safetensors");
    const t = terminal();
    expect(
      await main(["convert", join(FIXTURES, file), "-o", out, "--drop-non-tensors"], t.term),
    ).toBe(1);
    expect(t.err()).toContain("malicious");
    expect(readdirSync(dir)).toEqual([]);
  });

  it("refuses a pickled module with the global's name, exit 1, nothing written", async () => {
    const dir = tmp();
    const t = terminal();
    const code = await main(
      ["convert", join(ROOT, "module.pt"), "-o", join(dir, "m.safetensors")],
      t.term,
    );
    expect(code).toBe(1);
    expect(t.err()).toContain("torch.nn.modules.container.Sequential");
    expect(t.err()).toMatch(/at offset \d+/);
    expect(readdirSync(dir)).toEqual([]);
  });

  it("--drop-non-tensors converts the tensors and lists the rest", async () => {
    const out = join(tmp(), "x.safetensors");
    const t = terminal();
    expect(
      await main(
        ["convert", join(ROOT, "with_extras.pt"), "-o", out, "--drop-non-tensors"],
        t.term,
      ),
    ).toBe(0);
    expect(t.out()).toContain("dropped epoch");
    expect(Object.keys(readSafetensors(out).tensors).sort()).toEqual([
      "state_dict.b",
      "state_dict.w",
    ]);
  });

  it("refuses to overwrite without --force (exit 2), overwrites with it", async () => {
    const out = join(tmp(), "x.safetensors");
    expect(await main(["convert", join(ROOT, "dtypes.pt"), "-o", out], terminal().term)).toBe(0);
    const t = terminal();
    expect(await main(["convert", join(ROOT, "dtypes.pt"), "-o", out], t.term)).toBe(2);
    expect(t.err()).toContain("--force");
    expect(
      await main(["convert", join(ROOT, "dtypes.pt"), "-o", out, "--force"], terminal().term),
    ).toBe(0);
  });

  it("a missing input is a usage error", async () => {
    expect(await main(["convert", join(ROOT, "nope.pt")], terminal().term)).toBe(2);
  });

  it("converts a sharded Hugging Face folder and rewrites the index", async () => {
    const dir = tmp();
    cpSync(join(ROOT, "hf-sharded"), dir, { recursive: true });
    expect(await main(["convert", dir], terminal().term)).toBe(0);
    const index = JSON.parse(readFileSync(join(dir, "model.safetensors.index.json"), "utf8"));
    const source = JSON.parse(readFileSync(join(dir, "pytorch_model.bin.index.json"), "utf8"));
    const expectedMap = Object.fromEntries(
      Object.entries(source.weight_map as Record<string, string>).map(([k, v]) => [
        k,
        v.replace("pytorch_model", "model").replace(".bin", ".safetensors"),
      ]),
    );
    expect(index.weight_map).toEqual(expectedMap);
    let total = 0;
    for (const shard of new Set(Object.values(expectedMap))) {
      const bin = shard.replace("model", "pytorch_model").replace(".safetensors", ".bin");
      const read = readSafetensors(join(dir, shard));
      expect(read.tensors).toEqual(EXPECTED[`hf-sharded/${bin}`]!.tensors);
      total += Object.values(read.tensors).reduce(
        (n, t) => n + t.shape.reduce((a, b) => a * b, 1) * (t.dtype === "F32" ? 4 : 0),
        0,
      );
    }
    expect(index.metadata.total_size).toBe(total);
    expect(index.metadata.total_size).toBe(source.metadata.total_size);
  });

  it("converts a single-file Hugging Face folder to model.safetensors", async () => {
    const dir = tmp();
    cpSync(join(ROOT, "hf"), dir, { recursive: true });
    expect(await main(["convert", dir], terminal().term)).toBe(0);
    expect(readSafetensors(join(dir, "model.safetensors")).tensors).toEqual(
      EXPECTED["hf/pytorch_model.bin"]!.tensors,
    );
    expect(existsSync(join(dir, "model.safetensors.index.json"))).toBe(false);
  });
});
