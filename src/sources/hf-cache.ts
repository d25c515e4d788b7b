import { lstat, readdir, readFile, realpath, stat } from "node:fs/promises";
import { homedir } from "node:os";
import { join, relative, sep } from "node:path";
import type { HubRepoType } from "./hf-hub.js";

/**
 * The local Hugging Face cache, as `huggingface_hub` lays it out:
 * `<cache>/models--org--name/{blobs/<hash>, refs/<branch> (a commit id), snapshots/<commit>/<path>}`
 * where each snapshot file is a symlink into `blobs/` (or, where symlinks are unavailable, a copy).
 * (Walked here rather than with `@huggingface/hub`'s `scanCacheDir`, which skips files in
 * sub-folders of a snapshot and gives up on a repo without a `refs/` folder.)
 */

export interface CachedFile {
  /** Path inside the repository, `/`-separated. */
  path: string;
  /** The file as it appears in the snapshot (usually a symlink). */
  snapshotPath: string;
  /** What the snapshot entry resolves to (the blob); the same blob means the same bytes. */
  blobPath: string;
  size: number;
}

export interface CachedRevision {
  type: HubRepoType;
  /** `org/name`. */
  id: string;
  commit: string;
  /** Branches, tags and PR refs the cache records for this commit (`main`, `refs/pr/1`). */
  refs: string[];
  /** `<cache>/models--org--name/snapshots/<commit>`. */
  folder: string;
  files: CachedFile[];
  /** Snapshot entries that point nowhere (a download cut short): reported as unreadable. */
  dangling: { path: string; snapshotPath: string }[];
}

export interface CacheWalk {
  dir: string;
  revisions: CachedRevision[];
  /** Folders that look like cache entries but could not be read as one. */
  warnings: string[];
}

/**
 * Where the cache is: `HF_HUB_CACHE`, else `HUGGINGFACE_HUB_CACHE`, else `$HF_HOME/hub`, else
 * `$XDG_CACHE_HOME/huggingface/hub`, else `~/.cache/huggingface/hub` (huggingface_hub's order).
 */
export function hfCacheDir(env: NodeJS.ProcessEnv = process.env, home = homedir()): string {
  const pick = (v: string | undefined) => (v?.trim() ? v.trim() : undefined);
  const direct = pick(env.HF_HUB_CACHE) ?? pick(env.HUGGINGFACE_HUB_CACHE);
  if (direct) return direct;
  const hfHome = pick(env.HF_HOME);
  if (hfHome) return join(hfHome, "hub");
  return join(pick(env.XDG_CACHE_HOME) ?? join(home, ".cache"), "huggingface", "hub");
}

const TYPES: Record<string, HubRepoType> = {
  models: "model",
  datasets: "dataset",
  spaces: "space",
};

/** Lists every cached revision of every repo under `dir`, sorted by repo then commit. */
export async function walkHfCache(dir: string): Promise<CacheWalk> {
  const info = await stat(dir).catch(() => null);
  if (info === null) {
    throw new Error(
      `${dir}: no Hugging Face cache there (set HF_HUB_CACHE or HF_HOME, or pass the folder)`,
    );
  }
  if (!info.isDirectory()) throw new Error(`${dir}: the Hugging Face cache is not a folder`);
  const revisions: CachedRevision[] = [];
  const warnings: string[] = [];
  for (const name of (await readdir(dir)).sort()) {
    const m = /^(models|datasets|spaces)--(.+)$/.exec(name);
    if (!m) continue;
    const type = TYPES[m[1]!]!;
    const id = m[2]!.split("--").join("/");
    const repoDir = join(dir, name);
    const snapshots = join(repoDir, "snapshots");
    let commits: string[];
    try {
      commits = (await readdir(snapshots)).sort();
    } catch {
      warnings.push(`${repoDir}: no snapshots/ folder, nothing cached to scan`);
      continue;
    }
    const refsByCommit = await readRefs(join(repoDir, "refs"));
    for (const commit of commits) {
      const folder = join(snapshots, commit);
      if (!(await stat(folder).catch(() => null))?.isDirectory()) continue;
      const revision: CachedRevision = {
        type,
        id,
        commit,
        refs: (refsByCommit.get(commit) ?? []).sort(),
        folder,
        files: [],
        dangling: [],
      };
      await walkSnapshot(folder, folder, revision);
      revision.files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
      revisions.push(revision);
    }
  }
  return { dir, revisions, warnings };
}

async function walkSnapshot(root: string, dir: string, revision: CachedRevision): Promise<void> {
  for (const name of (await readdir(dir)).sort()) {
    const entry = join(dir, name);
    const path = relative(root, entry).split(sep).join("/");
    const link = await lstat(entry);
    if (link.isDirectory()) {
      await walkSnapshot(root, entry, revision);
      continue;
    }
    let blobPath: string;
    try {
      blobPath = await realpath(entry);
    } catch {
      revision.dangling.push({ path, snapshotPath: entry });
      continue;
    }
    const target = await stat(blobPath).catch(() => null);
    if (target === null) {
      revision.dangling.push({ path, snapshotPath: entry });
    } else if (target.isDirectory()) {
      // A folder symlink inside a snapshot is not how the cache stores files; walk it once.
      if (!link.isSymbolicLink()) await walkSnapshot(root, entry, revision);
    } else if (target.isFile()) {
      revision.files.push({ path, snapshotPath: entry, blobPath, size: target.size });
    }
  }
}

/** `refs/<name>` files (nested for `refs/pr/1`), each holding a commit id. */
async function readRefs(dir: string): Promise<Map<string, string[]>> {
  const byCommit = new Map<string, string[]>();
  const visit = async (folder: string) => {
    let entries: import("node:fs").Dirent[];
    try {
      entries = await readdir(folder, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const path = join(folder, e.name);
      if (e.isDirectory()) await visit(path);
      else if (e.isFile()) {
        const commit = (await readFile(path, "utf8").catch(() => "")).trim();
        if (!commit) continue;
        const name = relative(dir, path).split(sep).join("/");
        const list = byCommit.get(commit) ?? [];
        list.push(name);
        byCommit.set(commit, list);
      }
    }
  };
  await visit(dir);
  return byCommit;
}
