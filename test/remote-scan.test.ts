import { createHash } from "node:crypto";
import {
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { downloadFile, listFiles, modelInfo, pathsInfo } from "@huggingface/hub";
import { Ajv2020 } from "ajv/dist/2020.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { main } from "../src/cli/main.js";
import { parseByteSize } from "../src/cli/program.js";
import { Progress } from "../src/cli/progress.js";
import { prepareInputs } from "../src/cli/remote-inputs.js";
import { stateDictPickle } from "../src/formats/pickle/pickle-builder.js";
import type { FileResult } from "../src/scan/results.js";
import type { ScanReport } from "../src/scan/scan.js";
import { scan } from "../src/scan/scan.js";
import { hfCacheDir } from "../src/sources/hf-cache.js";
import { listHubRepo, parseHubReference } from "../src/sources/hf-hub.js";
import { terminal } from "./cli-terminal.js";
import { type HubServer, startHubServer } from "./hub-server.js";
import { writeSparseSafetensors, writeSparseZip } from "./large-files.js";

const ROOT = join(import.meta.dirname, "..");
const schema = JSON.parse(readFileSync(join(ROOT, "docs/result-schema.json"), "utf8"));
const validate = new Ajv2020({ allErrors: true, strict: true, allowUnionTypes: true }).compile(
  schema,
);
const TOKEN = "hf_test_token";
const MB = 1024 * 1024;

/** Fixture files copied into a repo layout: repo path → fixture path. */
const MIXED: Record<string, string> = {
  "config.json": "test/fixtures/hf-repo/benign/bert/config.json",
  "evil.pkl": "examples/malicious/reverse_shell_stand_in.pkl",
  "pytorch_model.bin": "test/fixtures/torch/benign/state_dict_float32.pt",
  "model.safetensors": "test/fixtures/safetensors/benign/all_dtypes.safetensors",
  "small.safetensors": "test/fixtures/safetensors/benign/small_model.safetensors",
  "checkpoints/legacy.pt": "test/fixtures/torch/malicious/legacy_payload_in_object.pt",
};

let root: string;
let server: HubServer;

async function run(args: string[], env: NodeJS.ProcessEnv = {}, tty = false) {
  const t = terminal({ HF_ENDPOINT: server.url, ...env }, { stderr: tty });
  const code = await main(args, t.term);
  return { code, out: t.out(), err: t.err() };
}

function jsonReport(out: string): ScanReport {
  const parsed = JSON.parse(out);
  expect(validate(parsed), JSON.stringify(validate.errors, null, 2)).toBe(true);
  return parsed;
}

function byName(report: ScanReport, suffix: string): FileResult {
  const file = report.files.find((f) => f.path.endsWith(`/${suffix}`));
  if (!file) throw new Error(`no ${suffix} in ${report.files.map((f) => f.path).join(", ")}`);
  return file;
}

function makeRepo(id: string, files: Record<string, string>) {
  for (const [path, fixture] of Object.entries(files)) {
    const target = join(root, ...id.split("/"), ...path.split("/"));
    mkdirSync(dirname(target), { recursive: true });
    copyFileSync(join(ROOT, fixture), target);
  }
}

function sha256(path: string): string {
  return createHash("sha256").update(readFileSync(path)).digest("hex");
}

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), "modelvet-hub-"));
  makeRepo("acme/mixed", MIXED);
  makeRepo("acme/gated", { "model.safetensors": MIXED["model.safetensors"]! });
  makeRepo("acme/private", { "model.safetensors": MIXED["model.safetensors"]! });
  makeRepo("acme/blocked", { "model.safetensors": MIXED["model.safetensors"]! });
  makeRepo("datasets/acme/data", { "evil.pkl": MIXED["evil.pkl"]! });
  server = await startHubServer({
    repos: root,
    access: {
      "acme/gated": "gated",
      "acme/private": "private",
      "acme/blocked": "forbidden",
    },
    tokens: [TOKEN, "hf_other_token"],
    gatedAllowed: [TOKEN],
    refs: { "acme/mixed": ["v1.0"] },
    lfsThreshold: 700, // legacy.pt (739 B) and the two 1 KB+ files go to the CDN
  });
});

afterAll(async () => {
  await server?.close();
  rmSync(root, { recursive: true, force: true });
});

describe("local Hub look-alike with @huggingface/hub", () => {
  it("answers the real client's modelInfo and listFiles (LFS SHA-256, paging)", async () => {
    const info = await modelInfo({
      name: "acme/mixed",
      hubUrl: server.url,
      additionalFields: ["sha"],
    });
    expect(info.sha).toBe(await server.commitOf("acme/mixed"));
    const paged = await startHubServer({ repos: root, pageSize: 2 });
    try {
      const entries = [];
      for await (const e of listFiles({ repo: "acme/mixed", recursive: true, hubUrl: paged.url }))
        entries.push(e);
      const files = entries.filter((e) => e.type === "file");
      expect(files.map((e) => e.path).sort()).toEqual(Object.keys(MIXED).sort());
      expect(entries.some((e) => e.type === "directory" && e.path === "checkpoints")).toBe(true);
      const lfs = files.find((e) => e.path === "model.safetensors")!;
      expect(lfs.lfs?.oid).toBe(sha256(join(ROOT, MIXED["model.safetensors"]!)));
      expect(lfs.lfs?.size).toBe(lfs.size);
      expect(files.find((e) => e.path === "evil.pkl")!.lfs).toBeUndefined();
      expect(paged.log.filter((l) => l.url.includes("/tree/")).length).toBeGreaterThan(2);
    } finally {
      await paged.close();
    }
  });
});

describe("modelvet scan --help and options", () => {
  it("documents remote scanning", async () => {
    const { code, out } = await run(["scan", "--help"]);
    expect(code).toBe(0);
    for (const text of [
      "hf://org/name@v1.0",
      "--hf-cache",
      "--verify-hashes",
      "HF_TOKEN",
      "HF_ENDPOINT",
    ])
      expect(out).toContain(text);
    expect(out).toMatch(/--max-remote-bytes <size>[\s\S]*default: 1G/);
  });

  it("reads --max-remote-bytes sizes and wants something to scan", async () => {
    expect(parseByteSize("1048576")).toBe(MB);
    expect(parseByteSize("512k")).toBe(512 * 1024);
    expect(parseByteSize("1.5GiB")).toBe(1.5 * 1024 * MB);
    expect(parseByteSize("200MB")).toBe(200 * MB);
    expect(() => parseByteSize("lots")).toThrow(/500M/);
    const none = await run(["scan"]);
    expect(none.code).toBe(2);
    expect(none.err).toContain("--hf-cache");
  });
});

describe("local Hub look-alike: downloads and paths-info", () => {
  it("serves @huggingface/hub's downloadFile (LFS through the CDN redirect) and pathsInfo", async () => {
    for (const path of ["model.safetensors", "evil.pkl"]) {
      const blob = await downloadFile({ repo: "acme/mixed", path, hubUrl: server.url, xet: false });
      const bytes = new Uint8Array(await blob!.arrayBuffer());
      expect(Buffer.from(bytes).equals(readFileSync(join(ROOT, MIXED[path]!)))).toBe(true);
    }
    expect(
      await downloadFile({ repo: "acme/mixed", path: "nope.bin", hubUrl: server.url }),
    ).toBeNull();
    const info = await pathsInfo({
      repo: "acme/mixed",
      paths: ["model.safetensors", "checkpoints", "nope"],
      hubUrl: server.url,
    });
    expect(info.map((i) => [i.path, i.type])).toEqual([
      ["model.safetensors", "file"],
      ["checkpoints", "directory"],
    ]);
    expect(info[0]!.lfs?.oid).toBe(sha256(join(ROOT, MIXED["model.safetensors"]!)));
  });
});

describe("hf:// references", () => {
  it("parses repo types and revisions", () => {
    expect(parseHubReference("hf://acme/mixed")).toEqual({ type: "model", id: "acme/mixed" });
    expect(parseHubReference("hf://datasets/acme/data@refs/pr/1")).toEqual({
      type: "dataset",
      id: "acme/data",
      revision: "refs/pr/1",
    });
    expect(parseHubReference("hf://gpt2@main")).toEqual({
      type: "model",
      id: "gpt2",
      revision: "main",
    });
    expect(() => parseHubReference("hf://a/b/c")).toThrow(/hf:\/\/org\/name/);
    expect(() => parseHubReference("hf://acme/mixed@")).toThrow(/empty revision/);
  });

  it("lists a repo at its resolved commit", async () => {
    const listing = await listHubRepo(parseHubReference("hf://acme/mixed@v1.0"), {
      endpoint: server.url,
    });
    expect(listing.commit).toBe(await server.commitOf("acme/mixed"));
    expect(listing.files.map((f) => f.path)).toEqual(Object.keys(MIXED).sort());
  });
});

describe("modelvet scan hf://", () => {
  it("scans every file of a repo by ranges and records the commit", async () => {
    const commit = await server.commitOf("acme/mixed");
    const { code, out } = await run(["scan", "hf://acme/mixed", "--format", "json"]);
    expect(code).toBe(1);
    const report = jsonReport(out);
    expect(report.repositories).toEqual([
      {
        source: "hub",
        type: "model",
        id: "acme/mixed",
        revision: "main",
        commit,
        location: server.url,
        files: Object.keys(MIXED).length,
      },
    ]);
    expect(report.files.map((f) => f.path)).toEqual(
      Object.keys(MIXED)
        .sort()
        .map((p) => `hf://acme/mixed@${commit}/${p}`),
    );
    expect(byName(report, "evil.pkl").verdict).toBe("malicious");
    expect(byName(report, "checkpoints/legacy.pt").verdict).toBe("malicious");
    expect(byName(report, "pytorch_model.bin")).toMatchObject({
      verdict: "safe",
      format: "pytorch-zip",
    });
    expect(byName(report, "model.safetensors")).toMatchObject({ verdict: "safe" });
    const lfs = byName(report, "model.safetensors").remote!;
    expect(lfs.commit).toBe(commit);
    expect(lfs.lfsSha256).toBe(sha256(join(ROOT, MIXED["model.safetensors"]!)));
    expect(lfs.bytesFetched).toBeGreaterThan(0);
    expect(lfs.hashVerified).toBeUndefined();
    expect(byName(report, "evil.pkl").sha256).toBeUndefined(); // no download without --verify-hashes
  });

  it("reads branch, tag and commit revisions; names an unknown one", async () => {
    const commit = await server.commitOf("acme/mixed");
    for (const rev of ["v1.0", commit]) {
      const { out } = await run(["scan", `hf://acme/mixed@${rev}`, "--format", "json"]);
      const report = jsonReport(out);
      expect(report.repositories![0]).toMatchObject({ revision: rev, commit });
    }
    const bad = await run(["scan", "hf://acme/mixed@nope"]);
    expect(bad.code).toBe(2);
    expect(bad.err).toContain("no revision 'nope'");
  });

  it("scans datasets", async () => {
    const { code, out } = await run(["scan", "hf://datasets/acme/data", "--format", "json"]);
    expect(code).toBe(1);
    const report = jsonReport(out);
    expect(report.files[0]!.path).toMatch(/^hf:\/\/datasets\/acme\/data@[0-9a-f]{40}\/evil\.pkl$/);
    expect(report.files[0]!.verdict).toBe("malicious");
  });

  it("explains gated, private, forbidden and missing repositories", async () => {
    const gated = await run(["scan", "hf://acme/gated"]);
    expect(gated.code).toBe(2);
    expect(gated.err).toContain("gated");
    expect(gated.err).toContain(`accept its terms at ${server.url}/acme/gated`);
    expect(gated.err).toContain("HF_TOKEN");

    const notAccepted = await run(["scan", "hf://acme/gated", "--token", "hf_other_token"]);
    expect(notAccepted.code).toBe(2);
    expect(notAccepted.err).toContain("no access yet (403)");

    const withEnv = await run(["scan", "hf://acme/gated", "--format", "json"], {
      HF_TOKEN: TOKEN,
    });
    expect(withEnv.code).toBe(0);
    expect(jsonReport(withEnv.out).files[0]!.verdict).toBe("safe");

    const priv = await run(["scan", "hf://acme/private"]);
    expect(priv.code).toBe(2);
    expect(priv.err).toMatch(/refused access \(401\).*private or gated.*HF_TOKEN/);
    expect((await run(["scan", "hf://acme/private", "--token", TOKEN])).code).toBe(0);

    const blocked = await run(["scan", "hf://acme/blocked", "--token", TOKEN]);
    expect(blocked.code).toBe(2);
    expect(blocked.err).toContain("forbids access (403)");

    const missing = await run(["scan", "hf://acme/nothing"]);
    expect(missing.code).toBe(2);
    expect(missing.err).toContain("no such model");

    const badToken = await run(["scan", "hf://acme/mixed", "--token", "hf_wrong"]);
    expect(badToken.code).toBe(2);
    expect(badToken.err).toContain("did not accept the token");
  });

  it("retries 429s", async () => {
    const limited = await startHubServer({ repos: root, rateLimitFirst: 3 });
    try {
      const t = terminal({ HF_ENDPOINT: limited.url });
      expect(await main(["scan", "hf://acme/mixed", "--format", "json"], t.term)).toBe(1);
      expect(limited.log.filter((l) => l.status === 429)).toHaveLength(3);
      expect(JSON.parse(t.out()).summary.verdicts.error).toBe(0);
    } finally {
      await limited.close();
    }
  });

  it("sends the token to the Hub only, not to the CDN it redirects to", async () => {
    const split = await startHubServer({
      repos: root,
      separateCdn: true,
      tokens: [TOKEN],
      access: { "acme/private": "private" },
    });
    try {
      const t = terminal({ HF_ENDPOINT: split.url, HF_TOKEN: TOKEN });
      expect(await main(["scan", "hf://acme/private", "--format", "json"], t.term)).toBe(0);
      const cdn = split.log.filter((l) => l.origin === "cdn");
      expect(cdn.length).toBeGreaterThan(0);
      expect(cdn.every((l) => l.authorization === undefined && l.status === 206)).toBe(true);
      expect(
        split.log
          .filter((l) => l.origin === "hub")
          .every((l) => l.authorization === `Bearer ${TOKEN}`),
      ).toBe(true);
    } finally {
      await split.close();
    }
  });

  it("--verify-hashes: a matching file verifies, a tampered one is a finding", async () => {
    const tampered = await startHubServer({
      repos: root,
      lfsOid: (_repo, path) => (path === "pytorch_model.bin" ? "f".repeat(64) : undefined),
    });
    try {
      const t = terminal({ HF_ENDPOINT: tampered.url });
      const code = await main(["scan", "hf://acme/mixed", "--verify-hashes", "-f", "json"], t.term);
      expect(code).toBe(1);
      const report = jsonReport(t.out());
      const good = byName(report, "model.safetensors");
      expect(good.remote!.hashVerified).toBe(true);
      expect(good.sha256).toBe(good.remote!.lfsSha256);
      expect(good.findings).toEqual([]);
      const bad = byName(report, "pytorch_model.bin");
      expect(bad.remote!.hashVerified).toBe(false);
      expect(bad.verdict).toBe("suspicious");
      expect(bad.findings.map((f) => f.rule)).toEqual(["remote.hash-mismatch"]);
      expect(bad.findings[0]!.message).toContain("f".repeat(64));
      // Small files kept in git are not LFS: nothing to check them against.
      expect(byName(report, "evil.pkl").remote!.hashVerified).toBeUndefined();
    } finally {
      await tampered.close();
    }
  });
});

describe("modelvet scan https://", () => {
  it("scans a plain URL by ranges, through the LFS redirect", async () => {
    const url = `${server.url}/acme/mixed/resolve/main/checkpoints/legacy.pt`;
    const { code, out } = await run(["scan", url, "--format", "json"]);
    expect(code).toBe(1);
    const report = jsonReport(out);
    expect(report.files[0]).toMatchObject({ path: url, verdict: "malicious" });
    expect(report.files[0]!.remote).toMatchObject({
      url,
      commit: await server.commitOf("acme/mixed"),
      lfsSha256: sha256(join(ROOT, MIXED["checkpoints/legacy.pt"]!)),
    });
    const missing = await run(["scan", `${server.url}/acme/mixed/resolve/main/nope.bin`]);
    expect(missing.code).toBe(1);
    expect(missing.out).toContain("no such file (404)");
  });

  it("refuses to download a large file whole from a server without ranges", async () => {
    const big = mkdtempSync(join(tmpdir(), "modelvet-norange-"));
    mkdirSync(join(big, "acme", "big"), { recursive: true });
    writeSparseSafetensors(join(big, "acme", "big", "model.safetensors"), 4, 4 * MB);
    const noRange = await startHubServer({
      repos: big,
      ignoreRange: true,
      lfsOid: () => "0".repeat(64),
    });
    try {
      const t = terminal({});
      await main(["scan", `${noRange.url}/acme/big/resolve/main/model.safetensors`], t.term);
      expect(t.out()).toContain("ignores HTTP Range");
      expect(noRange.stats.bytesServed).toBeLessThan(4 * MB);
    } finally {
      await noRange.close();
      rmSync(big, { recursive: true, force: true });
    }
  });
});

describe("modelvet scan --hf-cache", () => {
  let cache: string;
  const shared = sha256(join(ROOT, MIXED["model.safetensors"]!));
  beforeAll(() => {
    cache = mkdtempSync(join(tmpdir(), "modelvet-hfcache-"));
    const repo = join(cache, "models--acme--mixed");
    mkdirSync(join(repo, "blobs"), { recursive: true });
    const blob = (fixture: string, name = sha256(join(ROOT, fixture))) => {
      copyFileSync(join(ROOT, fixture), join(repo, "blobs", name));
      return name;
    };
    const safetensors = blob(MIXED["model.safetensors"]!);
    const evil = blob(MIXED["evil.pkl"]!, "0123456789abcdef0123456789abcdef01234567"); // git sha1
    const c1 = "1".repeat(40);
    const c2 = "2".repeat(40);
    for (const [commit, files] of [
      [c1, { "model.safetensors": safetensors, "sub/evil.pkl": evil }],
      [c2, { "model.safetensors": safetensors }],
    ] as const) {
      for (const [path, name] of Object.entries(files)) {
        const link = join(repo, "snapshots", commit, ...path.split("/"));
        mkdirSync(dirname(link), { recursive: true });
        symlinkSync(join(repo, "blobs", name), link);
      }
    }
    mkdirSync(join(repo, "refs", "refs", "pr"), { recursive: true });
    writeFileSync(join(repo, "refs", "main"), c2);
    writeFileSync(join(repo, "refs", "refs", "pr", "1"), c1);
    // A second repo with a download cut short: its link points nowhere.
    const broken = join(cache, "models--acme--broken", "snapshots", "3".repeat(40));
    mkdirSync(broken, { recursive: true });
    symlinkSync(join(cache, "models--acme--broken", "blobs", "missing"), join(broken, "x.bin"));
  });
  afterAll(() => rmSync(cache, { recursive: true, force: true }));

  it("finds the cache as huggingface_hub does", () => {
    expect(hfCacheDir({ HF_HUB_CACHE: "/a" }, "/home/u")).toBe("/a");
    expect(hfCacheDir({ HF_HOME: "/h" }, "/home/u")).toBe(join("/h", "hub"));
    expect(hfCacheDir({ XDG_CACHE_HOME: "/x" }, "/home/u")).toBe(join("/x", "huggingface", "hub"));
    expect(hfCacheDir({}, "/home/u")).toBe(join("/home/u", ".cache", "huggingface", "hub"));
  });

  it("scans each blob once and reports every revision", async () => {
    const env = { HF_HUB_CACHE: cache };
    const prepared = await prepareInputs({
      specs: [],
      hfCache: true,
      hash: true,
      verifyHashes: false,
      maxRemoteBytes: MB,
      env,
    });
    // Two blobs and one dangling link, though three snapshot entries point at blobs.
    expect(prepared.inputs).toHaveLength(3);
    const report = prepared.finish(await scan(prepared.inputs));
    expect(report.files).toHaveLength(4);

    const { code, out } = await run(["scan", "--hf-cache", "--format", "json"], {
      HF_HOME: "/nonexistent",
      ...env,
    });
    expect(code).toBe(1);
    const json = jsonReport(out);
    const snap = (commit: string, p: string) =>
      join(cache, "models--acme--mixed", "snapshots", commit, ...p.split("/"));
    const paths = json.files.map((f) => f.path);
    expect(paths).toContain(snap("1".repeat(40), "model.safetensors"));
    expect(paths).toContain(snap("2".repeat(40), "model.safetensors"));
    const evil = json.files.find((f) => f.path === snap("1".repeat(40), "sub/evil.pkl"))!;
    expect(evil.verdict).toBe("malicious");
    expect(evil.findings.every((f) => f.location.file === evil.path)).toBe(true);
    const copies = json.files.filter((f) => f.path.endsWith("model.safetensors"));
    expect(copies.map((f) => f.sha256)).toEqual([shared, shared]);
    expect(json.files.find((f) => f.path.endsWith("x.bin"))!.verdict).toBe("error");
    expect(json.repositories).toEqual([
      {
        source: "hf-cache",
        type: "model",
        id: "acme/broken",
        commit: "3".repeat(40),
        refs: [],
        location: join(cache, "models--acme--broken", "snapshots", "3".repeat(40)),
        files: 1,
      },
      expect.objectContaining({
        id: "acme/mixed",
        commit: "1".repeat(40),
        refs: ["refs/pr/1"],
        files: 2,
      }),
      expect.objectContaining({
        id: "acme/mixed",
        commit: "2".repeat(40),
        refs: ["main"],
        files: 1,
      }),
    ]);
    expect(json.summary.files).toBe(4);
  });

  it("text report names each cached revision", async () => {
    const { out } = await run(["scan", "--hf-cache"], { HF_HUB_CACHE: cache });
    expect(out).toContain(`cached acme/mixed@${"2".repeat(40)} (main): 1 file`);
  });

  it("--verify-hashes checks blobs against their names", async () => {
    const tamperedCache = mkdtempSync(join(tmpdir(), "modelvet-hfcache-t-"));
    try {
      const repo = join(tamperedCache, "models--acme--t");
      mkdirSync(join(repo, "blobs"), { recursive: true });
      mkdirSync(join(repo, "snapshots", "c"), { recursive: true });
      copyFileSync(join(ROOT, MIXED["model.safetensors"]!), join(repo, "blobs", "e".repeat(64)));
      symlinkSync(
        join(repo, "blobs", "e".repeat(64)),
        join(repo, "snapshots", "c", "m.safetensors"),
      );
      const { code, out } = await run(["scan", "--hf-cache", "--verify-hashes", "-f", "json"], {
        HF_HUB_CACHE: tamperedCache,
      });
      expect(code).toBe(1);
      expect(jsonReport(out).files[0]!.findings.map((f) => f.rule)).toEqual([
        "remote.hash-mismatch",
      ]);
    } finally {
      rmSync(tamperedCache, { recursive: true, force: true });
    }
  });

  it("says where it looked when there is no cache", async () => {
    const { code, err } = await run(["scan", "--hf-cache"], { HF_HUB_CACHE: "/no/such/cache" });
    expect(code).toBe(2);
    expect(err).toContain("/no/such/cache: no Hugging Face cache there");
  });
});

describe("bytes fetched for 2 GB checkpoints", () => {
  let big: string;
  let bigServer: HubServer;
  const STORAGES = 8;
  const STORAGE_BYTES = 256 * MB;

  beforeAll(async () => {
    big = mkdtempSync(join(tmpdir(), "modelvet-big-"));
    const repo = join(big, "acme", "big");
    mkdirSync(repo, { recursive: true });
    writeSparseZip(join(repo, "pytorch_model.bin"), [
      { name: "archive/data.pkl", data: stateDictPickle(STORAGES, STORAGE_BYTES) },
      { name: "archive/version", data: new TextEncoder().encode("3\n") },
      ...Array.from({ length: STORAGES }, (_, i) => ({
        name: `archive/data/${i}`,
        size: STORAGE_BYTES,
      })),
    ]);
    writeSparseSafetensors(join(repo, "model.safetensors"), 8, 256 * MB);
    // The Hub's LFS hash is not needed here; spare hashing 4 GB of holes.
    bigServer = await startHubServer({ repos: big, lfsOid: () => "a".repeat(64) });
  });
  afterAll(async () => {
    await bigServer?.close();
    rmSync(big, { recursive: true, force: true });
  });

  it("reads a 2 GB zip checkpoint and a 2 GB safetensors file in well under a megabyte each", async () => {
    const t = terminal({ HF_ENDPOINT: bigServer.url });
    expect(await main(["scan", "hf://acme/big", "--format", "json"], t.term)).toBe(0);
    const report = jsonReport(t.out());
    const zip = byName(report, "pytorch_model.bin");
    const st = byName(report, "model.safetensors");
    expect(zip).toMatchObject({ format: "pytorch-zip", verdict: "safe" });
    expect(st).toMatchObject({ format: "safetensors", verdict: "safe" });
    expect(zip.size).toBeGreaterThan(2 * 1024 * MB - 1);
    expect(st.size).toBeGreaterThan(2 * 1024 * MB - 1);
    // A safetensors header plus the tail probe; a zip's directory, data.pkl and the probes.
    expect(st.remote!.bytesFetched).toBeLessThan(512 * 1024);
    expect(zip.remote!.bytesFetched).toBeLessThan(512 * 1024);
    expect(bigServer.stats.bytesServed).toBeLessThan(MB);
  });

  it("stops at --max-remote-bytes with a clear error", async () => {
    const t = terminal({ HF_ENDPOINT: bigServer.url });
    await main(["scan", `hf://acme/big`, "--max-remote-bytes", "100k", "-f", "json"], t.term);
    const report = jsonReport(t.out());
    expect(report.summary.verdicts.error).toBeGreaterThan(0);
    const messages = report.files.flatMap((f) => f.findings.map((x) => x.message)).join("\n");
    expect(messages).toContain("--max-remote-bytes");
    const rules = new Set(report.files.flatMap((f) => f.findings.map((x) => x.rule)));
    expect([...rules]).toEqual(["scan.unreadable"]); // not mistaken for an analyser bug
  });
});

describe("progress", () => {
  it("shows files and bytes on a terminal's stderr only, never in the report", async () => {
    const tty = await run(["scan", "hf://acme/mixed", "-f", "json"], {}, true);
    expect(tty.err).toMatch(/scanning \d+\/6 files · [\d.]+ (B|KiB) fetched/);
    expect(tty.err.endsWith("\r\u001b[2K")).toBe(true);
    jsonReport(tty.out);
    expect((await run(["scan", "hf://acme/mixed", "-f", "json"], {}, false)).err).toBe("");
    expect((await run(["scan", "hf://acme/mixed", "-q"], {}, true)).err).toBe("");
    expect((await run(["scan", "hf://acme/mixed", "--no-progress"], {}, true)).err).toBe("");
  });

  it("redraws at most ten times a second", () => {
    let now = 0;
    const writes: string[] = [];
    const p = new Progress({ write: (s: string) => writes.push(s) } as never, () => now);
    p.files(1, 3);
    p.bytes(10);
    p.bytes(10);
    now = 200;
    p.bytes(1024);
    p.clear();
    expect(writes).toEqual([
      "\r\u001b[2Kscanning 1/3 files…",
      "\r\u001b[2Kscanning 1/3 files · 1.0 KiB fetched…",
      "\r\u001b[2K",
    ]);
  });
});
