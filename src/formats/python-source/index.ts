import type { LocalFinding } from "../../core/finding.js";
import type { Analysis, Artifact, FormatAnalyser, ScanContext } from "../types.js";
import { analysePythonSource } from "./analyse-python.js";
import { detectPythonSource } from "./detect-python.js";

/** Largest Python file read; beyond it only the first part is analysed (and that is reported). */
export const MAX_PYTHON_SOURCE_BYTES = 8 * 1024 * 1024;

const LENIENT_UTF8 = new TextDecoder("utf-8");

/**
 * Reads the file (up to {@link MAX_PYTHON_SOURCE_BYTES}) as UTF-8, Python's default source
 * encoding, and analyses its syntax tree. Nothing is imported or run.
 */
export async function analysePythonArtifact(
  artifact: Artifact,
  ctx: ScanContext,
): Promise<Analysis> {
  const size = artifact.source.size;
  const length = Math.min(size, MAX_PYTHON_SOURCE_BYTES);
  const bytes = await artifact.source.read(0, length);
  const text = LENIENT_UTF8.decode(bytes);
  const report = analysePythonSource(text, {
    maxPseudocodeLength: ctx.limits.maxPseudocodeLength,
  });
  const findings: LocalFinding[] = [...report.findings];
  if (size > length) {
    findings.push({
      rule: "limits.exceeded",
      severity: "high",
      message: `This Python file is ${size} bytes; only the first ${length} were analysed (MAX_PYTHON_SOURCE_BYTES), and code after them could do anything.`,
      offset: length,
    });
  }
  return {
    format: "python-source",
    findings,
    children: [],
    details: {
      lines: text.split("\n").length,
      syntaxErrors: report.syntaxErrors,
      decodedPayloads: report.payloads,
    },
  };
}

export const pythonSourceFormat: FormatAnalyser = {
  id: "python-source",
  version: 1,
  description:
    "Python source files (.py of a model repository, TorchServe handlers), parsed into a syntax tree, never run",
  detect: detectPythonSource,
  analyse: analysePythonArtifact,
};

export {
  analysePythonSource,
  isOutsidePath,
  type PythonSourceOptions,
  type PythonSourceReport,
} from "./analyse-python.js";
export { detectPythonSource } from "./detect-python.js";
export { type CallCategory, type CallEntry, lookupCall, PYTHON_CALLS } from "./python-calls.js";
export { decodePythonLiteral, type PythonLiteral } from "./python-literal.js";
export { PYTHON_RULES, type PythonRule, type PythonRuleKey } from "./rules.js";
export { decodeTextHead, pickleFailsOnFirstOpcode } from "./text-head.js";
