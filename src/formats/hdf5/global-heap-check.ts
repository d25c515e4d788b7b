/**
 * A check, before libhdf5 sees the bytes, of the one structure known to hang it: a global heap
 * collection (`GCOL`, where variable-length strings such as Keras' `model_config` live). libhdf5
 * walks a collection's objects by each object's declared size, and an object whose index is 0
 * (free space) with size 0 never advances the walk — an endless loop inside WebAssembly that
 * nothing can interrupt. So every collection in the file is walked here first, by the same steps,
 * and a file whose walk would not advance is refused instead (fail closed).
 */

const GCOL = [0x47, 0x43, 0x4f, 0x4c] as const;
/** Signature, version, 3 reserved bytes, then the collection size (a "length"). */
const HEADER_BEFORE_SIZE = 8;
/** Collections walked before the check gives up (and refuses the file). */
export const MAX_HEAP_COLLECTIONS = 10_000;
/** Objects walked per collection before the check gives up (and refuses the file). */
export const MAX_HEAP_OBJECTS = 1_000_000;

/** Bytes of a "length" field: from the superblock at `base` (versions 0–3), else 8. */
export function lengthSize(bytes: Uint8Array, base: number): number {
  const version = bytes[base + 8];
  const at = version === 0 || version === 1 ? base + 14 : base + 10;
  const size = bytes[at];
  return size === 2 || size === 4 || size === 8 ? size : 8;
}

function readLength(bytes: Uint8Array, at: number, size: number): number {
  let value = 0;
  for (let i = size - 1; i >= 0; i--) value = value * 256 + (bytes[at + i] ?? 0);
  return value;
}

/**
 * Walks every global heap collection in `bytes` as libhdf5 would. Returns a description of the
 * first one whose walk would never end, or `null` when none would.
 */
export function findEndlessHeapWalk(bytes: Uint8Array, superblockAt: number): string | null {
  const lengthBytes = lengthSize(bytes, superblockAt);
  const objectHeader = 8 + lengthBytes;
  let collections = 0;
  for (let at = bytes.indexOf(GCOL[0]); at >= 0; at = bytes.indexOf(GCOL[0], at + 1)) {
    if (!GCOL.every((b, i) => bytes[at + i] === b)) continue;
    if (++collections > MAX_HEAP_COLLECTIONS) {
      return `more than ${MAX_HEAP_COLLECTIONS} global heap collections`;
    }
    const size = readLength(bytes, at + HEADER_BEFORE_SIZE, lengthBytes);
    const end = at + size;
    let p = at + HEADER_BEFORE_SIZE + lengthBytes;
    let objects = 0;
    while (p < end) {
      if (++objects > MAX_HEAP_OBJECTS) {
        return `a global heap collection at byte ${at} with more than ${MAX_HEAP_OBJECTS} objects`;
      }
      if (p + objectHeader > end) break; // the tail is taken as free space in one step
      const index = (bytes[p] ?? 0) | ((bytes[p + 1] ?? 0) << 8);
      const objectSize = readLength(bytes, p + 8, lengthBytes);
      const need = index > 0 ? objectHeader + Math.ceil(objectSize / 8) * 8 : objectSize;
      if (need <= 0) {
        return `a global heap collection at byte ${at} whose free-space object at byte ${p} has size 0, which makes the HDF5 library loop forever`;
      }
      p += need;
    }
  }
  return null;
}
