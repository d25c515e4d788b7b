import { type ProtoField, scanHead } from "./wire-reader.js";

/**
 * Helpers for detecting protobuf messages by content. A protobuf has no magic number, so each
 * format checks that the first bytes parse as a run of fields that its schema allows, with the
 * wire type the schema gives, lengths that fit the file, and a few values (versions, names) in
 * range. Random bytes pass such a check with negligible probability (see the property tests).
 */

/** field number → the wire type the schema gives it. */
export type FieldSchema = ReadonlyMap<number, number>;

/** The top-level fields of the probe if every visible one matches `schema`, else undefined. */
export function fieldsMatching(
  head: Uint8Array,
  size: number,
  schema: FieldSchema,
  truncatable: ReadonlySet<number> = new Set(),
): ProtoField[] | undefined {
  const scanned = scanHead(head, size);
  if (!scanned || scanned.fields.length === 0) return undefined;
  for (const f of scanned.fields) {
    if (schema.get(f.number) !== f.wireType) return undefined;
  }
  // Only a field that holds the bulk of the file (a graph) may run past a truncated file's end.
  if (scanned.truncated && !truncatable.has(scanned.fields.at(-1)!.number)) return undefined;
  return scanned.fields;
}

/** The visible part of a LEN field's payload, scanned as a message of its own. */
export function innerFields(
  head: Uint8Array,
  field: ProtoField,
  schema: FieldSchema,
): ProtoField[] | undefined {
  if (field.start >= head.length) return undefined;
  const visible = head.subarray(field.start, Math.min(field.start + field.length, head.length));
  const scanned = scanHead(visible, field.length);
  if (!scanned || scanned.fields.length === 0 || scanned.truncated) return undefined;
  for (const f of scanned.fields) {
    if (schema.get(f.number) !== f.wireType) return undefined;
  }
  return scanned.fields;
}

const UTF8_FATAL = new TextDecoder("utf-8", { fatal: true });

/**
 * The payload of a LEN field (relative to `base`) as text when it is entirely in `bytes`, valid
 * UTF-8 and free of control characters other than tab/newline; undefined otherwise.
 */
export function visibleText(bytes: Uint8Array, field: ProtoField, base = 0): string | undefined {
  const start = base + field.start;
  const end = start + field.length;
  if (end > bytes.length) return undefined;
  let text: string;
  try {
    text = UTF8_FATAL.decode(bytes.subarray(start, end));
  } catch {
    return undefined;
  }
  // biome-ignore lint/suspicious/noControlCharactersInRegex: rejecting control characters is the point
  return /[\u0000-\u0008\u000b-\u001f\u007f]/.test(text) ? undefined : text;
}
