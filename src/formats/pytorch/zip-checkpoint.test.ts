import { describe, expect, it } from "vitest";
import { makeZip, type ZipEntrySpec } from "../../../test/fixtures/zip/make-zip.js";
import { memorySource } from "../../core/byte-source.js";
import { DEFAULT_LIMITS } from "../../core/limits.js";
import { BUILTIN_POLICY } from "../../policy/index.js";
import { PickleBuilder } from "../pickle/pickle-builder.js";
import type { ScanContext } from "../types.js";
import { zipFormat } from "../zip/index.js";
import { scanTorchScriptSource } from "./torchscript-code.js";

const ctx: ScanContext = { limits: DEFAULT_LIMITS, policy: BUILTIN_POLICY, depth: 0 };

/** data.pkl whose object is a tuple of storage persistent ids `('storage', torch.FloatStorage, key, 'cpu', numel)`. */
function dataPkl(storages: [key: string, numel: number][]): Uint8Array {
  const b = new PickleBuilder().proto(2).op("MARK");
  for (const [key, numel] of storages) {
    b.op("MARK").binunicode("storage").global("torch", "FloatStorage").binunicode(key);
    b.binunicode("cpu").int(numel).op("TUPLE").op("BINPERSID");
  }
  return b.op("TUPLE").op("STOP").bytes();
}

async function analyse(entries: ZipEntrySpec[]) {
  const bytes = await makeZip(entries);
  return zipFormat.analyse({ file: "t.pt", member: [], source: memorySource(bytes) }, ctx);
}
const rules = (a: { findings: { rule: string }[] }) => a.findings.map((f) => f.rule);

describe("PyTorch zip checks", () => {
  it("accepts storages that match their persistent ids", async () => {
    const a = await analyse([
      {
        name: "archive/data.pkl",
        data: dataPkl([
          ["0", 2],
          ["1", 3],
        ]),
      },
      { name: "archive/data/0", data: new Uint8Array(8) },
      { name: "archive/data/1", data: new Uint8Array(12) },
    ]);
    expect(a.format).toBe("pytorch-zip");
    expect(rules(a)).toEqual([]);
  });

  it("reports a missing or short storage", async () => {
    const a = await analyse([
      {
        name: "archive/data.pkl",
        data: dataPkl([
          ["0", 2],
          ["1", 3],
        ]),
      },
      { name: "archive/data/0", data: new Uint8Array(4) },
    ]);
    const messages = a.findings.map((f) => f.message).join("\n");
    expect(rules(a)).toEqual(["pytorch.storage-layout", "pytorch.storage-layout"]);
    expect(messages).toContain("should hold 2 × 4 bytes");
    expect(messages).toContain("archive/data/1 does not exist");
  });

  it("reports pickles outside the places torch.load reads, and a second data.pkl", async () => {
    const a = await analyse([
      { name: "archive/data.pkl", data: dataPkl([]) },
      { name: "other/data.pkl", data: dataPkl([]) },
      { name: "archive/extra/hidden.pkl", data: dataPkl([]) },
    ]);
    expect(rules(a)).toContain("pytorch.multiple-data-pkl");
    expect(rules(a)).toContain("pytorch.unexpected-pickle");
    expect(a.children.map((c) => c.name)).toContain("archive/extra/hidden.pkl");
  });

  it("recognises a TorchScript archive (constants.pkl), which torch.load hands to torch.jit.load", async () => {
    const a = await analyse([
      { name: "m/data.pkl", data: dataPkl([]) },
      { name: "m/constants.pkl", data: dataPkl([]) },
      { name: "m/code/__torch__.py", data: "def forward(self):\n  return 1\n" },
    ]);
    const hit = a.findings.find((f) => f.rule === "pytorch.torchscript");
    expect(hit?.severity).toBe("info");
    expect(hit?.message).toContain("torch.jit.load");
    expect(hit?.references).toContain("CVE-2025-32434");
    // a plain torch.save checkpoint is not TorchScript
    const plain = await analyse([{ name: "archive/data.pkl", data: dataPkl([]) }]);
    expect(rules(plain)).not.toContain("pytorch.torchscript");
  });

  it("scans TorchScript code for escapes", async () => {
    const a = await analyse([
      { name: "m/data.pkl", data: dataPkl([]) },
      {
        name: "m/code/__torch__.py",
        data: "def forward(self):\n  return torch.from_file('/etc/passwd')\n",
      },
    ]);
    const hit = a.findings.find((f) => f.rule === "torchscript.escape");
    expect(hit?.severity).toBe("high");
    expect(hit?.message).toContain("m/code/__torch__.py");
  });
});

describe("scanTorchScriptSource", () => {
  it("is quiet on ordinary TorchScript", () => {
    const code = [
      "class Linear(Module):",
      "  def forward(self, input: Tensor) -> Tensor:",
      "    _0 = torch.linear(input, self.weight, self.bias)",
      "    return ops.aten.relu(_0)",
      "    return ops.prim.NumToTensor(1)",
    ].join("\n");
    expect(scanTorchScriptSource(code)).toEqual([]);
  });
  it("flags custom native operators and Python escapes", () => {
    expect(scanTorchScriptSource("x = ops.mylib.run(1)")[0]?.severity).toBe("medium");
    expect(scanTorchScriptSource("os.system('x')")[0]?.severity).toBe("high");
  });
});
