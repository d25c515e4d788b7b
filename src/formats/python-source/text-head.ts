import { OPCODE_BY_CODE } from "../pickle/opcodes.js";

const STRICT_UTF8 = new TextDecoder("utf-8", { fatal: true });

/** C0 control characters a text file may hold: tab, line feed, vertical tab, form feed, return. */
const TEXT_CONTROLS: ReadonlySet<number> = new Set([0x09, 0x0a, 0x0b, 0x0c, 0x0d]);

/**
 * The head of an artifact as text, or `null` when it is not text: a NUL or other C0 control byte
 * (tab, newlines and form feed aside), or invalid UTF-8. When the head is only the start of a
 * longer file, a multi-byte character cut at its end is allowed. A UTF-8 BOM is dropped.
 */
export function decodeTextHead(head: Uint8Array, truncated: boolean): string | null {
  for (const byte of head) {
    if (byte < 0x20 && !TEXT_CONTROLS.has(byte)) return null;
  }
  // A cut character is at most 3 bytes of a 4-byte sequence.
  const cuts = truncated ? 3 : 0;
  for (let cut = 0; cut <= cuts && cut < head.length; cut++) {
    try {
      return STRICT_UTF8.decode(head.subarray(0, head.length - cut));
    } catch {
      // try one byte shorter
    }
  }
  return head.length === 0 ? "" : null;
}

/** Opcodes that need something on the stack, the mark stack or the memo: on an empty machine they fail. */
const FAIL_ON_EMPTY = new Set(".012Rabdehjloqrstu".split("").map((c) => c.charCodeAt(0)));
const MODULE_PATH = /^[A-Za-z0-9_.]*$/;
const INTEGER = /^\s*[+-]?\d[\d_]*\s*$/;

/**
 * True when a pickle loader given these bytes would fail on the very first opcode, before doing
 * anything — so a text analyser may claim the file without hiding a pickle from the pickle
 * analyser (DESIGN.md principle 3: a text file that is also a working pickle is a pickle).
 * - a first byte that is no protocol 0/1 opcode: the pickle detector does not claim it either;
 * - an opcode that pops from an empty stack, mark stack or memo (`d` DICT for `def`, `a` APPEND…);
 * - `c` GLOBAL / `i` INST whose module (the rest of the line) holds a character no module path
 *   has (`class Foo(nn.Module):`, `import os`): the import fails;
 * - `p` PUT / `g` GET whose argument is not an integer.
 * Anything else (`V`, `S`, `I`… push a value and the stream goes on) is not inert.
 */
export function pickleFailsOnFirstOpcode(bytes: Uint8Array): boolean {
  const first = bytes[0];
  if (first === undefined) return true;
  const info = OPCODE_BY_CODE[first];
  if (first !== 0x80 && (info === undefined || info.proto > 1)) return true;
  if (FAIL_ON_EMPTY.has(first)) return true;
  const lineEnd = bytes.indexOf(0x0a);
  const rest = new TextDecoder().decode(bytes.subarray(1, lineEnd < 0 ? bytes.length : lineEnd));
  if (first === 0x63 /* c */ || first === 0x69 /* i */) return !MODULE_PATH.test(rest);
  if (first === 0x70 /* p */ || first === 0x67 /* g */) return !INTEGER.test(rest);
  return false;
}
