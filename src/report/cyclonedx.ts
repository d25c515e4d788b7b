import { Enums, Models, Serialize, Spec } from "@cyclonedx/cyclonedx-library";
import type { FileResult } from "../scan/results.js";
import type { ScanReport } from "../scan/scan.js";

/** Formats that only carry other files (archives, compression): their component type is `file`. */
export const CONTAINER_FORMATS: ReadonlySet<string> = new Set([
  "zip",
  "7z",
  "tar",
  "gzip",
  "bz2",
  "xz",
  "lzma",
  "zlib",
  "compressed",
]);

export interface CycloneDxOptions {
  /** `metadata.timestamp`; omitted when not given, so the output is a pure function of the report. */
  timestamp?: Date;
  /** `serialNumber`, a `urn:uuid:…` (the CLI makes a random one); omitted when not given. */
  serialNumber?: string;
}

/**
 * The report as a CycloneDX 1.6 BOM (JSON) built with the CycloneDX library: one component per
 * scanned file — `machine-learning-model` for a model format, `file` for archives and anything
 * else — with its SHA-256 and the scan result as `modelvet:*` properties; modelvet is the tool in
 * the metadata.
 */
export function writeCycloneDx(report: ScanReport, options: CycloneDxOptions = {}): string {
  const bom = new Models.Bom();
  if (options.serialNumber !== undefined) bom.serialNumber = options.serialNumber;
  if (options.timestamp !== undefined) bom.metadata.timestamp = options.timestamp;
  bom.metadata.tools.components.add(
    new Models.Component(Enums.ComponentType.Application, "modelvet", {
      version: report.tool.version,
      description: "Vets machine-learning model files without executing them.",
    }),
  );
  const { summary } = report;
  const summaryProps: [string, string][] = [
    ["modelvet:files", String(summary.files)],
    ["modelvet:malicious", String(summary.verdicts.malicious)],
    ["modelvet:suspicious", String(summary.verdicts.suspicious)],
    ["modelvet:error", String(summary.verdicts.error)],
    ["modelvet:safe", String(summary.verdicts.safe)],
    ["modelvet:findings", String(summary.findings)],
  ];
  for (const [name, value] of summaryProps) {
    bom.metadata.properties.add(new Models.Property(name, value));
  }
  for (const file of report.files) bom.components.add(component(file));

  const serializer = new Serialize.JsonSerializer(
    new Serialize.JSON.Normalize.Factory(Spec.Spec1dot6),
  );
  return `${serializer.serialize(bom, { sortLists: true, space: 2 })}\n`;
}

function component(file: FileResult): Models.Component {
  const isModel = file.format !== null && !CONTAINER_FORMATS.has(file.format);
  const rules = [...new Set(file.findings.map((f) => f.rule))].sort();
  const c = new Models.Component(
    isModel ? Enums.ComponentType.MachineLearningModel : Enums.ComponentType.File,
    file.path,
    {
      bomRef: file.path,
      description: `modelvet verdict: ${file.verdict}, ${file.findings.length} finding${
        file.findings.length === 1 ? "" : "s"
      }${rules.length > 0 ? ` (${rules.join(", ")})` : ""}`,
    },
  );
  if (file.sha256 !== undefined) c.hashes.set(Enums.HashAlgorithm["SHA-256"], file.sha256);
  const props: [string, string][] = [
    ["modelvet:format", file.format ?? "unrecognised"],
    ["modelvet:verdict", file.verdict],
    ["modelvet:findings", String(file.findings.length)],
    ["modelvet:size", String(file.size)],
    ...rules.map((r): [string, string] => ["modelvet:rule", r]),
  ];
  if (file.suppressed !== undefined && file.suppressed.length > 0) {
    props.push(["modelvet:suppressed", String(file.suppressed.length)]);
  }
  for (const [name, value] of props) c.properties.add(new Models.Property(name, value));
  return c;
}
