/**
 * The dtypes a safetensors file can hold, and how PyTorch storage classes and NumPy type strings
 * map onto them. Data only: what is not here is refused with the reason in {@link REFUSED_DTYPES}.
 */

/** safetensors dtype names (the `dtype` field of its JSON header). */
export type SafetensorsDtype =
  | "F64"
  | "F32"
  | "F16"
  | "BF16"
  | "F8_E4M3"
  | "F8_E5M2"
  | "I64"
  | "I32"
  | "I16"
  | "I8"
  | "U64"
  | "U32"
  | "U16"
  | "U8"
  | "BOOL";

/** Bytes per element of each safetensors dtype. */
export const DTYPE_SIZE: Readonly<Record<SafetensorsDtype, number>> = Object.freeze({
  F64: 8,
  F32: 4,
  F16: 2,
  BF16: 2,
  F8_E4M3: 1,
  F8_E5M2: 1,
  I64: 8,
  I32: 4,
  I16: 2,
  I8: 1,
  U64: 8,
  U32: 4,
  U16: 2,
  U8: 1,
  BOOL: 1,
});

/**
 * PyTorch storage classes (`torch.FloatStorage`, as the persistent id names them) → dtype. The
 * float8 and unsigned classes are those newer torch versions pickle (`StorageType(name)` in
 * `torch.serialization` resolves any `*Storage` name).
 */
export const STORAGE_DTYPE: Readonly<Record<string, SafetensorsDtype>> = Object.freeze({
  DoubleStorage: "F64",
  FloatStorage: "F32",
  HalfStorage: "F16",
  BFloat16Storage: "BF16",
  Float8_e4m3fnStorage: "F8_E4M3",
  Float8_e5m2Storage: "F8_E5M2",
  LongStorage: "I64",
  IntStorage: "I32",
  ShortStorage: "I16",
  CharStorage: "I8",
  UInt64Storage: "U64",
  UInt32Storage: "U32",
  UInt16Storage: "U16",
  ByteStorage: "U8",
  BoolStorage: "BOOL",
});

/** Storage classes modelvet knows but safetensors cannot hold, with the reason. */
export const REFUSED_DTYPES: Readonly<Record<string, string>> = Object.freeze({
  ComplexDoubleStorage: "complex128 tensors: safetensors has no complex dtype",
  ComplexFloatStorage: "complex64 tensors: safetensors has no complex dtype",
  ComplexHalfStorage: "complex32 tensors: safetensors has no complex dtype",
  Float8_e4m3fnuzStorage: "float8_e4m3fnuz tensors: safetensors has no such dtype",
  Float8_e5m2fnuzStorage: "float8_e5m2fnuz tensors: safetensors has no such dtype",
  QUInt8Storage: "quantized tensors (quint8): their scale and zero point have no safetensors form",
  QInt8Storage: "quantized tensors (qint8): their scale and zero point have no safetensors form",
  QInt32Storage: "quantized tensors (qint32): their scale and zero point have no safetensors form",
  QUInt4x2Storage: "quantized tensors (quint4x2): no safetensors form",
  QUInt2x4Storage: "quantized tensors (quint2x4): no safetensors form",
  UntypedStorage: "an untyped storage: the element type is unknown",
});

/** NumPy kind letter + item size (`f4`, `u1`, `b1`) → dtype. */
const NUMPY_DTYPE: Readonly<Record<string, SafetensorsDtype>> = Object.freeze({
  f8: "F64",
  f4: "F32",
  f2: "F16",
  i8: "I64",
  i4: "I32",
  i2: "I16",
  i1: "I8",
  u8: "U64",
  u4: "U32",
  u2: "U16",
  u1: "U8",
  b1: "BOOL",
});

/** One-character NumPy type codes (64-bit Linux sizes) → kind letter + size. */
const NUMPY_CHAR: Readonly<Record<string, string>> = Object.freeze({
  "?": "b1",
  b: "i1",
  B: "u1",
  h: "i2",
  H: "u2",
  i: "i4",
  I: "u4",
  l: "i8",
  L: "u8",
  q: "i8",
  Q: "u8",
  e: "f2",
  f: "f4",
  d: "f8",
});

const NUMPY_NAMED: Readonly<Record<string, string>> = Object.freeze({
  bool: "b1",
  bool_: "b1",
  int8: "i1",
  uint8: "u1",
  int16: "i2",
  uint16: "u2",
  int32: "i4",
  uint32: "u4",
  int64: "i8",
  uint64: "u8",
  float16: "f2",
  float32: "f4",
  float64: "f8",
});

/** A NumPy element type as safetensors needs it. */
export interface NumpyElement {
  dtype: SafetensorsDtype;
  /** True when the data is big-endian (`>`), so it must be byte-swapped. */
  bigEndian: boolean;
}

/**
 * A NumPy type string (`<f4`, `>i8`, `|b1`, `?`, `float32`) with an optional byte-order override
 * (a pickled dtype's BUILD state carries it apart). Returns the reason when it cannot be converted.
 */
export function numpyElement(text: string, byteOrder?: string): NumpyElement | string {
  const m = /^([<>|=!])?([a-zA-Z?][a-zA-Z0-9_]*)$/.exec(text);
  if (m === null) return `NumPy dtype ${JSON.stringify(text)} (structured or not understood)`;
  const order = byteOrder ?? m[1] ?? "=";
  let code = m[2]!;
  code = NUMPY_NAMED[code] ?? NUMPY_CHAR[code] ?? code;
  if (
    /^c\d/.test(code) ||
    code === "F" ||
    code === "D" ||
    code === "G" ||
    code.startsWith("complex")
  ) {
    return `NumPy dtype ${JSON.stringify(text)}: safetensors has no complex dtype`;
  }
  const dtype = NUMPY_DTYPE[code];
  if (dtype === undefined) {
    return `NumPy dtype ${JSON.stringify(text)}: safetensors has no such numeric type`;
  }
  return { dtype, bigEndian: order === ">" || order === "!" };
}
