/**
 * Bytes per element of each legacy PyTorch storage class, as `torch._utils._element_size` gives
 * for its dtype. The legacy format writes every storage as an int64 element count followed by
 * count × element size bytes, so this table is what lets us step over tensor data unread.
 */
export const STORAGE_ELEMENT_SIZE: Readonly<Record<string, number>> = Object.freeze({
  DoubleStorage: 8,
  FloatStorage: 4,
  HalfStorage: 2,
  BFloat16Storage: 2,
  LongStorage: 8,
  IntStorage: 4,
  ShortStorage: 2,
  CharStorage: 1,
  ByteStorage: 1,
  BoolStorage: 1,
  ComplexDoubleStorage: 16,
  ComplexFloatStorage: 8,
  QUInt8Storage: 1,
  QInt8Storage: 1,
  QInt32Storage: 4,
  QUInt4x2Storage: 1,
  QUInt2x4Storage: 1,
  UntypedStorage: 1,
});

/** Element size for a storage global such as `torch.FloatStorage`, or undefined if unknown. */
export function storageElementSize(module: string | null, name: string | null): number | undefined {
  if (module === null || name === null) return undefined;
  if (module !== "torch" && module !== "torch.storage" && !module.startsWith("torch.cuda")) {
    return undefined;
  }
  return STORAGE_ELEMENT_SIZE[name];
}
