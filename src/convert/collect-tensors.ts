/**
 * Turns the value a checkpoint's pickle returns into named tensors, Hugging Face style: nested
 * dicts are flattened with `.` (`{"encoder": {"weight": t}}` → `encoder.weight`). Wrappers such as
 * `{"state_dict": …}` or `{"model": …}` are not unwrapped: their key stays in the names, so that
 * nothing is silently renamed. Anything that is not a tensor, an array or a dict of them is
 * refused, or with `dropNonTensors` listed as dropped.
 */

import type { ArrayVal, TensorVal, Val } from "./restricted-pickle.js";
import type { DroppedValue, Refusal } from "./types.js";

export interface NamedValue {
  name: string;
  value: TensorVal | ArrayVal;
}

export interface Collected {
  tensors: NamedValue[];
  dropped: DroppedValue[];
}

/** Nesting of dicts followed; deeper is refused. */
const MAX_DEPTH = 64;

function describe(v: Val): { reason: string; offset?: number } {
  switch (v.k) {
    case "opaque":
      return { reason: `built by ${v.what}, not a tensor`, offset: v.at };
    case "int":
    case "float":
    case "bool":
      return { reason: `a Python ${v.k} (${String(v.v)}), not a tensor` };
    case "str":
      return { reason: "a string, not a tensor" };
    case "none":
      return { reason: "None, not a tensor" };
    case "tuple":
    case "list":
    case "set":
      return { reason: `a ${v.k} of ${v.items.length} items, not a tensor` };
    case "storage":
      return { reason: "a bare storage, not a tensor", offset: v.at };
    case "joblib-wrapper":
      return { reason: "a joblib array wrapper without data", offset: v.at };
    case "ndarray":
      return { reason: "a NumPy array without its state", offset: v.at };
    default:
      return { reason: `a ${v.k}, not a tensor` };
  }
}

/** The tensors under `root`, or the refusal for the first value that is not one. */
export function collectTensors(
  root: Val,
  options: { dropNonTensors: boolean; rootName: string },
): { ok: true; value: Collected } | { ok: false; error: Refusal } {
  const tensors: NamedValue[] = [];
  const dropped: DroppedValue[] = [];
  const seen = new Set<string>();
  let refusal: Refusal | undefined;

  const reject = (name: string, reason: string, offset?: number): void => {
    if (options.dropNonTensors) {
      dropped.push({ name, reason });
      return;
    }
    refusal ??= {
      reason: `"${name}" is ${reason}; modelvet converts only tensors (--drop-non-tensors leaves such values out)`,
      ...(offset === undefined ? {} : { offset }),
    };
  };

  const visit = (v: Val, name: string, depth: number): void => {
    if (refusal) return;
    if (v.k === "dict") {
      if (depth > MAX_DEPTH) {
        refusal = { reason: `dicts nested deeper than ${MAX_DEPTH} levels at "${name}"` };
        return;
      }
      for (const [key, value] of v.entries) {
        const part = key.k === "str" ? key.v : key.k === "int" ? String(key.v) : undefined;
        if (part === undefined) {
          reject(`${name}[?]`, `a value under a ${key.k} key (keys must be strings)`);
          continue;
        }
        visit(value, name === "" ? part : `${name}.${part}`, depth + 1);
      }
      return;
    }
    const label = name === "" ? options.rootName : name;
    if (v.k === "tensor") {
      if (v.storage.dtype === undefined) {
        reject(label, `a tensor of ${v.storage.dtypeRefusal ?? "an unknown type"}`, v.at);
        return;
      }
    } else if (v.k === "ndarray" && v.state !== undefined) {
      if (typeof v.state.element === "string") {
        reject(label, `an array of ${v.state.element}`, v.at);
        return;
      }
    } else {
      const d = describe(v);
      reject(label, d.reason, d.offset);
      return;
    }
    if (seen.has(label)) {
      refusal = { reason: `two tensors would both be named "${label}" once flattened` };
      return;
    }
    seen.add(label);
    tensors.push({ name: label, value: v });
  };

  visit(root, "", 0);
  if (refusal) return { ok: false, error: refusal };
  return { ok: true, value: { tensors, dropped } };
}
