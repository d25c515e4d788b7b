import { type Command, InvalidArgumentError, Option } from "commander";
import { isSeverity, SEVERITIES, type Severity } from "../core/finding.js";
import { ROLES, type Role } from "../server/gate-store.js";
import type { PolicyChoice } from "./program.js";

/** What `modelvet serve` was asked to do. */
export interface ServeCommandOptions {
  upstream: string;
  port: number;
  host: string;
  /** `sqlite:PATH`, a path, or `postgres://…`; default ./modelvet-gate.db next to the policy. */
  db?: string;
  policy?: PolicyChoice;
  failOn?: Severity | "none";
  blockRepo: boolean;
  publicUrl?: string;
  logLevel: "debug" | "info" | "warn" | "error";
}

/** What `modelvet token create` was asked to do. */
export interface TokenCreateOptions {
  role: Role;
  name?: string;
  db?: string;
}

function parsePort(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) {
    throw new InvalidArgumentError("expected a port number (0-65535)");
  }
  return n;
}

function parseFailOn(value: string): Severity | "none" {
  if (value === "none" || isSeverity(value)) return value;
  throw new InvalidArgumentError(`expected one of ${[...SEVERITIES, "none"].join(", ")}`);
}

/** Adds `serve` and `token create|list|revoke` to the program; parsing only, the work is in the callbacks. */
export function addGateCommands(
  program: Command,
  actions: {
    serve: (options: ServeCommandOptions) => Promise<void>;
    tokenCreate: (options: TokenCreateOptions) => Promise<void>;
    tokenList: (options: { db?: string }) => Promise<void>;
    tokenRevoke: (id: string, options: { db?: string }) => Promise<void>;
  },
): void {
  program
    .command("serve")
    .description(
      "Run the gate: a Hugging Face Hub proxy that scans every file before its first byte is " +
        "served and refuses (403) those at or above the policy's fail-on. Point clients at it with " +
        "HF_ENDPOINT=http://HOST:PORT (docs/gate.md).",
    )
    .option("--upstream <url>", "the Hub to front", "https://huggingface.co")
    .addOption(new Option("--port <n>", "port to listen on").argParser(parsePort).default(8080))
    .option("--host <host>", "address to listen on", "127.0.0.1")
    .option(
      "--db <url>",
      "store: sqlite:PATH or a file path (default ./modelvet-gate.db next to the policy file), " +
        "or postgres://… (shared by several instances; scans go through a job queue)",
    )
    .option("--policy <file>", "policy file (default: modelvet.yaml found upward from here)")
    .option("--no-policy", "apply no policy file, only the built-in policy")
    .addOption(
      new Option(
        "--fail-on <severity>",
        "refuse files with a finding at or above this (default: the policy's fail-on, else medium)",
      ).argParser(parseFailOn),
    )
    .option("--block-repo", "one refused file blocks every file of its repo at that commit", false)
    .option("--public-url <url>", "the gate's URL as clients see it (default: from Host)")
    .addOption(
      new Option("--log-level <level>", "least severe log line written")
        .choices(["debug", "info", "warn", "error"])
        .default("info"),
    )
    .action(async (raw: Record<string, unknown>) => {
      const options: ServeCommandOptions = {
        upstream: String(raw.upstream),
        port: raw.port as number,
        host: String(raw.host),
        blockRepo: raw.blockRepo === true,
        logLevel: raw.logLevel as ServeCommandOptions["logLevel"],
      };
      if (typeof raw.db === "string") options.db = raw.db;
      if (typeof raw.policy === "string" || raw.policy === false) options.policy = raw.policy;
      if (raw.failOn !== undefined) options.failOn = raw.failOn as Severity | "none";
      if (typeof raw.publicUrl === "string") options.publicUrl = raw.publicUrl;
      await actions.serve(options);
    });
  const token = program.command("token").description("Manage the gate's API tokens.");
  token
    .command("create")
    .description("Create an API token for the gate and print it once (only its hash is stored).")
    .addOption(new Option("--role <role>", "admin or reader").choices(ROLES).makeOptionMandatory())
    .option("--name <name>", "who or what the token is for")
    .option("--db <url>", "the gate's store (as for serve)")
    .action(async (raw: Record<string, unknown>) => {
      const options: TokenCreateOptions = { role: raw.role as Role };
      if (typeof raw.name === "string") options.name = raw.name;
      if (typeof raw.db === "string") options.db = raw.db;
      await actions.tokenCreate(options);
    });
  token
    .command("list")
    .description(
      "List the gate's live API tokens: id, role, name and creation time (never the token).",
    )
    .option("--db <url>", "the gate's store (as for serve)")
    .action(async (raw: Record<string, unknown>) => {
      await actions.tokenList(typeof raw.db === "string" ? { db: raw.db } : {});
    });
  token
    .command("revoke")
    .description("Revoke an API token by its id (from `token list`); the gate refuses it at once.")
    .argument("<id>", "the token's id")
    .option("--db <url>", "the gate's store (as for serve)")
    .action(async (id: string, raw: Record<string, unknown>) => {
      await actions.tokenRevoke(id, typeof raw.db === "string" ? { db: raw.db } : {});
    });
}
