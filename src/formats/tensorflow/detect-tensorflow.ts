import { type FieldSchema, fieldsMatching, innerFields, visibleText } from "../protobuf/sniff.js";
import { WIRE_LEN as L, WIRE_VARINT as V } from "../protobuf/wire-reader.js";
import type { Probe } from "../types.js";

export type TfFileKind = "saved-model" | "graph-def" | "keras-metadata";

/** SavedModel: 1 saved_model_schema_version (int64), 2 meta_graphs (repeated MetaGraphDef). */
const SAVED_MODEL_FIELDS: FieldSchema = new Map([
  [1, V],
  [2, L],
]);
/** MetaGraphDef: meta_info_def, graph_def, saver_def, collection_def, signature_def, asset_file_def, object_graph_def. */
const META_GRAPH_FIELDS: FieldSchema = new Map([1, 2, 3, 4, 5, 6, 7].map((n) => [n, L] as const));
/** GraphDef: node, library, version (deprecated int32), versions, debug_info. */
const GRAPH_DEF_FIELDS: FieldSchema = new Map([
  [1, L],
  [2, L],
  [3, V],
  [4, L],
  [5, L],
]);
/** NodeDef: name, op, input, device, attr, experimental_debug_info, experimental_type. */
const NODE_DEF_FIELDS: FieldSchema = new Map([1, 2, 3, 4, 5, 6, 7].map((n) => [n, L] as const));
/** Keras SavedMetadata: 1 nodes (repeated SavedObject). */
const KERAS_METADATA_FIELDS: FieldSchema = new Map([[1, L]]);
/** SavedObject (keras/protobuf/saved_metadata.proto): node_id, node_path, identifier, metadata, version. */
const KERAS_OBJECT_FIELDS: FieldSchema = new Map([
  [2, V],
  [3, L],
  [4, L],
  [5, L],
  [6, L],
]);

/** Schema versions TensorFlow writes (kSavedModelSchemaVersion is 1). */
const MAX_SCHEMA_VERSION = 10;
const OP_NAME = /^[A-Za-z_][A-Za-z0-9_>.]{0,255}$/;

/**
 * `saved_model.pb`: only fields 1 (a small schema version) and 2 at the top, and the first field
 * inside the first meta graph is a MetaGraphDef field. ONNX files also start with field 1 and 2,
 * but carry `graph`/`opset_import` (fields 7/8) and a producer *string* in field 2, so they fail.
 */
function isSavedModel(probe: Probe): boolean {
  const fields = fieldsMatching(probe.head, probe.size, SAVED_MODEL_FIELDS, new Set([2]));
  if (!fields) return false;
  let metaGraph = false;
  for (const f of fields) {
    if (f.number === 1 && f.value > MAX_SCHEMA_VERSION) return false;
    if (f.number === 2) {
      if (f.length === 0) continue;
      if (!metaGraph && !innerFields(probe.head, f, META_GRAPH_FIELDS)) return false;
      metaGraph = true;
    }
  }
  return metaGraph;
}

/**
 * A bare GraphDef (frozen graph): top-level fields are GraphDef fields, the first is a node, and
 * that NodeDef starts with a clean name and/or an op name that looks like an op (identifier
 * characters, `>` for namespaced custom ops).
 */
function isGraphDef(probe: Probe): boolean {
  const fields = fieldsMatching(probe.head, probe.size, GRAPH_DEF_FIELDS, new Set([1, 2]));
  const first = fields?.[0];
  if (first?.number !== 1) return false;
  const node = innerFields(probe.head, first, NODE_DEF_FIELDS);
  if (!node) return false;
  const [a, b] = node;
  let opField = a;
  if (a?.number === 1) {
    if (visibleText(probe.head, a, first.start) === undefined) return false;
    opField = b;
  }
  if (opField?.number !== 2) return false;
  const op = visibleText(probe.head, opField, first.start);
  return op !== undefined && OP_NAME.test(op);
}

/** `keras_metadata.pb`: SavedMetadata whose first object has a `root…` path or a `_tf_keras…` identifier. */
function isKerasMetadata(probe: Probe): boolean {
  const fields = fieldsMatching(probe.head, probe.size, KERAS_METADATA_FIELDS, new Set([1]));
  const first = fields?.[0];
  if (!first) return false;
  const object = innerFields(probe.head, first, KERAS_OBJECT_FIELDS);
  if (!object) return false;
  for (const f of object) {
    const text =
      f.number === 3 || f.number === 4 ? visibleText(probe.head, f, first.start) : undefined;
    if (f.number === 3 && text?.startsWith("root")) return true;
    if (f.number === 4 && text?.startsWith("_tf_keras")) return true;
  }
  return false;
}

/** Which TensorFlow protobuf the probe holds, if any (see each check for the heuristic). */
export function sniffTensorflow(probe: Probe): TfFileKind | undefined {
  if (isSavedModel(probe)) return "saved-model";
  if (isGraphDef(probe)) return "graph-def";
  if (isKerasMetadata(probe)) return "keras-metadata";
  return undefined;
}

export function detectTensorflow(probe: Probe): boolean {
  return sniffTensorflow(probe) !== undefined;
}
