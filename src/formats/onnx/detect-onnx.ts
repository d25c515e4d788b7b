import { type FieldSchema, fieldsMatching, innerFields, visibleText } from "../protobuf/sniff.js";
import { WIRE_LEN as L, WIRE_VARINT as V } from "../protobuf/wire-reader.js";
import type { Probe } from "../types.js";

/** ModelProto's fields (onnx.proto) and their wire types. */
const MODEL_FIELDS: FieldSchema = new Map([
  [1, V], // ir_version
  [2, L], // producer_name
  [3, L], // producer_version
  [4, L], // domain
  [5, V], // model_version
  [6, L], // doc_string
  [7, L], // graph
  [8, L], // opset_import
  [14, L], // metadata_props
  [20, L], // training_info
  [25, L], // functions
  [26, L], // configuration
]);

/** GraphProto's fields: all length-delimited. */
const GRAPH_FIELDS: FieldSchema = new Map(
  [1, 2, 5, 10, 11, 12, 13, 14, 15, 16].map((n) => [n, L] as const),
);
const OPSET_FIELDS: FieldSchema = new Map([
  [1, L],
  [2, V],
]);

/** Fields that may run past the end of a truncated file (still reported, as malformed). */
const TRUNCATABLE: ReadonlySet<number> = new Set([7, 20, 25]);

/** IR versions released so far are 1–11; leave room for a few more. */
const MAX_IR_VERSION = 20;

/**
 * An ONNX ModelProto, recognised without a magic number: every top-level field visible in the
 * probe is a ModelProto field with its schema's wire type and a length that fits the file;
 * `ir_version` is present and in 1..20; `graph` or `opset_import` is present (every writer puts
 * them after `ir_version` and the producer strings, so they are in the probe unless the strings
 * are huge); the producer/domain strings seen are clean UTF-8; the first field inside the graph
 * and every opset entry visible parse as their messages. Fields in any order are accepted, like
 * the parsers do; a file that starts with a 64 KiB doc_string is not detected (and is reported
 * as unrecognised if named like a model: fail closed).
 */
export function detectOnnx(probe: Probe): boolean {
  const fields = fieldsMatching(probe.head, probe.size, MODEL_FIELDS, TRUNCATABLE);
  if (!fields) return false;
  let ir = false;
  let body = false;
  for (const f of fields) {
    switch (f.number) {
      case 1:
        if (f.value < 1 || f.value > MAX_IR_VERSION) return false;
        ir = true;
        break;
      case 2:
      case 3:
      case 4:
        if (f.start + f.length <= probe.head.length && visibleText(probe.head, f) === undefined) {
          return false;
        }
        break;
      case 7:
        body = true;
        if (
          f.length > 0 &&
          f.start < probe.head.length &&
          !innerFields(probe.head, f, GRAPH_FIELDS)
        ) {
          return false;
        }
        break;
      case 8:
        body = true;
        if (
          f.length > 0 &&
          f.start < probe.head.length &&
          !innerFields(probe.head, f, OPSET_FIELDS)
        ) {
          return false;
        }
        break;
      default:
        break;
    }
  }
  return ir && body;
}
