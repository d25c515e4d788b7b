import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { Ajv } from "ajv";
import addFormats from "ajv-formats";
import { beforeAll, describe, expect, it } from "vitest";
import { writeCycloneDx } from "../src/report/cyclonedx.js";
import type { ScanReport } from "../src/scan/scan.js";
import { richReport } from "./report-helpers.js";

/**
 * The CycloneDX 1.6 JSON schema shipped with @cyclonedx/cyclonedx-library (res/schema), with the
 * schemas it references, compiled the way the library's own JSON validator does it (its
 * validator needs ajv-formats-draft2019 for one format; that format is given here instead).
 */
function bomValidator() {
  const require = createRequire(import.meta.url);
  const dir = join(
    dirname(require.resolve("@cyclonedx/cyclonedx-library/package.json")),
    "res/schema",
  );
  const load = (name: string) => JSON.parse(readFileSync(join(dir, name), "utf8"));
  const ajv = new Ajv({
    allErrors: true,
    strict: false,
    schemas: {
      "http://cyclonedx.org/schema/spdx.SNAPSHOT.schema.json": load("spdx.SNAPSHOT.schema.json"),
      "http://cyclonedx.org/schema/jsf-0.82.SNAPSHOT.schema.json": load(
        "jsf-0.82.SNAPSHOT.schema.json",
      ),
      "http://cyclonedx.org/schema/cryptography-defs.SNAPSHOT.schema.json": load(
        "cryptography-defs.SNAPSHOT.schema.json",
      ),
    },
    loadSchema: (uri) => Promise.reject(new Error(`remote schemas are disabled: ${uri}`)),
  });
  addFormats.default(ajv);
  ajv.addFormat("idn-email", /^[^\s@]+@[^\s@]+$/u);
  ajv.addFormat("iri-reference", true);
  return ajv.compile(load("bom-1.6.SNAPSHOT.schema.json"));
}

type Bom = {
  specVersion: string;
  serialNumber: string;
  metadata: { timestamp: string; tools: { components: { name: string; version: string }[] } };
  components: {
    type: string;
    name: string;
    "bom-ref": string;
    hashes?: { alg: string; content: string }[];
    properties: { name: string; value: string }[];
  }[];
};

let report: ScanReport;
let bom: Bom;
beforeAll(async () => {
  report = await richReport();
  bom = JSON.parse(
    writeCycloneDx(report, {
      timestamp: new Date("2026-01-01T00:00:00Z"),
      serialNumber: "urn:uuid:3e671687-395b-41f5-a30f-a58921a69b79",
    }),
  );
});

const prop = (c: Bom["components"][number], name: string) =>
  c.properties.filter((p) => p.name === name).map((p) => p.value);
const byName = (name: string) => bom.components.find((c) => c.name === name)!;

describe("CycloneDX 1.6 ML-BOM", () => {
  it("validates against the CycloneDX 1.6 JSON schema", () => {
    const validate = bomValidator();
    expect(validate(bom), JSON.stringify(validate.errors, null, 2)).toBe(true);
    expect(bom.specVersion).toBe("1.6");
    expect(bom.serialNumber).toBe("urn:uuid:3e671687-395b-41f5-a30f-a58921a69b79");
    expect(bom.metadata.timestamp).toBe("2026-01-01T00:00:00.000Z");
  });

  it("the schema check can fail", () => {
    const validate = bomValidator();
    const broken = structuredClone(bom) as unknown as { components: { type: string }[] };
    broken.components[0]!.type = "model";
    expect(validate(broken)).toBe(false);
  });

  it("names modelvet as the tool", () => {
    expect(bom.metadata.tools.components).toEqual([
      expect.objectContaining({ name: "modelvet", version: report.tool.version }),
    ]);
  });

  it("has a component per scanned file: models are machine-learning-model, others file", () => {
    expect(bom.components.map((c) => c.name).sort()).toEqual(
      report.files.map((f) => f.path).sort(),
    );
    expect(byName("examples/benign/state_dict.pt").type).toBe("machine-learning-model");
    expect(byName("examples/malicious/reverse_shell_stand_in.pkl").type).toBe(
      "machine-learning-model",
    );
    expect(byName("examples/README.md").type).toBe("file");
    expect(byName("test/fixtures/torch/malicious/checkpoint_zip_in_zip.zip").type).toBe("file");
    expect(byName("models/gone.pt").type).toBe("file");
  });

  it("records the SHA-256, format, verdict and findings of each file", () => {
    const c = byName("examples/malicious/exec_after_garbage.bin");
    const file = report.files.find((f) => f.path === c.name)!;
    expect(c.hashes).toEqual([{ alg: "SHA-256", content: file.sha256 }]);
    expect(prop(c, "modelvet:format")).toEqual(["pickle"]);
    expect(prop(c, "modelvet:verdict")).toEqual(["malicious"]);
    expect(prop(c, "modelvet:findings")).toEqual([String(file.findings.length)]);
    expect(prop(c, "modelvet:rule")).toEqual(["pickle.dangerous-global", "pickle.malformed"]);
    const unreadable = byName("models/gone.pt");
    expect(unreadable.hashes).toBeUndefined();
    expect(prop(unreadable, "modelvet:verdict")).toEqual(["error"]);
    expect(prop(unreadable, "modelvet:format")).toEqual(["unrecognised"]);
    const custom = byName("test/fixtures/torch/benign/whole_module_custom_class.pt");
    expect(prop(custom, "modelvet:suppressed")).toEqual(["2"]);
  });

  it("is a pure function of the report without a timestamp or serial number", () => {
    const a = writeCycloneDx(report);
    expect(a).toBe(writeCycloneDx(report));
    expect(JSON.parse(a).serialNumber).toBeUndefined();
  });
});
