import { jsonLogger } from "../server/log.js";
import { openStore, parseDbUrl } from "../server/open-store.js";
import { startGate } from "../server/start-gate.js";
import { createToken } from "../server/tokens.js";
import type { ServeCommandOptions, TokenCreateOptions } from "./gate-commands.js";
import { folderOf, resolvePolicy } from "./resolve-policy.js";
import type { Terminal } from "./run-scan.js";

/**
 * `modelvet serve`: starts the gate, prints `listening on URL`, and runs until SIGTERM or SIGINT,
 * then stops accepting, lets requests in flight finish and closes the store. Returns 0.
 */
export async function runServe(
  options: ServeCommandOptions,
  term: Terminal,
  signals: NodeJS.EventEmitter = process,
): Promise<number> {
  const { path: policyPath, file } = await resolvePolicy(options.policy, ".");
  const logger = jsonLogger((line) => term.stderr.write(line), options.logLevel);
  const hfToken = term.env.HF_TOKEN;
  const { gate, url } = await startGate({
    upstream: options.upstream,
    ...(options.db === undefined ? {} : { db: options.db }),
    configDir: policyPath === null ? "." : folderOf(policyPath),
    policyFile: file,
    ...(options.failOn === undefined ? {} : { failOn: options.failOn }),
    blockRepo: options.blockRepo,
    port: options.port,
    host: options.host,
    ...(options.publicUrl === undefined ? {} : { publicUrl: options.publicUrl }),
    ...(hfToken ? { upstreamAuthorization: `Bearer ${hfToken}` } : {}),
    logger,
  });
  term.stdout.write(`listening on ${url}\n`);
  await new Promise<void>((resolve) => {
    const stop = (signal: string) => {
      signals.off("SIGTERM", onTerm);
      signals.off("SIGINT", onInt);
      logger.log("info", "shutting down", { signal });
      gate.close().then(resolve, (error: unknown) => {
        logger.log("error", "shutdown failed", { error: String(error) });
        resolve();
      });
    };
    const onTerm = () => stop("SIGTERM");
    const onInt = () => stop("SIGINT");
    signals.on("SIGTERM", onTerm);
    signals.on("SIGINT", onInt);
  });
  return 0;
}

/** `modelvet token create`: prints a new token once; only its hash is stored. */
export async function runTokenCreate(options: TokenCreateOptions, term: Terminal): Promise<number> {
  // The same default database file as `serve`: next to the policy file found upward, else here.
  const { path: policyPath } = await resolvePolicy(undefined, ".");
  const store = await openStore(
    parseDbUrl(options.db, policyPath === null ? "." : folderOf(policyPath)),
  );
  try {
    const { token, record } = await createToken(store, options.role, options.name ?? null);
    term.stdout.write(`${token}\n`);
    term.stderr.write(
      `modelvet: created ${record.role} token ${record.id}; it is shown once and only its hash is stored\n`,
    );
    return 0;
  } finally {
    await store.close();
  }
}

/** Opens the store `serve` would use (the same default file as `token create`). */
async function openGateStore(db: string | undefined) {
  const { path: policyPath } = await resolvePolicy(undefined, ".");
  return openStore(parseDbUrl(db, policyPath === null ? "." : folderOf(policyPath)));
}

/** `modelvet token list`: one line per live token; never the token itself (only its hash is kept). */
export async function runTokenList(options: { db?: string }, term: Terminal): Promise<number> {
  const store = await openGateStore(options.db);
  try {
    const tokens = await store.listTokens();
    for (const t of tokens) {
      term.stdout.write(`${t.id}  ${t.role.padEnd(6)}  ${t.createdAt}  ${t.name ?? ""}\n`);
    }
    if (tokens.length === 0) term.stderr.write("modelvet: no live tokens\n");
    return 0;
  } finally {
    await store.close();
  }
}

/** `modelvet token revoke ID`: exit 0 when revoked, 1 when no live token has that id. */
export async function runTokenRevoke(
  id: string,
  options: { db?: string },
  term: Terminal,
): Promise<number> {
  const store = await openGateStore(options.db);
  try {
    if (await store.revokeToken(id, "cli")) {
      term.stderr.write(`modelvet: revoked token ${id}\n`);
      return 0;
    }
    term.stderr.write(`modelvet: no live token has the id ${id} (see modelvet token list)\n`);
    return 1;
  } finally {
    await store.close();
  }
}
