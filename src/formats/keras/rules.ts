import type { RatedRule } from "../../core/rule-info.js";

/** A rule the Keras analysers report: stable id, default severity, one line for docs/rules.md. */
export type KerasRule = RatedRule;

/** Rules reported for Keras configs (`.keras` config.json, HDF5 `model_config`); ids are stable. */
export const KERAS_RULES = Object.freeze({
  lambdaLayer: {
    id: "keras.lambda-layer",
    severity: "critical",
    description:
      "A Lambda layer (or other `__lambda__` function) carries marshalled Python bytecode: Keras runs it when the model loads with safe_mode=False (always in Keras 2 and for .h5 before keras 3.11.3) and on every call. The names and constants it uses are listed.",
  },
  customObject: {
    id: "keras.custom-object",
    severity: "medium",
    description:
      "The config names a class or function outside Keras (a custom layer, a third-party module): loading needs that code, which runs with the model's arguments.",
  },
  unsafeReference: {
    id: "keras.unsafe-reference",
    severity: "critical",
    description:
      "The config reaches a dangerous callable or a known safe_mode bypass: an arbitrary module function (CVE-2025-1550), keras.config.enable_unsafe_deserialization (CVE-2025-9906), keras.utils.get_file (CVE-2025-8747), a TFSMLayer loading an outside SavedModel, or a denylisted function.",
  },
  unreadable: {
    id: "keras.unreadable",
    severity: "high",
    description:
      "A Keras config could not be read (not UTF-8 JSON, too large, or an HDF5 attribute that cannot be decoded): the model was not vetted.",
  },
} as const satisfies Record<string, KerasRule>);

export type KerasRuleKey = keyof typeof KERAS_RULES;
