import type { LocalFinding } from "../../core/finding.js";
import { createWalkBudget, type ProtoError } from "../protobuf/wire-reader.js";
import type { Analysis, Artifact, FormatAnalyser, ScanContext } from "../types.js";
import { detectOnnx } from "./detect-onnx.js";
import { describePathProblems, externalPathProblems } from "./external-path.js";
import { type OnnxModelInfo, type OnnxOpUse, readOnnxModel } from "./read-model.js";
import { ONNX_RULES, type OnnxRuleKey } from "./rules.js";
import { classifyDomain } from "./standard-domains.js";

/** Entries named in one finding's message before "and N more". */
const LIST_IN_MESSAGE = 12;
/** External-data findings kept, one per distinct bad location. */
const MAX_PATH_FINDINGS = 100;

function finding(
  key: OnnxRuleKey,
  message: string,
  extra: Partial<LocalFinding> = {},
): LocalFinding {
  const rule = ONNX_RULES[key];
  return {
    rule: rule.id,
    severity: rule.severity,
    message,
    ...("references" in rule ? { references: [...rule.references] } : {}),
    ...extra,
  };
}

function listed<T>(items: readonly T[], show: (item: T) => string): string {
  const head = items.slice(0, LIST_IN_MESSAGE).map(show).join(", ");
  return items.length > LIST_IN_MESSAGE
    ? `${head} and ${items.length - LIST_IN_MESSAGE} more`
    : head;
}

function quote(text: string): string {
  return JSON.stringify(text.length > 200 ? `${text.slice(0, 200)}…` : text);
}

function externalDataFindings(info: OnnxModelInfo): LocalFinding[] {
  const findings: LocalFinding[] = [];
  const seen = new Set<string>();
  const inside: string[] = [];
  for (const e of info.externalData) {
    const problems = externalPathProblems(e.location);
    if (problems.length === 0) {
      if (!inside.includes(e.location) && inside.length < 1000) inside.push(e.location);
      continue;
    }
    if (seen.has(e.location) || seen.size >= MAX_PATH_FINDINGS) continue;
    seen.add(e.location);
    const range = [e.offset && `offset ${e.offset}`, e.length && `length ${e.length}`]
      .filter(Boolean)
      .join(", ");
    const where = `tensor ${quote(e.tensor)} (${e.scope})`;
    const pseudocode = `onnx.load(model) reads open(os.path.join(model_dir, ${quote(e.location)}))${range ? ` [${range}]` : ""} into ${where}`;
    if (e.external) {
      findings.push(
        finding(
          "externalDataPath",
          `External data of ${where} is read from ${quote(e.location)}: ${describePathProblems(problems)}. onnx.load and onnxruntime read that file into the model, so a model can pull any readable file (keys, /etc/passwd) into its weights and outputs.`,
          { offset: e.at, evidence: { pseudocode } },
        ),
      );
    } else {
      findings.push(
        finding(
          "externalDataPath",
          `${where} carries an external-data location ${quote(e.location)} (${describePathProblems(problems)}) but its data_location is not EXTERNAL, so onnx and onnxruntime ignore it; other readers may not.`,
          { offset: e.at, severity: "low", evidence: { pseudocode } },
        ),
      );
    }
  }
  if (inside.length > 0) {
    findings.push(
      finding(
        "externalData",
        `${info.externalDataCount} tensor(s) load their data from files beside the model: ${listed(inside, quote)}.`,
      ),
    );
  }
  return findings;
}

function opFindings(info: OnnxModelInfo): LocalFinding[] {
  const functionKeys = new Set(info.functions.map((f) => `${f.domain}\u0000${f.name}`));
  const byDomain = new Map<string, OnnxOpUse[]>();
  for (const [key, use] of info.ops) {
    if (functionKeys.has(key)) continue; // resolved by a model-local function, analysed too
    const cls = classifyDomain(use.domain);
    if (cls === "standard") continue;
    const list = byDomain.get(use.domain) ?? [];
    list.push(use);
    byDomain.set(use.domain, list);
  }
  const findings: LocalFinding[] = [];
  for (const [domain, uses] of byDomain) {
    const ops = listed(uses, (u) => `${u.opType} ×${u.count}`);
    const first = uses[0]!;
    const evidence = {
      global: `${domain}::${first.opType}`,
      pseudocode: `${domain}::${first.opType}(...)  # node ${quote(first.firstNode)} in ${first.scope}`,
    };
    if (classifyDomain(domain) === "contrib") {
      findings.push(
        finding(
          "contribOp",
          `Nodes use onnxruntime's contrib domain ${quote(domain)} (${ops}): built into onnxruntime, no extra library.`,
          { offset: first.offset, evidence },
        ),
      );
    } else {
      findings.push(
        finding(
          "customOp",
          `Nodes use the custom operator domain ${quote(domain)} (${ops}): the runtime must load a native custom-op library that implements them, and that code is not in this file.`,
          { offset: first.offset, evidence },
        ),
      );
    }
  }
  if (info.functions.length > 0) {
    findings.push(
      finding(
        "localFunction",
        `Model-local functions: ${listed(info.functions, (f) => `${f.domain}:${f.name} (${f.nodes} nodes)`)}; their nodes were analysed too.`,
        { evidence: { global: `${info.functions[0]!.domain}::${info.functions[0]!.name}` } },
      ),
    );
  }
  return findings;
}

function errorFinding(error: ProtoError): LocalFinding {
  if (error.limit) {
    return finding(
      "limitsExceeded",
      `The ONNX model was not read to the end: ${error.message}. What follows was not vetted.`,
      { offset: error.offset },
    );
  }
  return finding(
    "malformed",
    `The ONNX ModelProto is malformed at offset ${error.offset}: ${error.message}. onnx.load refuses it; what follows was not vetted.`,
    { offset: error.offset },
  );
}

/**
 * Decodes an ONNX ModelProto without reading tensor data and reports what loading or running
 * it reaches outside the file: external-data files (paths leaving the folder are high), custom
 * operator domains (native libraries), model-local functions.
 */
export async function analyseOnnx(artifact: Artifact, ctx: ScanContext): Promise<Analysis> {
  void ctx;
  const { info, error } = await readOnnxModel(artifact.source, createWalkBudget());
  const findings: LocalFinding[] = [...externalDataFindings(info), ...opFindings(info)];
  if (info.truncatedLists) {
    findings.push(
      finding(
        "limitsExceeded",
        "More distinct ops, tensors with external data, functions or metadata entries than are kept; only the first were reported.",
      ),
    );
  }
  if (error) findings.push(errorFinding(error));
  const details: Record<string, string | number | boolean> = {
    nodes: info.nodes,
    graphs: info.graphs,
    tensors: info.tensors,
    externalTensors: info.externalDataCount,
    functions: info.functions.length,
    opsets: info.opsetImports.map((o) => `${o.domain || "ai.onnx"}:${o.version}`).join(", "),
  };
  if (info.irVersion !== undefined) details.irVersion = info.irVersion;
  if (info.producerName)
    details.producer = `${info.producerName} ${info.producerVersion ?? ""}`.trim();
  if (info.metadataProps.length > 0) {
    details.metadataKeys = info.metadataProps
      .map((p) => p.key)
      .slice(0, 50)
      .join(", ");
  }
  return {
    format: "onnx",
    findings,
    children: [],
    ...(error ? { unanalysable: true } : {}),
    details,
  };
}

export const onnxFormat: FormatAnalyser = {
  id: "onnx",
  version: 1,
  description:
    "ONNX models (ModelProto): ops, custom domains, functions and external-data paths, read without tensor data",
  detect: detectOnnx,
  analyse: analyseOnnx,
};

export { detectOnnx } from "./detect-onnx.js";
export { type ExternalPathProblem, externalPathProblems } from "./external-path.js";
export {
  type OnnxExternalData,
  type OnnxModelInfo,
  type OnnxOpUse,
  type ReadOnnxResult,
  readOnnxModel,
} from "./read-model.js";
export { ONNX_RULES } from "./rules.js";
