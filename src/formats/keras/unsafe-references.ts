/**
 * Keras' own functions and classes that a model config must never reach: the published
 * `safe_mode` bypasses and the loaders and file helpers they use. Policy data, kept apart from the
 * walker (check-config.ts). Keras 3.11+ lists most of these itself as `NON_MODELING_APIS`
 * (keras/src/saving/serialization_lib.py) and refuses them; older versions load them.
 */

export interface UnsafeKerasReference {
  /** The function or class name (the last part of `keras.utils.get_file`). */
  name: string;
  kind: "function" | "class";
  /** The public path, for messages. */
  path: string;
  /** What reaching it does, in the user's terms. */
  reason: string;
  references: readonly string[];
}

const NON_MODELING =
  "Keras lists it as a non-modeling API that configs must not reach (refused since keras 3.11).";

export const UNSAFE_KERAS_REFERENCES: readonly UnsafeKerasReference[] = Object.freeze([
  {
    name: "enable_unsafe_deserialization",
    kind: "function",
    path: "keras.config.enable_unsafe_deserialization",
    reason:
      "switches safe_mode off in the middle of loading, so a Lambda layer later in the same file runs its bytecode even though the caller asked for safe_mode=True.",
    references: ["CVE-2025-9906", "GHSA-36fq-jgmw-4r9c"],
  },
  {
    name: "set_global_attribute",
    kind: "function",
    path: "keras.src.backend.common.global_state.set_global_attribute",
    reason:
      "rewrites Keras' global state (e.g. `safe_mode_saving`), which disables safe_mode for the rest of the load.",
    references: ["CVE-2025-9906"],
  },
  {
    name: "get_file",
    kind: "function",
    path: "keras.utils.get_file",
    reason:
      "downloads a file from a URL the config chooses to a path it chooses while the model loads (and can extract archives there).",
    references: ["CVE-2025-8747", "GHSA-c9rc-mg46-23w3"],
  },
  ...[
    "load_model",
    "model_from_json",
    "save_model",
    "load_weights",
    "save_weights",
    "deserialize_keras_object",
    "serialize_keras_object",
    "register_keras_serializable",
    "clear_session",
    "load_img",
    "save_img",
    "image_dataset_from_directory",
    "text_dataset_from_directory",
    "audio_dataset_from_directory",
  ].map(
    (name): UnsafeKerasReference => ({
      name,
      kind: "function",
      path: `keras.*.${name}`,
      reason: `reads or writes files, or loads another model (possibly with safe_mode=False passed in its arguments). ${NON_MODELING}`,
      references: ["CVE-2025-9906"],
    }),
  ),
  {
    name: "TFSMLayer",
    kind: "class",
    path: "keras.layers.TFSMLayer",
    reason:
      "loads a TensorFlow SavedModel from the `filepath` in its config and runs that graph as part of the model; a path outside the archive pulls in code the scan never saw.",
    references: [],
  },
  {
    name: "TorchModuleWrapper",
    kind: "class",
    path: "keras.layers.TorchModuleWrapper",
    reason:
      "rebuilds its PyTorch module with torch.load, i.e. unpickles bytes stored in the config (arbitrary code when safe_mode is off or in older keras).",
    references: [],
  },
]);

/** Unsafe references by name. */
export const UNSAFE_KERAS_BY_NAME: ReadonlyMap<string, UnsafeKerasReference> = new Map(
  UNSAFE_KERAS_REFERENCES.map((r) => [r.name, r]),
);

/**
 * TensorFlow API functions that `TFOpLambda` / `SlicingOpLambda` layers (tf.keras functional
 * models calling `tf.*` directly) may name and that touch files or run Python: prefixes of the
 * `function` string, e.g. `io.write_file`.
 */
export const RISKY_TF_OP_PREFIXES: readonly string[] = Object.freeze([
  "io.",
  "compat.v1.io.",
  "gfile.",
  "compat.v1.gfile.",
  "py_function",
  "numpy_function",
  "compat.v1.py_func",
  "data.",
  "saved_model.",
  "compat.v1.saved_model.",
  "keras.",
  "raw_ops.ReadFile",
  "raw_ops.WriteFile",
  "raw_ops.MatchingFiles",
  "raw_ops.PyFunc",
  "raw_ops.EagerPyFunc",
  "raw_ops.PyFuncStateless",
  "raw_ops.ImmutableConst",
  "load_op_library",
  "load_library",
]);
