import type { FileResult } from "../../src/scan/results.js";
import type {
  AuditEntry,
  DecisionAction,
  DecisionRecord,
  GateException,
  ScanRecord,
  TokenRecord,
} from "../../src/server/gate-store.js";

export type { AuditEntry, DecisionAction, DecisionRecord, GateException };

/** A scan as listed: the record without its result, with the number of findings. */
export type ScanSummary = Omit<ScanRecord, "result"> & { findings: number };

export interface NewException {
  repo: string;
  path?: string;
  revision?: string;
  contentHash?: string;
  reason: string;
  /** YYYY-MM-DD (end of that day, UTC) or an ISO instant. */
  expires: string;
}

/** An answer of the gate other than success, with its message for the user. */
export class GateApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = "GateApiError";
  }
}

/**
 * The gate's JSON API (`/gate/v1`, src/server/api.ts) as seen from the dashboard: same origin,
 * token in `Authorization`, never in a URL.
 */
export class GateApi {
  constructor(
    private readonly token: string,
    private readonly base = "gate/v1",
  ) {}

  private async call<T>(path: string, init: RequestInit = {}): Promise<T> {
    const headers: Record<string, string> = { authorization: `Bearer ${this.token}` };
    if (init.body !== undefined) headers["content-type"] = "application/json";
    const response = await fetch(`${this.base}${path}`, {
      ...init,
      headers,
      cache: "no-store",
      credentials: "omit",
    });
    const text = await response.text();
    let body: unknown = null;
    try {
      body = text === "" ? null : JSON.parse(text);
    } catch {
      body = null;
    }
    if (!response.ok) {
      const message =
        (body as { error?: unknown } | null)?.error ?? `${response.status} ${response.statusText}`;
      throw new GateApiError(response.status, String(message));
    }
    return body as T;
  }

  whoami(): Promise<Pick<TokenRecord, "id" | "role" | "name">> {
    return this.call("/whoami");
  }

  async decisions(action?: DecisionAction, limit = 200): Promise<DecisionRecord[]> {
    const q = new URLSearchParams({ limit: String(limit) });
    if (action) q.set("action", action);
    return (await this.call<{ decisions: DecisionRecord[] }>(`/decisions?${q}`)).decisions;
  }

  async scans(repo: string, limit = 500): Promise<ScanSummary[]> {
    const q = new URLSearchParams({ repo, limit: String(limit) });
    return (await this.call<{ scans: ScanSummary[] }>(`/scans?${q}`)).scans;
  }

  scan(id: string): Promise<ScanSummary & { result: FileResult }> {
    return this.call(`/scans/${encodeURIComponent(id)}`);
  }

  async exceptions(): Promise<GateException[]> {
    return (await this.call<{ exceptions: GateException[] }>("/exceptions")).exceptions;
  }

  addException(exception: NewException): Promise<GateException> {
    return this.call("/exceptions", { method: "POST", body: JSON.stringify(exception) });
  }

  revokeException(id: string): Promise<{ revoked: string }> {
    return this.call(`/exceptions/${encodeURIComponent(id)}`, { method: "DELETE" });
  }

  async audit(limit = 200): Promise<AuditEntry[]> {
    return (await this.call<{ audit: AuditEntry[] }>(`/audit?limit=${limit}`)).audit;
  }
}
