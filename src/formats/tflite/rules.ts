import type { RatedRule } from "../../core/rule-info.js";

/** A rule the TFLite analyser reports: stable id, default severity, one line for docs/rules.md. */
export type TfliteRule = RatedRule;

/**
 * Rules reported by the TFLite analyser; ids are stable. Flex ops (TensorFlow kernels run by the
 * Flex delegate) that read files or run Python are reported with the TensorFlow rules
 * (`tf.file-op`, `tf.python-op`, `tf.network-op`).
 */
export const TFLITE_RULES = Object.freeze({
  customOp: {
    id: "tflite.custom-op",
    severity: "medium",
    description:
      "The model uses CUSTOM operators (named by custom_code): the interpreter needs native kernels registered for them, and that code is not in this file.",
  },
  flexOp: {
    id: "tflite.flex-op",
    severity: "info",
    description:
      "The model uses Flex ops (TensorFlow kernels run through the Select-TF-ops delegate); listed, and checked against TensorFlow's op classes.",
  },
  malformed: {
    id: "tflite.malformed",
    severity: "high",
    description:
      "The FlatBuffer is malformed (offsets outside the file, bad vtable, truncated vector or string): nothing after the fault was vetted.",
  },
  limitsExceeded: {
    id: "limits.exceeded",
    severity: "high",
    description: "A count limit was reached: the rest was not read (fail closed).",
  },
} as const satisfies Record<string, TfliteRule>);

export type TfliteRuleKey = keyof typeof TFLITE_RULES;
