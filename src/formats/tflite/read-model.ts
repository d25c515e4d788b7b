import type { ByteSource } from "../../core/byte-source.js";
import { err, ok, type Result } from "../../core/result.js";
import { ChunkedReader } from "../protobuf/wire-reader.js";

/**
 * A bounded reader of the parts of a TFLite FlatBuffer (tensorflow/lite/schema/schema.fbs) that
 * say which operators a model needs: `Model.operator_codes` (field 1), each `OperatorCode`'s
 * `deprecated_builtin_code` (0, int8), `custom_code` (1, string), `version` (2) and
 * `builtin_code` (3, int32), plus `Model.version` (0) and `description` (3). Every offset is
 * checked against the file before it is followed; nothing else (tensors, buffers) is read.
 */

export const TFLITE_IDENTIFIER = "TFL3";
/** BuiltinOperator.CUSTOM. */
export const TFLITE_CUSTOM = 32;
/** Operator codes read; more is reported as a limit. */
export const TFLITE_MAX_OPERATOR_CODES = 10_000;
const MAX_STRING = 1024;

export interface TfliteOperatorCode {
  index: number;
  /** max(builtin_code, deprecated_builtin_code), as the interpreter computes it. */
  builtinCode: number;
  customCode?: string;
  version: number;
  offset: number;
}

export interface TfliteModelInfo {
  version?: number;
  description?: string;
  operatorCodes: TfliteOperatorCode[];
  operatorCodeCount: number;
}

export interface TfliteError {
  message: string;
  offset: number;
  limit?: boolean;
}

class Bytes {
  constructor(private readonly reader: ChunkedReader) {}

  get size(): number {
    return this.reader.size;
  }

  private async at(offset: number, n: number): Promise<DataView | undefined> {
    if (!Number.isSafeInteger(offset) || offset < 0 || offset + n > this.reader.size)
      return undefined;
    const b = await this.reader.read(offset, n);
    if (b.length < n) return undefined;
    return new DataView(b.buffer, b.byteOffset, n);
  }

  async i8(o: number) {
    return (await this.at(o, 1))?.getInt8(0);
  }
  async u16(o: number) {
    return (await this.at(o, 2))?.getUint16(0, true);
  }
  async i32(o: number) {
    return (await this.at(o, 4))?.getInt32(0, true);
  }
  async u32(o: number) {
    return (await this.at(o, 4))?.getUint32(0, true);
  }
  async text(o: number, n: number): Promise<string | undefined> {
    if (o < 0 || o + n > this.reader.size) return undefined;
    const b = await this.reader.read(o, n);
    return new TextDecoder("utf-8", { fatal: false }).decode(b);
  }
}

/** A table: its position and where each field lives (0 = absent). */
interface Table {
  pos: number;
  fieldOffsets: number[];
}

async function readTable(bytes: Bytes, pos: number): Promise<Result<Table, TfliteError>> {
  const soffset = await bytes.i32(pos);
  if (soffset === undefined) return err({ message: "table outside the file", offset: pos });
  const vtable = pos - soffset;
  const vsize = await bytes.u16(vtable);
  const tsize = await bytes.u16(vtable + 2);
  if (vsize === undefined || tsize === undefined || vsize < 4 || vsize % 2 !== 0) {
    return err({ message: "bad vtable", offset: pos });
  }
  if (pos + tsize > bytes.size) return err({ message: "table runs past the end", offset: pos });
  const fieldOffsets: number[] = [];
  for (let i = 0; 4 + 2 * i < vsize && i < 64; i++) {
    const fo = await bytes.u16(vtable + 4 + 2 * i);
    if (fo === undefined) return err({ message: "vtable runs past the end", offset: vtable });
    if (fo !== 0 && fo >= tsize)
      return err({ message: `field ${i} outside its table`, offset: pos });
    fieldOffsets.push(fo);
  }
  return ok({ pos, fieldOffsets });
}

function fieldPos(t: Table, i: number): number | undefined {
  const fo = t.fieldOffsets[i];
  return fo ? t.pos + fo : undefined;
}

/** A uoffset at `at` followed to its target. */
async function follow(bytes: Bytes, at: number): Promise<Result<number, TfliteError>> {
  const rel = await bytes.u32(at);
  if (rel === undefined || at + rel >= bytes.size) {
    return err({ message: "offset points outside the file", offset: at });
  }
  return ok(at + rel);
}

async function readString(bytes: Bytes, at: number): Promise<Result<string, TfliteError>> {
  const s = await follow(bytes, at);
  if (!s.ok) return s;
  const len = await bytes.u32(s.value);
  if (len === undefined || s.value + 4 + len > bytes.size) {
    return err({ message: "string runs past the end", offset: s.value });
  }
  const text = await bytes.text(s.value + 4, Math.min(len, MAX_STRING));
  return text === undefined ? err({ message: "bad string", offset: s.value }) : ok(text);
}

/** Reads the Model table's operator codes. `error` holds the first fault; `info` what came before. */
export async function readTfliteModel(
  source: ByteSource,
): Promise<{ info: TfliteModelInfo; error?: TfliteError }> {
  const bytes = new Bytes(new ChunkedReader(source));
  const info: TfliteModelInfo = { operatorCodes: [], operatorCodeCount: 0 };
  const fail = (error: TfliteError) => ({ info, error });
  if (source.size < 8) return fail({ message: "shorter than a FlatBuffer header", offset: 0 });
  const root = await follow(bytes, 0);
  if (!root.ok) return fail(root.error);
  const model = await readTable(bytes, root.value);
  if (!model.ok) return fail(model.error);

  const versionAt = fieldPos(model.value, 0);
  if (versionAt !== undefined) info.version = await bytes.u32(versionAt);
  const descriptionAt = fieldPos(model.value, 3);
  if (descriptionAt !== undefined) {
    const d = await readString(bytes, descriptionAt);
    if (!d.ok) return fail(d.error);
    info.description = d.value;
  }

  const codesAt = fieldPos(model.value, 1);
  if (codesAt === undefined) return { info };
  const vector = await follow(bytes, codesAt);
  if (!vector.ok) return fail(vector.error);
  const count = await bytes.u32(vector.value);
  if (count === undefined || vector.value + 4 + 4 * count > source.size) {
    return fail({ message: "operator_codes vector runs past the end", offset: vector.value });
  }
  info.operatorCodeCount = count;
  const n = Math.min(count, TFLITE_MAX_OPERATOR_CODES);
  for (let i = 0; i < n; i++) {
    const element = vector.value + 4 + 4 * i;
    const tablePos = await follow(bytes, element);
    if (!tablePos.ok) return fail(tablePos.error);
    const table = await readTable(bytes, tablePos.value);
    if (!table.ok) return fail(table.error);
    const deprecatedAt = fieldPos(table.value, 0);
    const customAt = fieldPos(table.value, 1);
    const opVersionAt = fieldPos(table.value, 2);
    const builtinAt = fieldPos(table.value, 3);
    const deprecated = deprecatedAt === undefined ? 0 : ((await bytes.i8(deprecatedAt)) ?? 0);
    const builtin = builtinAt === undefined ? 0 : ((await bytes.i32(builtinAt)) ?? 0);
    const code: TfliteOperatorCode = {
      index: i,
      builtinCode: Math.max(deprecated, builtin),
      version: opVersionAt === undefined ? 1 : ((await bytes.i32(opVersionAt)) ?? 1),
      offset: tablePos.value,
    };
    if (customAt !== undefined) {
      const custom = await readString(bytes, customAt);
      if (!custom.ok) return fail(custom.error);
      code.customCode = custom.value;
    }
    info.operatorCodes.push(code);
  }
  if (count > n) {
    return fail({
      message: `${count} operator codes, more than the ${TFLITE_MAX_OPERATOR_CODES} read`,
      offset: vector.value,
      limit: true,
    });
  }
  return { info };
}
