// The library API: the same engine the CLI uses. Named exports only (STYLE.md).
export type { ByteSource } from "./core/byte-source.js";
export { memorySource, sliceSource } from "./core/byte-source.js";
export type { Evidence, Finding, Location, Severity } from "./core/finding.js";
export { SEVERITIES } from "./core/finding.js";
export type { Limits } from "./core/limits.js";
export { DEFAULT_LIMITS } from "./core/limits.js";
export type { Verdict } from "./core/verdict.js";
export { VERDICTS } from "./core/verdict.js";
export type { PickleAnalysisOptions, PickleReport } from "./formats/pickle/index.js";
export { analysePickle } from "./formats/pickle/index.js";
export { FORMATS } from "./formats/registry.js";
export type { Analysis, Artifact, FormatAnalyser, ScanContext } from "./formats/types.js";
export { BUILTIN_POLICY, createPolicy } from "./policy/index.js";
export type { IgnoreRule, PolicyFile, PolicyInForce } from "./policy/policy-file.js";
export { parsePolicyFile, writePolicyYaml } from "./policy/policy-file.js";
export type { GlobalVerdict, Policy } from "./policy/types.js";
export { parseBaseline, writeBaseline } from "./report/baseline.js";
export type { CycloneDxOptions } from "./report/cyclonedx.js";
export { writeCycloneDx } from "./report/cyclonedx.js";
export type { HtmlOptions } from "./report/html.js";
export { writeHtml } from "./report/html.js";
export { writeJson } from "./report/json.js";
export type { SarifLog, SarifOptions } from "./report/sarif.js";
export { toSarif, writeSarif } from "./report/sarif.js";
export type { TextOptions } from "./report/text.js";
export { writeText } from "./report/text.js";
export type { ApplyPolicyOptions, BaselineSet } from "./scan/apply-policy.js";
export { applyBaseline, applyPolicy } from "./scan/apply-policy.js";
export type {
  ArtifactResult,
  FileResult,
  SuppressedFinding,
  Suppression,
} from "./scan/results.js";
export type { OpenedInput, ScanInput, ScanOptions, ScanReport, ScanSummary } from "./scan/scan.js";
export { scan, scanFile } from "./scan/scan.js";
export { VERSION } from "./version.js";
