// The library API: the same engine the CLI uses. Named exports only (STYLE.md).
export type { ByteSource } from "./core/byte-source.js";
export { memorySource, sliceSource } from "./core/byte-source.js";
export type { Evidence, Finding, Location, Severity } from "./core/finding.js";
export { SEVERITIES } from "./core/finding.js";
export type { Limits } from "./core/limits.js";
export { DEFAULT_LIMITS } from "./core/limits.js";
export type { Verdict } from "./core/verdict.js";
export { VERDICTS } from "./core/verdict.js";
export { FORMATS } from "./formats/registry.js";
export type { Analysis, Artifact, FormatAnalyser, ScanContext } from "./formats/types.js";
export { BUILTIN_POLICY, createPolicy } from "./policy/index.js";
export type { GlobalVerdict, Policy } from "./policy/types.js";
export { writeJson } from "./report/json.js";
export { writeText } from "./report/text.js";
export type { ArtifactResult, FileResult } from "./scan/results.js";
export type { OpenedInput, ScanInput, ScanOptions, ScanReport, ScanSummary } from "./scan/scan.js";
export { scan, scanFile } from "./scan/scan.js";
export { VERSION } from "./version.js";
