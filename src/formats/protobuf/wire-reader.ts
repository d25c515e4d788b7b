import type { ByteSource } from "../../core/byte-source.js";
import { err, ok, type Result } from "../../core/result.js";

/**
 * A bounded reader of the protobuf wire format, written by hand rather than with protobufjs.
 *
 * Why not protobufjs: its generated/reflected decoders materialise every field of a message
 * (a 2 GB `raw_data` or a packed `float_data` becomes a JS array), recurse without a depth limit
 * and need the whole message in memory. Model files are mostly tensor bytes that must be skipped,
 * not read (DESIGN.md principle 8), and hostile input must not be able to exhaust the stack or
 * the heap (principle 7). This walker visits one message's fields in order, reading only tags and
 * lengths; callers decide which LEN fields to descend into or read (strings, bounded), and
 * everything else is skipped by arithmetic. It reads through a {@link ChunkedReader}, so a
 * multi-gigabyte file costs a few chunks per message header, never its size.
 *
 * Leniency follows the C++/upb parsers TensorFlow, ONNX and onnxruntime use: unknown fields and
 * groups are skipped; repeated or duplicated singular message fields are all visited (the parsers
 * merge them); a truncated field, a zero field number, an unknown wire type or an unmatched
 * END_GROUP fails the whole parse, as it does for the loaders.
 */

export const WIRE_VARINT = 0;
export const WIRE_I64 = 1;
export const WIRE_LEN = 2;
export const WIRE_SGROUP = 3;
export const WIRE_EGROUP = 4;
export const WIRE_I32 = 5;

/** The C++ parser's default nesting limit (`io::CodedInputStream::kDefaultRecursionLimit`). */
export const PROTOBUF_MAX_DEPTH = 100;
/** Fields visited per artifact before analysis stops (fail closed). */
export const PROTOBUF_MAX_FIELDS = 20_000_000;
/** Bytes kept per string read; longer strings are cut (and marked so). */
export const PROTOBUF_MAX_STRING = 64 * 1024;

const MAX_FIELD_NUMBER = 2 ** 29 - 1;
const CHUNK = 64 * 1024;

export interface ProtoField {
  number: number;
  wireType: 0 | 1 | 2 | 5;
  /** Offset of the field's tag in the source. */
  offset: number;
  /** VARINT: the value (exact up to 2^53). Otherwise 0. */
  value: number;
  /** LEN: offset of the payload; I32/I64: offset of the fixed bytes. */
  start: number;
  /** LEN: payload length; I32: 4; I64: 8; VARINT: 0. */
  length: number;
}

export interface ProtoError {
  message: string;
  offset: number;
  /** A limit was reached (depth, field count) rather than the bytes being malformed. */
  limit?: boolean;
}

/** Shared per-artifact allowance of visited fields. */
export interface WalkBudget {
  fields: number;
}

export function createWalkBudget(fields: number = PROTOBUF_MAX_FIELDS): WalkBudget {
  return { fields };
}

/**
 * Random access through one cached chunk: headers of nearby fields cost one read of the source.
 * Reads longer than a chunk go to the source directly. Bytes returned are owned by the caller
 * only until the next call (copy to keep them).
 */
export class ChunkedReader {
  private chunkStart = 0;
  private chunk: Uint8Array = new Uint8Array(0);

  constructor(
    readonly source: ByteSource,
    private readonly chunkSize: number = CHUNK,
  ) {}

  get size(): number {
    return this.source.size;
  }

  /** Bytes `[offset, offset + length)`, clipped at the end of the source. */
  async read(offset: number, length: number): Promise<Uint8Array> {
    const end = Math.min(offset + length, this.source.size);
    if (offset >= end) return new Uint8Array(0);
    const cached = this.chunkStart + this.chunk.length;
    if (offset >= this.chunkStart && end <= cached) {
      return this.chunk.subarray(offset - this.chunkStart, end - this.chunkStart);
    }
    if (end - offset > this.chunkSize)
      return (await this.source.read(offset, end - offset)).slice();
    this.chunk = (await this.source.read(offset, this.chunkSize)).slice();
    this.chunkStart = offset;
    return this.chunk.subarray(0, Math.min(end - offset, this.chunk.length));
  }
}

/** A varint at `pos` in `buf`: its value (exact up to 2^53) and byte length, or undefined. */
export function decodeVarint(
  buf: Uint8Array,
  pos: number,
): { value: number; length: number } | undefined {
  let value = 0;
  let scale = 1;
  for (let i = 0; i < 10; i++) {
    const byte = buf[pos + i];
    if (byte === undefined) return undefined;
    value += (byte & 0x7f) * scale;
    scale *= 128;
    if ((byte & 0x80) === 0) return { value, length: i + 1 };
  }
  return undefined;
}

interface Header {
  number: number;
  wireType: number;
  /** Bytes of tag (and length varint for LEN). */
  headerLength: number;
  value: number;
  length: number;
}

/** Tag (+ length or varint value) at the start of `buf`. */
function readHeader(buf: Uint8Array): Result<Header, string> {
  const tag = decodeVarint(buf, 0);
  if (!tag || tag.length > 5 || tag.value > 0xffffffff) return err("bad tag varint");
  const number = Math.floor(tag.value / 8);
  const wireType = tag.value % 8;
  if (number === 0 || number > MAX_FIELD_NUMBER) return err(`invalid field number ${number}`);
  if (wireType === WIRE_VARINT) {
    const v = decodeVarint(buf, tag.length);
    if (!v) return err(`truncated varint in field ${number}`);
    return ok({ number, wireType, headerLength: tag.length + v.length, value: v.value, length: 0 });
  }
  if (wireType === WIRE_LEN) {
    const len = decodeVarint(buf, tag.length);
    if (!len) return err(`truncated length of field ${number}`);
    if (len.value > 0x7fffffff) return err(`length ${len.value} of field ${number} exceeds 2 GiB`);
    return ok({
      number,
      wireType,
      headerLength: tag.length + len.length,
      value: 0,
      length: len.value,
    });
  }
  if (wireType === WIRE_I64)
    return ok({ number, wireType, headerLength: tag.length, value: 0, length: 8 });
  if (wireType === WIRE_I32)
    return ok({ number, wireType, headerLength: tag.length, value: 0, length: 4 });
  if (wireType === WIRE_SGROUP || wireType === WIRE_EGROUP) {
    return ok({ number, wireType, headerLength: tag.length, value: 0, length: 0 });
  }
  return err(`unknown wire type ${wireType} in field ${number}`);
}

/**
 * Visits the fields of the message at `[start, end)` in order. `visit` may descend into LEN
 * fields (call `walkMessage` again with `depth + 1`) or read them. Groups are skipped with their
 * contents. Returns the first structural error (or limit) met, the visitor's included.
 */
export async function walkMessage(
  reader: ChunkedReader,
  start: number,
  end: number,
  depth: number,
  budget: WalkBudget,
  visit: (field: ProtoField) => undefined | ProtoError | Promise<undefined | ProtoError>,
): Promise<ProtoError | undefined> {
  if (depth > PROTOBUF_MAX_DEPTH) {
    return {
      message: `messages nested deeper than ${PROTOBUF_MAX_DEPTH}`,
      offset: start,
      limit: true,
    };
  }
  if (end > reader.size) return { message: "message runs past the end of the file", offset: start };
  let pos = start;
  const groups: number[] = [];
  while (pos < end) {
    if (--budget.fields < 0) {
      return {
        message: `more than ${PROTOBUF_MAX_FIELDS} protobuf fields`,
        offset: pos,
        limit: true,
      };
    }
    const buf = await reader.read(pos, Math.min(20, end - pos));
    const header = readHeader(buf);
    if (!header.ok) return { message: header.error, offset: pos };
    const h = header.value;
    const valueStart = pos + h.headerLength;
    if (valueStart > end) return { message: `field ${h.number} truncated`, offset: pos };
    if (h.wireType === WIRE_SGROUP) {
      if (depth + groups.length >= PROTOBUF_MAX_DEPTH) {
        return {
          message: `groups nested deeper than ${PROTOBUF_MAX_DEPTH}`,
          offset: pos,
          limit: true,
        };
      }
      groups.push(h.number);
      pos = valueStart;
      continue;
    }
    if (h.wireType === WIRE_EGROUP) {
      if (groups.pop() !== h.number)
        return { message: `unmatched END_GROUP ${h.number}`, offset: pos };
      pos = valueStart;
      continue;
    }
    const valueEnd = valueStart + h.length;
    if (valueEnd > end) return { message: `field ${h.number} runs past its message`, offset: pos };
    if (groups.length === 0) {
      const failed = await visit({
        number: h.number,
        wireType: h.wireType as 0 | 1 | 2 | 5,
        offset: pos,
        value: h.value,
        start: valueStart,
        length: h.length,
      });
      if (failed) return failed;
    }
    pos = valueEnd;
  }
  if (groups.length > 0) return { message: `group ${groups.at(-1)} never ends`, offset: end };
  return undefined;
}

const UTF8 = new TextDecoder("utf-8", { fatal: false });

/** A LEN field's payload as text, cut at `max` bytes. */
export async function readString(
  reader: ChunkedReader,
  field: ProtoField,
  max: number = PROTOBUF_MAX_STRING,
): Promise<{ text: string; truncated: boolean }> {
  const n = Math.min(field.length, max);
  const bytes = await reader.read(field.start, n);
  return { text: UTF8.decode(bytes), truncated: field.length > max };
}

/** A LEN field's payload bytes (a copy), or undefined when longer than `max`. */
export async function readBytes(
  reader: ChunkedReader,
  field: ProtoField,
  max: number,
): Promise<Uint8Array | undefined> {
  if (field.length > max) return undefined;
  return (await reader.read(field.start, field.length)).slice();
}

/**
 * Walks the top-level fields of an in-memory prefix of a message (the detection probe): returns
 * the fields whose headers lie in `head`, stopping at the first field that runs past `head`
 * (which is fine: its length was checked against `size`). Returns undefined if any header is
 * malformed or a length exceeds the file. Synchronous and cheap, for `detect`.
 */
export function scanHead(
  head: Uint8Array,
  size: number,
  maxFields = 64,
): { fields: ProtoField[]; complete: boolean; truncated: boolean } | undefined {
  const fields: ProtoField[] = [];
  let pos = 0;
  let truncated = false;
  while (pos < head.length && fields.length < maxFields) {
    // A header cut by the end of the probe is not an error: stop there.
    if (head.length < size && pos + 20 > head.length) break;
    const header = readHeader(head.subarray(pos, pos + 20));
    if (!header.ok) return undefined;
    const h = header.value;
    if (h.wireType === WIRE_SGROUP || h.wireType === WIRE_EGROUP) return undefined;
    const start = pos + h.headerLength;
    if (h.wireType === WIRE_VARINT && start > head.length) return undefined;
    const field: ProtoField = {
      number: h.number,
      wireType: h.wireType as 0 | 1 | 2 | 5,
      offset: pos,
      value: h.value,
      start,
      length: h.length,
    };
    if (start + h.length > size) {
      // A LEN field running past the end of the file: a truncated file. Reported (the caller
      // decides whether a truncated message of its kind is still recognisable), and scanning ends.
      if (h.wireType !== WIRE_LEN) return undefined;
      fields.push(field);
      truncated = true;
      break;
    }
    fields.push(field);
    pos = start + h.length;
  }
  return { fields, complete: pos === size, truncated };
}

/** Fields of a small message held in memory (e.g. a nested message inside the probe). */
export function scanBytes(bytes: Uint8Array, maxFields = 256): ProtoField[] | undefined {
  const out = scanHead(bytes, bytes.length, maxFields);
  if (!out || out.truncated) return undefined;
  return out.fields;
}
