import type { RatedRule } from "../../core/rule-info.js";

/** A rule the ONNX analyser reports: stable id, default severity, one line for docs/rules.md. */
export interface OnnxRule extends RatedRule {
  references?: readonly string[];
}

/** Rules reported by the ONNX analyser; ids are stable (DESIGN.md "Finding shape"). */
export const ONNX_RULES = Object.freeze({
  externalDataPath: {
    id: "onnx.external-data-path",
    severity: "high",
    description:
      "A tensor's external-data location is absolute, a URL or drive path, contains `..` or NUL: onnx.load / onnxruntime read a file outside the model's folder into the model (CVE-2022-25882, CVE-2024-27318).",
    references: ["CVE-2022-25882", "CVE-2024-27318"],
  },
  externalData: {
    id: "onnx.external-data",
    severity: "info",
    description:
      "Tensors are stored in external files inside the model's folder; loading reads them (they are raw tensor bytes).",
  },
  customOp: {
    id: "onnx.custom-op",
    severity: "medium",
    description:
      "Nodes use an operator domain outside the ONNX standard ones: running the model needs a custom-op native library registered with the runtime.",
  },
  contribOp: {
    id: "onnx.contrib-op",
    severity: "low",
    description:
      "Nodes use onnxruntime's built-in contrib domains (com.microsoft*): no extra library, but only onnxruntime runs them.",
  },
  localFunction: {
    id: "onnx.local-function",
    severity: "info",
    description:
      "The model defines model-local functions (listed); their bodies were analysed too.",
  },
  malformed: {
    id: "onnx.malformed",
    severity: "high",
    description:
      "The ModelProto does not parse as protobuf (truncated field, bad tag or wire type): loaders refuse it and nothing after the fault was vetted.",
  },
  limitsExceeded: {
    id: "limits.exceeded",
    severity: "high",
    description: "A size, count or nesting limit was reached: the rest was not read (fail closed).",
  },
} as const satisfies Record<string, OnnxRule>);

export type OnnxRuleKey = keyof typeof ONNX_RULES;
