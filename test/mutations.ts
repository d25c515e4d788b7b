import fc from "fast-check";

/**
 * Copies of `base` with up to `maxEdits` bytes overwritten and, when `truncate` is set, cut at a
 * random length (at least one byte): what the format readers' "never throws on hostile input"
 * properties feed them.
 */
export function mutatedCopies(
  base: Uint8Array,
  options: { maxEdits?: number; minEdits?: number; truncate?: boolean } = {},
): fc.Arbitrary<Uint8Array> {
  const edits = fc.array(fc.tuple(fc.nat(base.length - 1), fc.integer({ min: 0, max: 255 })), {
    minLength: options.minEdits ?? 1,
    maxLength: options.maxEdits ?? 8,
  });
  const cut = options.truncate ? fc.nat(base.length) : fc.constant(base.length);
  return fc.tuple(edits, cut).map(([changes, at]) => {
    const bytes = new Uint8Array(base.subarray(0, Math.max(1, at)));
    for (const [i, value] of changes) if (i < bytes.length) bytes[i] = value;
    return bytes;
  });
}
