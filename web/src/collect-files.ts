import type { PickedFile } from "./messages.js";

/** Folders skipped when a whole tree is dropped, as the CLI's walker does. */
const SKIPPED_DIRS = new Set([".git", ".hg", ".svn", "node_modules"]);

/** Files from an `<input type=file>`; a folder pick (`webkitdirectory`) keeps relative paths. */
export function filesFromInput(list: FileList | null): PickedFile[] {
  const picked: PickedFile[] = [];
  for (const file of Array.from(list ?? [])) {
    const path = file.webkitRelativePath || file.name;
    if (path.split("/").some((part) => SKIPPED_DIRS.has(part))) continue;
    picked.push({ path, file });
  }
  return sortByPath(picked);
}

/**
 * Files from a drop: plain files, and folders walked recursively through the entries API
 * (`webkitGetAsEntry`, in every current browser). Entries must be taken synchronously, before
 * the drop event returns, so this is called from the handler and awaited afterwards.
 */
export function filesFromDrop(transfer: DataTransfer): Promise<PickedFile[]> {
  const entries: FileSystemEntry[] = [];
  const loose: File[] = [];
  for (const item of Array.from(transfer.items)) {
    if (item.kind !== "file") continue;
    const entry = item.webkitGetAsEntry?.();
    if (entry) entries.push(entry);
    else {
      const file = item.getAsFile();
      if (file) loose.push(file);
    }
  }
  return (async () => {
    const picked: PickedFile[] = loose.map((file) => ({ path: file.name, file }));
    for (const entry of entries) await walkEntry(entry, "", picked);
    return sortByPath(picked);
  })();
}

async function walkEntry(entry: FileSystemEntry, prefix: string, out: PickedFile[]): Promise<void> {
  const path = prefix ? `${prefix}/${entry.name}` : entry.name;
  if (isFile(entry)) {
    const file = await new Promise<File>((resolve, reject) => entry.file(resolve, reject));
    out.push({ path, file });
    return;
  }
  if (!isDirectory(entry) || SKIPPED_DIRS.has(entry.name)) return;
  const reader = entry.createReader();
  // readEntries hands out a batch at a time (100 in Chromium) until it returns an empty one.
  for (;;) {
    const batch = await new Promise<FileSystemEntry[]>((resolve, reject) =>
      reader.readEntries(resolve, reject),
    );
    if (batch.length === 0) break;
    for (const child of batch) await walkEntry(child, path, out);
  }
}

function isFile(entry: FileSystemEntry): entry is FileSystemFileEntry {
  return entry.isFile;
}

function isDirectory(entry: FileSystemEntry): entry is FileSystemDirectoryEntry {
  return entry.isDirectory;
}

function sortByPath(files: PickedFile[]): PickedFile[] {
  return files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}
