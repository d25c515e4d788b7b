import { TORCH_STORAGE_ELEMENT_SIZE } from "../../policy/torch-storages.js";

/**
 * Bytes per element of each PyTorch storage class (the policy's table): the legacy format writes
 * every storage as an int64 element count followed by count × element size bytes, so this is
 * what lets us step over tensor data unread.
 */
export const STORAGE_ELEMENT_SIZE = TORCH_STORAGE_ELEMENT_SIZE;

/** Element size for a storage global such as `torch.FloatStorage`, or undefined if unknown. */
export function storageElementSize(module: string | null, name: string | null): number | undefined {
  if (module === null || name === null) return undefined;
  if (module !== "torch" && module !== "torch.storage" && !module.startsWith("torch.cuda")) {
    return undefined;
  }
  return STORAGE_ELEMENT_SIZE[name];
}
