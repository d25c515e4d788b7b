import { readdir, realpath, stat } from "node:fs/promises";
import { join } from "node:path";

/** Raised for a path the user named that does not exist or cannot be listed (exit code 2). */
export class PathError extends Error {
  readonly code = "MODELVET_PATH";
}

/** Folders that never hold models worth scanning and can be huge. */
const SKIPPED_DIRS = new Set([".git", ".hg", ".svn", "node_modules"]);

/**
 * Expands the paths a user named into files: folders recursively (sorted, so reports are stable),
 * file symlinks followed (the Hugging Face cache is made of them), folder symlinks followed once
 * (a loop is cut by remembering real paths).
 */
export async function expandPaths(paths: readonly string[]): Promise<string[]> {
  const files: string[] = [];
  const seenDirs = new Set<string>();
  for (const path of paths) {
    let info: Awaited<ReturnType<typeof stat>>;
    try {
      info = await stat(path);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      const why =
        code === "ENOENT" ? "no such file or folder" : `cannot read it (${code ?? "error"})`;
      throw new PathError(`${path}: ${why}`);
    }
    if (info.isDirectory()) await walk(path, files, seenDirs);
    else files.push(path);
  }
  return files;
}

async function walk(dir: string, files: string[], seenDirs: Set<string>): Promise<void> {
  let real: string;
  try {
    real = await realpath(dir);
  } catch {
    return;
  }
  if (seenDirs.has(real)) return;
  seenDirs.add(real);
  let entries: string[];
  try {
    entries = (await readdir(dir)).sort();
  } catch (error) {
    throw new PathError(`${dir}: cannot list folder (${(error as NodeJS.ErrnoException).code})`);
  }
  for (const name of entries) {
    const path = join(dir, name);
    let info: Awaited<ReturnType<typeof stat>>;
    try {
      info = await stat(path);
    } catch {
      files.push(path); // a dangling link or unreadable entry: the scan reports it as unreadable
      continue;
    }
    if (info.isDirectory()) {
      if (!SKIPPED_DIRS.has(name)) await walk(path, files, seenDirs);
    } else if (info.isFile()) {
      files.push(path);
    }
  }
}
