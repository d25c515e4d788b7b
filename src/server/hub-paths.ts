import type { RepoType } from "./gate-store.js";

/**
 * The Hub's URL shapes that carry file content: `/{repo}/resolve/{rev}/{path}` for models and
 * `/datasets/{repo}/…`, `/spaces/{repo}/…` for the others (`raw` too, which serves the same bytes).
 * Repo ids are `org/name` or a legacy bare `name`; the revision is one URL segment (a branch with a
 * slash arrives encoded, `refs%2Fpr%2F1`).
 */
export interface ResolvePath {
  repoType: RepoType;
  /** `org/name`, decoded. */
  repo: string;
  /** The URL prefix before the repo (`""`, `datasets/`, `spaces/`). */
  prefix: string;
  /** Decoded revision as asked (a branch, tag or commit). */
  revision: string;
  /** Decoded file path inside the repo. */
  path: string;
  /** The path as it came, still encoded, after the revision. */
  rawPath: string;
  kind: "resolve" | "raw";
}

const TYPE_PREFIXES: Record<string, RepoType> = { datasets: "dataset", spaces: "space" };

/** Parses a request path (no query) into a resolve target, or null when it is not one. */
export function parseResolvePath(pathname: string): ResolvePath | null {
  const segments = pathname.split("/").slice(1);
  let repoType: RepoType = "model";
  let prefix = "";
  const type = TYPE_PREFIXES[segments[0] ?? ""];
  if (type !== undefined) {
    repoType = type;
    prefix = `${segments[0]}/`;
    segments.shift();
  }
  // The keyword is the second or third segment: `name/resolve/…` or `org/name/resolve/…`.
  for (const at of [2, 1]) {
    const kind = segments[at];
    if ((kind !== "resolve" && kind !== "raw") || segments.length < at + 3) continue;
    const repoSegments = segments.slice(0, at);
    const rest = segments.slice(at + 2);
    try {
      // Dot segments, encoded or not, would make the upstream URL name another file than the key.
      const dotty = (s: string) => {
        const d = decodeURIComponent(s);
        return d === "" || d === "." || d === ".." || d.includes("/") || d.includes("\\");
      };
      if (repoSegments.some(dotty) || rest.some(dotty)) return null;
      return {
        repoType,
        repo: repoSegments.map(decodeURIComponent).join("/"),
        prefix,
        revision: decodeURIComponent(segments[at + 1]!),
        path: rest.map(decodeURIComponent).join("/"),
        rawPath: rest.join("/"),
        kind,
      };
    } catch {
      return null;
    }
  }
  return null;
}

/** Encodes a repo-relative file path for a URL, segment by segment. */
export function encodePath(path: string): string {
  return path.split("/").map(encodeURIComponent).join("/");
}

/** `"abc"` or `W/"abc"` → `abc`. */
export function unquoteEtag(etag: string | null | undefined): string | null {
  if (etag === null || etag === undefined) return null;
  return etag.replace(/^W\//, "").replace(/^"(.*)"$/, "$1");
}

/** Parses `hf://org/name[@rev]`, `hf://datasets/org/name@rev` (the API's scan target). */
export function parseHfUri(
  uri: string,
): { repoType: RepoType; repo: string; revision: string } | null {
  const m =
    /^hf:\/\/(?:(datasets|spaces|models)\/)?([A-Za-z0-9][\w.-]*(?:\/[\w.-]+)?)(?:@([^\s]+))?$/.exec(
      uri,
    );
  if (m === null) return null;
  const repoType: RepoType =
    m[1] === "datasets" ? "dataset" : m[1] === "spaces" ? "space" : "model";
  return { repoType, repo: m[2]!, revision: m[3] ?? "main" };
}

export function typePrefix(repoType: RepoType): string {
  return repoType === "dataset" ? "datasets/" : repoType === "space" ? "spaces/" : "";
}
