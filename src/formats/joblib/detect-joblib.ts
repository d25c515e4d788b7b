import { OPCODE_BY_CODE } from "../pickle/opcodes.js";
import type { Probe } from "../types.js";

/**
 * Class names of joblib's array wrappers as they appear in a pickle: GLOBAL writes
 * `joblib.numpy_pickle\nNumpyArrayWrapper\n`, STACK_GLOBAL two separate strings; either way the
 * class name is there once, at the first array. `NDArrayWrapper` also matches `ZNDArrayWrapper`.
 */
const MARKERS: readonly Uint8Array[] = ["NumpyArrayWrapper", "NDArrayWrapper"].map((name) =>
  new TextEncoder().encode(name),
);

function contains(haystack: Uint8Array, needle: Uint8Array): boolean {
  const first = needle[0]!;
  const last = haystack.length - needle.length;
  for (let i = haystack.indexOf(first); i >= 0 && i <= last; i = haystack.indexOf(first, i + 1)) {
    let j = 1;
    while (j < needle.length && haystack[i + j] === needle[j]) j++;
    if (j === needle.length) return true;
  }
  return false;
}

/** Starts the way a pickle does: PROTO, or an opcode of protocol 0 or 1. */
function startsLikePickle(head: Uint8Array): boolean {
  const first = head[0];
  if (first === undefined) return false;
  if (first === 0x80) return true;
  const info = OPCODE_BY_CODE[first];
  return info !== undefined && info.proto <= 1;
}

/**
 * A pickle that names one of joblib's array wrapper classes in its first or last 64 KiB: joblib
 * may have written array data between its opcodes. Pickles without inline arrays are plain
 * pickles (the pickle analyser's job), so the wrapper's name is what decides.
 */
export function detectJoblib(probe: Probe): boolean {
  if (!startsLikePickle(probe.head)) return false;
  return MARKERS.some(
    (m) => contains(probe.head, m) || (probe.tail !== probe.head && contains(probe.tail, m)),
  );
}
