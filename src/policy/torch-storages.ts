/**
 * PyTorch's storage classes, as checkpoints name them in persistent ids (`torch.FloatStorage`),
 * with the bytes per element of each — one table for the policy (which allows them), the
 * PyTorch readers (which step over storages by size) and the converter (which maps them to
 * dtypes). `torch.load` resolves any `*Storage` name to `StorageType(name)`, a tag for the dtype,
 * so newer dtypes (float8, unsigned) appear as classes that `torch` itself does not define.
 */
export const TORCH_STORAGE_ELEMENT_SIZE: Readonly<Record<string, number>> = Object.freeze({
  DoubleStorage: 8,
  FloatStorage: 4,
  HalfStorage: 2,
  BFloat16Storage: 2,
  Float8_e4m3fnStorage: 1,
  Float8_e5m2Storage: 1,
  Float8_e4m3fnuzStorage: 1,
  Float8_e5m2fnuzStorage: 1,
  LongStorage: 8,
  IntStorage: 4,
  ShortStorage: 2,
  CharStorage: 1,
  ByteStorage: 1,
  UInt16Storage: 2,
  UInt32Storage: 4,
  UInt64Storage: 8,
  BoolStorage: 1,
  ComplexDoubleStorage: 16,
  ComplexFloatStorage: 8,
  ComplexHalfStorage: 4,
  QUInt8Storage: 1,
  QInt8Storage: 1,
  QInt32Storage: 4,
  QUInt4x2Storage: 1,
  QUInt2x4Storage: 1,
  UntypedStorage: 1,
});

/** The classes old GPU checkpoints name under `torch.cuda` (no quantized or newer dtypes). */
export const TORCH_CUDA_STORAGES: readonly string[] = Object.freeze([
  "DoubleStorage",
  "FloatStorage",
  "HalfStorage",
  "BFloat16Storage",
  "LongStorage",
  "IntStorage",
  "ShortStorage",
  "CharStorage",
  "ByteStorage",
  "BoolStorage",
  "ComplexDoubleStorage",
  "ComplexFloatStorage",
]);
