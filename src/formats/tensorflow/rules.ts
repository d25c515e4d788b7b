import type { RatedRule } from "../../core/rule-info.js";

/** A rule the TensorFlow analyser reports: stable id, default severity, one line for docs/rules.md. */
export type TfRule = RatedRule;

/** Rules reported by the TensorFlow SavedModel / GraphDef analyser; ids are stable. */
export const TF_RULES = Object.freeze({
  pythonOp: {
    id: "tf.python-op",
    severity: "critical",
    description:
      "The graph calls Python (PyFunc, PyFuncStateless, EagerPyFunc): running it calls whatever Python function the loading process registered under the op's token.",
  },
  fileOp: {
    id: "tf.file-op",
    severity: "high",
    description:
      "The graph reads, writes, lists or memory-maps files (ReadFile, WriteFile, MatchingFiles, ImmutableConst, file readers and datasets, debug ops writing to file://, checkpoint ops on a constant path outside the model).",
  },
  networkOp: {
    id: "tf.network-op",
    severity: "high",
    description:
      "The graph talks to another process over the network (tf.data service datasets, debug ops sending tensors to grpc://).",
  },
  customOp: {
    id: "tf.custom-op",
    severity: "medium",
    description:
      "The graph uses an op outside TensorFlow's standard op set: running it needs a native library loaded with tf.load_op_library.",
  },
  checkpointOp: {
    id: "tf.checkpoint-op",
    severity: "info",
    description:
      "Saver/restore and vocabulary-file ops (SaveV2, RestoreV2, InitializeTableFromTextFileV2, …) that every SavedModel carries; they use the paths the loader passes in.",
  },
  assetPath: {
    id: "tf.asset-path",
    severity: "high",
    description:
      "An asset file name in the MetaGraphDef is absolute or climbs out with `..`: the loader joins it to the assets folder and feeds the resulting outside path into the graph.",
  },
  kerasLambda: {
    id: "tf.keras-lambda",
    severity: "high",
    description:
      "keras_metadata.pb describes a Lambda layer: Keras rebuilds it from marshalled Python bytecode when the SavedModel is loaded as a Keras model.",
  },
  malformed: {
    id: "tf.malformed",
    severity: "high",
    description:
      "The protobuf does not parse (truncated field, bad tag or wire type): TensorFlow refuses it and nothing after the fault was vetted.",
  },
  limitsExceeded: {
    id: "limits.exceeded",
    severity: "high",
    description: "A size, count or nesting limit was reached: the rest was not read (fail closed).",
  },
} as const satisfies Record<string, TfRule>);

export type TfRuleKey = keyof typeof TF_RULES;
