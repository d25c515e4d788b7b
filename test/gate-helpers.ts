import { randomBytes } from "node:crypto";
import { copyFile, mkdir, mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";

export const ROOT = new URL("..", import.meta.url).pathname;

/** Fixture repos for the hub look-alike: two clean, one malicious, one mixed. */
export async function makeGateRepos(): Promise<string> {
  const repos = await mkdtemp(join(tmpdir(), "modelvet-gate-repos-"));
  const put = async (repo: string, name: string, from: string) => {
    await mkdir(join(repos, repo), { recursive: true });
    await copyFile(join(ROOT, from), join(repos, repo, name));
  };
  // Clean: one small (served by the Hub itself) and one LFS-sized (redirected to the CDN).
  await put(
    "acme/clean",
    "model.safetensors",
    "test/fixtures/safetensors/benign/all_dtypes.safetensors",
  );
  await put(
    "acme/clean",
    "small.safetensors",
    "test/fixtures/safetensors/benign/small_model.safetensors",
  );
  await put("acme/clean", "state_dict.pt", "examples/benign/state_dict.pt");
  await writeFile(join(repos, "acme/clean/config.json"), '{"model_type": "test"}\n');
  // Malicious: an LFS-sized PyTorch checkpoint and a tiny pickle.
  await put(
    "acme/evil",
    "pytorch_model.bin",
    "test/fixtures/torch/malicious/state_dict_payload.bin",
  );
  await put("acme/evil", "shell.pkl", "examples/malicious/reverse_shell_stand_in.pkl");
  // Mixed: a clean file next to a malicious one (for --block-repo).
  await put(
    "acme/mixed",
    "model.safetensors",
    "test/fixtures/safetensors/benign/small_model.safetensors",
  );
  await put("acme/mixed", "extra.pkl", "examples/malicious/reverse_shell_stand_in.pkl");
  // Private: only `Bearer hf_test_token` may read it (startHubServer's `access`).
  await put(
    "acme/private",
    "weights.safetensors",
    "test/fixtures/safetensors/benign/small_model.safetensors",
  );
  await put("datasets/acme/data", "train.pkl", "examples/malicious/reverse_shell_stand_in.pkl");
  await put(
    "datasets/acme/data",
    "ok.safetensors",
    "test/fixtures/safetensors/benign/small_model.safetensors",
  );
  return repos;
}

/** PostgreSQL for tests: `MODELVET_TEST_PG_URL`; required when `CI` is set. */
export function testPgUrl(what: string): string | undefined {
  const url = process.env.MODELVET_TEST_PG_URL;
  if (url === undefined || url === "") {
    if (process.env.CI) {
      throw new Error(
        `${what}: MODELVET_TEST_PG_URL must be set in CI (.ci/run starts PostgreSQL)`,
      );
    }
    console.warn(`note: ${what} skipped: set MODELVET_TEST_PG_URL to run it against PostgreSQL`);
  }
  return url || undefined;
}

/** A fresh database for this run, dropped afterwards. */
export async function freshPgDatabase(
  url: string,
): Promise<{ url: string; drop: () => Promise<void> }> {
  const name = `modelvet_gate_${randomBytes(6).toString("hex")}`;
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const u = new URL(url);
  u.pathname = `/${name}`;
  return {
    url: u.toString(),
    drop: async () => {
      const c = new pg.Client({ connectionString: url });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    },
  };
}
