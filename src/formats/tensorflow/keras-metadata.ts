import type { ByteSource } from "../../core/byte-source.js";
import {
  ChunkedReader,
  createWalkBudget,
  type ProtoError,
  readString,
  type WalkBudget,
  WIRE_LEN,
  walkMessage,
} from "../protobuf/wire-reader.js";

/**
 * `keras_metadata.pb` (keras/protobuf/saved_metadata.proto): `SavedMetadata { repeated
 * SavedObject nodes = 1; }`, `SavedObject { int32 node_id = 2; string node_path = 3; string
 * identifier = 4; string metadata = 5; VersionDef version = 6; }`. Each `metadata` is the layer's
 * JSON config, which Keras uses to rebuild the layer when the SavedModel is loaded as a model.
 */

export interface KerasSavedObject {
  path: string;
  identifier: string;
  /** Layer class names found in the JSON (the object's and nested ones), first few. */
  classNames: string[];
  /** Names of Lambda layers in the JSON. */
  lambdas: string[];
  /** The JSON was longer than the limit or did not parse. */
  unread: boolean;
  offset: number;
}

export interface KerasMetadataResult {
  objects: KerasSavedObject[];
  objectCount: number;
  error?: ProtoError;
}

const MAX_OBJECTS = 10_000;
const MAX_JSON_DEPTH = 64;

/** Class names and Lambda layer names in a parsed config, depth-bounded. */
function scanConfig(
  value: unknown,
  depth: number,
  out: { classes: Set<string>; lambdas: string[] },
) {
  if (depth > MAX_JSON_DEPTH || value === null || typeof value !== "object") return;
  if (Array.isArray(value)) {
    for (const v of value) scanConfig(v, depth + 1, out);
    return;
  }
  const record = value as Record<string, unknown>;
  const cls = record.class_name;
  if (typeof cls === "string") {
    if (out.classes.size < 32) out.classes.add(cls);
    if (cls === "Lambda") {
      const config = record.config as Record<string, unknown> | undefined;
      const name =
        typeof config?.name === "string"
          ? config.name
          : typeof record.name === "string"
            ? record.name
            : "?";
      if (out.lambdas.length < 32) out.lambdas.push(name);
    }
  }
  for (const key of Object.keys(record)) scanConfig(record[key], depth + 1, out);
}

export async function readKerasMetadata(
  source: ByteSource,
  maxJson: number,
  budget: WalkBudget = createWalkBudget(),
): Promise<KerasMetadataResult> {
  const reader = new ChunkedReader(source);
  const objects: KerasSavedObject[] = [];
  let objectCount = 0;
  const error = await walkMessage(reader, 0, source.size, 0, budget, async (f) => {
    if (f.number !== 1 || f.wireType !== WIRE_LEN) return undefined;
    objectCount++;
    const object: KerasSavedObject = {
      path: "",
      identifier: "",
      classNames: [],
      lambdas: [],
      unread: false,
      offset: f.offset,
    };
    const e = await walkMessage(reader, f.start, f.start + f.length, 1, budget, async (g) => {
      if (g.wireType !== WIRE_LEN) return undefined;
      if (g.number === 3) object.path = (await readString(reader, g, 1024)).text;
      if (g.number === 4) object.identifier = (await readString(reader, g, 1024)).text;
      if (g.number === 5) {
        const json = await readString(reader, g, maxJson);
        if (json.truncated) {
          object.unread = true;
          return undefined;
        }
        try {
          const out = { classes: new Set<string>(), lambdas: object.lambdas };
          scanConfig(JSON.parse(json.text), 0, out);
          object.classNames = [...out.classes];
        } catch {
          object.unread = true;
        }
      }
      return undefined;
    });
    if (objects.length < MAX_OBJECTS) objects.push(object);
    return e;
  });
  return error ? { objects, objectCount, error } : { objects, objectCount };
}
