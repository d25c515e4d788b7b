import type { ZipEntry } from "./zip-reader.js";

/**
 * The layout `torch.save` writes: `<root>/data.pkl` (the pickle), `<root>/data/<key>` (raw tensor
 * storage, never unpickled, never read by us), `<root>/version`, `<root>/byteorder`, … PyTorch
 * takes `<root>` from the first member's top-level folder; we accept any `<root>/data.pkl` so that
 * every pickle a loader could pick is analysed.
 */
export interface PytorchLayout {
  /** Top-level folders holding a `data.pkl`, e.g. `archive`. */
  roots: string[];
  /** The `<root>/data.pkl` entries. */
  pickles: ZipEntry[];
}

const DATA_PKL = /^([^/]+)\/data\.pkl$/;

/** The PyTorch layout of a zip, or undefined when no `<root>/data.pkl` exists. */
export function findPytorchLayout(entries: readonly ZipEntry[]): PytorchLayout | undefined {
  const roots = new Set<string>();
  const pickles: ZipEntry[] = [];
  for (const e of entries) {
    const m = DATA_PKL.exec(e.name);
    if (m) {
      roots.add(m[1]!);
      pickles.push(e);
    }
  }
  return pickles.length === 0 ? undefined : { roots: [...roots], pickles };
}

/** True for `<root>/data/…` members: raw tensor bytes PyTorch maps, never unpickles. */
export function isTensorStorage(layout: PytorchLayout, entry: ZipEntry): boolean {
  return !entry.isDirectory && layout.roots.some((root) => entry.name.startsWith(`${root}/data/`));
}
