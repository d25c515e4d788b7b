/**
 * Reads what matters in an HDF5 file — the root group's attributes and the links between groups —
 * with `h5wasm` (the HDF5 C library compiled to WebAssembly). Tensor data is never read.
 *
 * Why the bytes go through h5wasm's file system: libhdf5 reads files by path. The bytes are
 * written into Emscripten's MEMFS — memory inside the module, never the real disk — opened
 * read-only, and removed again. Everything between writing and removing is synchronous, so
 * concurrent scans cannot see each other's files. The module is imported lazily (4 MB) and once;
 * its HDF5 error handler is switched to throwing, so errors become values here and nothing is
 * printed. External links are listed, never followed.
 */

import { err, ok, type Result } from "../../core/result.js";

/** HDF5 objects (groups, datasets, links) visited before the walk stops. */
export const HDF5_MAX_OBJECTS = 100_000;
/** Deepest group nesting walked. */
export const HDF5_MAX_DEPTH = 64;

export interface Hdf5Attribute {
  name: string;
  /** `string` for a scalar string, `strings` for an array of strings, else `other`. */
  kind: "string" | "strings" | "other";
  /** The value of a scalar string attribute within `maxAttributeBytes`. */
  value?: string;
  /** Element count of an array attribute. */
  count?: number;
  /** Set when the string was not read because it is larger than `maxAttributeBytes`. */
  tooLarge?: boolean;
}

export interface Hdf5ExternalLink {
  /** Path of the link inside this file. */
  path: string;
  /** The file it points to, as written. */
  filename: string;
  objPath: string;
}

export interface Hdf5Summary {
  rootAttributes: Hdf5Attribute[];
  externalLinks: Hdf5ExternalLink[];
  /** Groups and datasets seen. */
  objects: number;
  /** The walk stopped at {@link HDF5_MAX_OBJECTS} or {@link HDF5_MAX_DEPTH}. */
  truncated: boolean;
}

export interface ReadHdf5Options {
  /** Largest string attribute read. */
  maxAttributeBytes: number;
  /** @default HDF5_MAX_OBJECTS */
  maxObjects?: number;
}

/** The parts of h5wasm's API used here (its own types describe FS loosely). */
interface MemFs {
  writeFile(path: string, data: Uint8Array): void;
  unlink(path: string): void;
}
interface H5Attribute {
  metadata: { type: number; size: number; shape: number[] | null; vlen: boolean };
  readonly value: unknown;
}
interface H5Group {
  keys(): string[];
  get_type(path: string): number;
  get_external_link(path: string): { filename: string; obj_path: string };
  readonly attrs: Record<string, H5Attribute>;
}
interface H5File extends H5Group {
  readonly file_id: bigint;
  close(): unknown;
}
interface H5Api {
  fs: MemFs;
  open(path: string): H5File;
  group(file: H5File, path: string): H5Group;
  types: { group: number; dataset: number; externalLink: number; string: number };
}

let api: Promise<H5Api> | undefined;
let counter = 0;

function loadH5wasm(): Promise<H5Api> {
  api ??= import("h5wasm").then(async (h5) => {
    const module = await h5.ready;
    module.activate_throwing_error_handler();
    return {
      fs: h5.FS as unknown as MemFs,
      open: (path: string) => new h5.File(path, "r") as unknown as H5File,
      group: (file: H5File, path: string) => new h5.Group(file.file_id, path) as unknown as H5Group,
      types: {
        group: module.H5G_GROUP,
        dataset: module.H5G_DATASET,
        externalLink: module.H5G_UDLINK,
        string: module.H5T_class_t.H5T_STRING.value,
      },
    };
  });
  return api;
}

/** The most telling line of an HDF5 error stack (`unable to read superblock`), else the text. */
export function hdf5ErrorSummary(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  const reasons = [...text.matchAll(/ in [\w]+\(\): ([^\n]+)/g)].map((m) => m[1]!.trim());
  const last = reasons.at(-1);
  return (last ?? text.split("\n")[0] ?? "").slice(0, 300);
}

/** Something that reads HDF5 bytes as {@link readHdf5} does (possibly elsewhere, with a time limit). */
export type ReadHdf5 = (
  bytes: Uint8Array,
  options: ReadHdf5Options,
) => Promise<Result<Hdf5Summary, string>>;

/** Opens HDF5 bytes and lists the root attributes and external links. Never throws for bad input. */
export async function readHdf5(
  bytes: Uint8Array,
  options: ReadHdf5Options,
): Promise<Result<Hdf5Summary, string>> {
  let h5: H5Api;
  try {
    h5 = await loadH5wasm();
  } catch (e) {
    return err(`the HDF5 library could not be loaded (${hdf5ErrorSummary(e)})`);
  }
  const path = `/modelvet-${++counter}.h5`;
  try {
    h5.fs.writeFile(path, bytes);
  } catch (e) {
    return err(`the file could not be handed to the HDF5 library (${hdf5ErrorSummary(e)})`);
  }
  try {
    let file: H5File;
    try {
      file = h5.open(path);
    } catch (e) {
      return err(`HDF5 cannot open it: ${hdf5ErrorSummary(e)}`);
    }
    try {
      return ok(summarise(file, h5, options));
    } catch (e) {
      return err(`HDF5 failed while reading it: ${hdf5ErrorSummary(e)}`);
    } finally {
      try {
        file.close();
      } catch {
        // closing a damaged file can fail too; the MEMFS copy is removed below regardless
      }
    }
  } finally {
    try {
      h5.fs.unlink(path);
    } catch {
      // already gone
    }
  }
}

function summarise(file: H5File, h5: H5Api, options: ReadHdf5Options): Hdf5Summary {
  const maxObjects = options.maxObjects ?? HDF5_MAX_OBJECTS;
  const rootAttributes: Hdf5Attribute[] = [];
  const attrs = file.attrs;
  for (const name of Object.keys(attrs)) {
    const attr = attrs[name]!;
    const { type, size, shape, vlen } = attr.metadata;
    const count = shape === null ? 1 : shape.reduce((a, b) => a * b, 1);
    if (type !== h5.types.string) {
      rootAttributes.push({ name, kind: "other", count });
      continue;
    }
    const scalar = shape === null || shape.length === 0;
    if (!scalar) {
      rootAttributes.push({ name, kind: "strings", count });
      continue;
    }
    if (!vlen && size > options.maxAttributeBytes) {
      rootAttributes.push({ name, kind: "string", tooLarge: true });
      continue;
    }
    const value = attr.value;
    if (typeof value === "string") {
      if (value.length > options.maxAttributeBytes) {
        rootAttributes.push({ name, kind: "string", tooLarge: true });
      } else {
        rootAttributes.push({ name, kind: "string", value });
      }
    } else {
      rootAttributes.push({ name, kind: "other", count });
    }
  }

  const externalLinks: Hdf5ExternalLink[] = [];
  let objects = 0;
  let truncated = false;
  const stack: { path: string; depth: number }[] = [{ path: "/", depth: 0 }];
  while (stack.length > 0) {
    const { path, depth } = stack.pop()!;
    const group = path === "/" ? file : h5.group(file, path);
    for (const name of group.keys()) {
      if (++objects > maxObjects) {
        truncated = true;
        return { rootAttributes, externalLinks, objects: maxObjects, truncated };
      }
      const child = path === "/" ? `/${name}` : `${path}/${name}`;
      const type = file.get_type(child);
      if (type === h5.types.externalLink) {
        const link = file.get_external_link(child);
        externalLinks.push({ path: child, filename: link.filename, objPath: link.obj_path });
      } else if (type === h5.types.group) {
        if (depth + 1 > HDF5_MAX_DEPTH) truncated = true;
        else stack.push({ path: child, depth: depth + 1 });
      }
    }
  }
  return { rootAttributes, externalLinks, objects, truncated };
}
