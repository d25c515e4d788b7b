import type { LocalFinding } from "../../core/finding.js";
import { TF_OP_CLASSES } from "../tensorflow/op-classes.js";
import { TF_RULES } from "../tensorflow/rules.js";
import { isStandardTfOp } from "../tensorflow/standard-ops.js";
import type { Analysis, Artifact, Child, FormatAnalyser, Probe, ScanContext } from "../types.js";
import { detectZip } from "../zip/index.js";
import {
  readTfliteModel,
  TFLITE_CUSTOM,
  TFLITE_IDENTIFIER,
  type TfliteError,
  type TfliteOperatorCode,
} from "./read-model.js";
import { TFLITE_RULES, type TfliteRuleKey } from "./rules.js";

/** Child name for a zip of associated files appended by the TFLite metadata writer. */
export const ASSOCIATED_FILES_CHILD = "(associated files zip)";
const TAIL_BYTES = 64 * 1024 + 22;
const FLEX_PREFIX = "Flex";

/** `TFL3` at offset 4 (the FlatBuffer file identifier) and a root offset inside the file. */
export function detectTflite(probe: Probe): boolean {
  const h = probe.head;
  if (h.length < 8) return false;
  for (let i = 0; i < 4; i++) if (h[4 + i] !== TFLITE_IDENTIFIER.charCodeAt(i)) return false;
  const root = (h[0]! | (h[1]! << 8) | (h[2]! << 16) | (h[3]! << 24)) >>> 0;
  return root >= 8 && root < probe.size;
}

function finding(
  key: TfliteRuleKey,
  message: string,
  extra: Partial<LocalFinding> = {},
): LocalFinding {
  const rule = TFLITE_RULES[key];
  return { rule: rule.id, severity: rule.severity, message, ...extra };
}

function quote(text: string): string {
  return JSON.stringify(text.length > 200 ? `${text.slice(0, 200)}…` : text);
}

/** Findings for the custom operator codes: Flex ops checked as TensorFlow ops, others custom. */
function customFindings(codes: readonly TfliteOperatorCode[]): LocalFinding[] {
  const findings: LocalFinding[] = [];
  const flex: string[] = [];
  for (const code of codes) {
    if (code.builtinCode !== TFLITE_CUSTOM) continue;
    const name = code.customCode ?? "";
    const tfOp = name.startsWith(FLEX_PREFIX) ? name.slice(FLEX_PREFIX.length) : undefined;
    const cls = tfOp === undefined ? undefined : TF_OP_CLASSES.get(tfOp);
    const evidence = { global: tfOp ? `tf.raw_ops.${tfOp}` : name };
    if (tfOp && cls && cls.kind !== "checkpoint") {
      const rule =
        cls.kind === "python"
          ? TF_RULES.pythonOp
          : cls.kind === "file"
            ? TF_RULES.fileOp
            : TF_RULES.networkOp;
      findings.push({
        rule: rule.id,
        severity: rule.severity,
        message: `Operator code ${code.index} is the Flex op ${quote(name)}: the Select-TF-ops delegate runs TensorFlow's ${tfOp} kernel, which ${cls.effect}.`,
        offset: code.offset,
        evidence,
      });
    } else if (tfOp && isStandardTfOp(tfOp)) {
      flex.push(name);
    } else {
      findings.push(
        finding(
          "customOp",
          `Operator code ${code.index} is the custom op ${quote(name)}: the interpreter needs a native kernel registered for it, and that code is not in this file.`,
          { offset: code.offset, evidence },
        ),
      );
    }
  }
  if (flex.length > 0) {
    findings.push(finding("flexOp", `Flex (Select TF) ops: ${flex.map(quote).join(", ")}.`));
  }
  return findings;
}

function errorFinding(error: TfliteError): LocalFinding {
  return error.limit
    ? finding("limitsExceeded", `The TFLite model was not read to the end: ${error.message}.`, {
        offset: error.offset,
      })
    : finding(
        "malformed",
        `The TFLite FlatBuffer is malformed at offset ${error.offset}: ${error.message}. What follows was not vetted.`,
        { offset: error.offset },
      );
}

/**
 * Reads a TFLite model's operator codes and reports custom operators by name. A zip appended by
 * the metadata writer (associated files such as label maps) is handed back as a child.
 */
export async function analyseTflite(artifact: Artifact, ctx: ScanContext): Promise<Analysis> {
  void ctx;
  const { source } = artifact;
  const { info, error } = await readTfliteModel(source);
  const findings = customFindings(info.operatorCodes);
  if (error) findings.push(errorFinding(error));
  const children: Child[] = [];
  const head = (await source.read(0, Math.min(8, source.size))).slice();
  const tailStart = Math.max(0, source.size - TAIL_BYTES);
  const tail = (await source.read(tailStart, source.size - tailStart)).slice();
  if (detectZip({ head, tail, size: source.size })) {
    children.push({ name: ASSOCIATED_FILES_CHILD, source, hint: "zip" });
  }
  const builtin = info.operatorCodes.filter((c) => c.builtinCode !== TFLITE_CUSTOM).length;
  return {
    format: "tflite",
    findings,
    children,
    ...(error ? { unanalysable: true } : {}),
    details: {
      operatorCodes: info.operatorCodeCount,
      builtinOperatorCodes: builtin,
      customOperatorCodes: info.operatorCodes.length - builtin,
      ...(info.version === undefined ? {} : { schemaVersion: info.version }),
      ...(info.description ? { description: info.description.slice(0, 200) } : {}),
    },
  };
}

export const tfliteFormat: FormatAnalyser = {
  id: "tflite",
  version: 1,
  description: "TensorFlow Lite FlatBuffers (TFL3): operator codes, custom and Flex ops",
  detect: detectTflite,
  analyse: analyseTflite,
};

export {
  readTfliteModel,
  type TfliteModelInfo,
  type TfliteOperatorCode,
} from "./read-model.js";
export { TFLITE_RULES } from "./rules.js";
