/**
 * Cheap detection of Keras JSON (config.json, metadata.json, model.to_json()) from the first bytes
 * only: the keys of the top-level object, found by a small scanner that tracks strings and nesting
 * and stops at the end of the probe (a large config is cut there, which is fine: Keras writes
 * `module`/`class_name`/`config` first).
 */

const decoder = new TextDecoder("utf-8", { fatal: false });

/** Keys of the outermost JSON object in `head` (as far as it goes); null if it is not one. */
export function topLevelKeys(head: Uint8Array, maxKeys = 64): Set<string> | null {
  let text = decoder.decode(head.subarray(0, 64 * 1024));
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  let i = 0;
  while (i < text.length && " \t\r\n".includes(text[i]!)) i++;
  if (text[i] !== "{") return null;
  const keys = new Set<string>();
  let depth = 0;
  let expectKey = false;
  for (; i < text.length; i++) {
    const c = text[i]!;
    if (c === '"') {
      let j = i + 1;
      let value = "";
      for (; j < text.length && text[j] !== '"'; j++) {
        if (text[j] === "\\") j++;
        value += text[j] ?? "";
      }
      if (j >= text.length) break; // cut inside a string
      if (depth === 1 && expectKey) {
        keys.add(value);
        if (keys.size >= maxKeys) break;
      }
      expectKey = false;
      i = j;
    } else if (c === "{" || c === "[") {
      depth++;
      expectKey = c === "{" && depth === 1;
    } else if (c === "}" || c === "]") {
      depth--;
      if (depth <= 0) break;
    } else if (c === ",") {
      expectKey = depth === 1;
    } else if (!" \t\r\n:".includes(c) && depth === 1 && expectKey) {
      return null; // a key that is not a string: not JSON
    }
  }
  return keys;
}

/** Keys that, next to `class_name` and `config`, mark a Keras object (Keras 2 or 3). */
const KERAS_OBJECT_KEYS = [
  "module",
  "registered_name",
  "keras_version",
  "backend",
  "build_config",
  "compile_config",
];

export type KerasJsonKind = "config" | "metadata";

/**
 * `config` for a serialized Keras model (`class_name` + `config`, with Keras' other keys or
 * alone, as HDF5 `model_config` holds it); `metadata` for a `.keras` metadata.json
 * (`keras_version` + `date_saved`); null otherwise.
 */
export function detectKerasJson(head: Uint8Array): KerasJsonKind | null {
  const keys = topLevelKeys(head);
  if (keys === null) return null;
  if (keys.has("class_name") && keys.has("config")) {
    const others = [...keys].filter((k) => k !== "class_name" && k !== "config");
    if (others.length === 0 || KERAS_OBJECT_KEYS.some((k) => keys.has(k))) return "config";
    return null;
  }
  if (keys.has("keras_version") && keys.has("date_saved")) return "metadata";
  return null;
}
