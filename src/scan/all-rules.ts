import type { Severity } from "../core/finding.js";
import { CHAT_TEMPLATE_RULES } from "../formats/chat-template/rules.js";
import { COMPRESSED_RULES } from "../formats/compressed/rules.js";
import { GGUF_RULES } from "../formats/gguf/rules.js";
import { HDF5_RULES } from "../formats/hdf5/rules.js";
import { HF_RULES } from "../formats/hf-config/rules.js";
import { JOBLIB_RULES } from "../formats/joblib/rules.js";
import { KERAS_RULES } from "../formats/keras/rules.js";
import { MSGPACK_RULES } from "../formats/msgpack/rules.js";
import { NUMPY_RULES } from "../formats/numpy/rules.js";
import { ONNX_RULES } from "../formats/onnx/rules.js";
import { PICKLE_RULES } from "../formats/pickle/rules.js";
import { PYTHON_RULES } from "../formats/python-source/rules.js";
import { PYTORCH_RULES } from "../formats/pytorch/rules.js";
import { SAFETENSORS_RULES } from "../formats/safetensors/rules.js";
import { SEVEN_ZIP_RULES } from "../formats/sevenzip/rules.js";
import { TAR_RULES } from "../formats/tar/rules.js";
import { TF_RULES } from "../formats/tensorflow/rules.js";
import { TFLITE_RULES } from "../formats/tflite/rules.js";
import { ZIP_RULES } from "../formats/zip/rules.js";
import { RULES as POLICY_RULES } from "../policy/rules.js";
import { SCAN_RULES } from "./rules.js";

/** One documented rule: its stable id, usual severity (if fixed) and what it means. */
export interface DocumentedRule {
  id: string;
  severity?: Severity;
  description: string;
}

type Listed = { id: string; severity?: Severity; description: string };

/**
 * Every rule any part of modelvet reports, by id (docs/rules.md is generated from this; a test
 * keeps them equal). The first description listed for an id wins: policy rules explain best.
 */
export function allRules(): DocumentedRule[] {
  const lists: readonly (readonly Listed[])[] = [
    SCAN_RULES,
    POLICY_RULES,
    PICKLE_RULES,
    PYTORCH_RULES,
    Object.values(ZIP_RULES),
    Object.values(SEVEN_ZIP_RULES),
    Object.values(TAR_RULES),
    Object.values(COMPRESSED_RULES),
    Object.values(NUMPY_RULES),
    JOBLIB_RULES,
    Object.values(SAFETENSORS_RULES),
    Object.values(GGUF_RULES),
    Object.values(CHAT_TEMPLATE_RULES),
    Object.values(HDF5_RULES),
    Object.values(KERAS_RULES),
    Object.values(ONNX_RULES),
    Object.values(TF_RULES),
    Object.values(TFLITE_RULES),
    Object.values(HF_RULES),
    Object.values(PYTHON_RULES),
    Object.values(MSGPACK_RULES),
  ];
  const byId = new Map<string, DocumentedRule>();
  for (const list of lists) {
    for (const rule of list) {
      if (byId.has(rule.id)) continue;
      byId.set(rule.id, {
        id: rule.id,
        description: rule.description,
        ...(rule.severity ? { severity: rule.severity } : {}),
      });
    }
  }
  return [...byId.values()].sort((a, b) => a.id.localeCompare(b.id));
}
