import { createHash, randomBytes } from "node:crypto";
import type { GateStore, Role, TokenRecord } from "./gate-store.js";

/** Prefix that makes gate tokens recognisable (in a leaked file, to a secret scanner). */
export const TOKEN_PREFIX = "mvg_";

/** Only this hash is stored; the token itself is shown once and never kept. */
export function hashToken(token: string): string {
  return createHash("sha256").update(token).digest("hex");
}

/** Creates a token with `role`; returns the secret (to print once) and its stored record. */
export async function createToken(
  store: GateStore,
  role: Role,
  name: string | null = null,
): Promise<{ token: string; record: TokenRecord }> {
  const token = TOKEN_PREFIX + randomBytes(32).toString("base64url");
  const record = await store.createToken(hashToken(token), role, name);
  return { token, record };
}

/** The token named by an `Authorization: Bearer …` header, if it is a live gate token. */
export async function authenticate(
  store: GateStore,
  header: string | undefined,
): Promise<TokenRecord | null> {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header ?? "");
  if (match === null || !match[1]!.startsWith(TOKEN_PREFIX)) return null;
  return store.findToken(hashToken(match[1]!));
}
