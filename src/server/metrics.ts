/**
 * A few Prometheus metrics in text exposition format 0.0.4, kept by hand: counters with labels and
 * one histogram. Enough for requests, blocks, scan latency and bytes fetched; no dependency.
 */

type Labels = Record<string, string>;

function labelKey(labels: Labels): string {
  const entries = Object.entries(labels).sort(([a], [b]) => a.localeCompare(b));
  if (entries.length === 0) return "";
  return `{${entries.map(([k, v]) => `${k}="${v.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n")}"`).join(",")}}`;
}

export class Counter {
  readonly #values = new Map<string, number>();
  constructor(
    readonly name: string,
    readonly help: string,
  ) {}
  inc(labels: Labels = {}, by = 1): void {
    const key = labelKey(labels);
    this.#values.set(key, (this.#values.get(key) ?? 0) + by);
  }
  get(labels: Labels = {}): number {
    return this.#values.get(labelKey(labels)) ?? 0;
  }
  render(): string {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} counter`];
    if (this.#values.size === 0) lines.push(`${this.name} 0`);
    for (const [key, value] of this.#values) lines.push(`${this.name}${key} ${value}`);
    return `${lines.join("\n")}\n`;
  }
}

export class Histogram {
  readonly #counts: number[];
  #sum = 0;
  #count = 0;
  constructor(
    readonly name: string,
    readonly help: string,
    readonly buckets: readonly number[],
  ) {
    this.#counts = buckets.map(() => 0);
  }
  observe(value: number): void {
    this.#sum += value;
    this.#count++;
    for (const [i, bound] of this.buckets.entries()) if (value <= bound) this.#counts[i]!++;
  }
  get count(): number {
    return this.#count;
  }
  render(): string {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} histogram`];
    for (const [i, bound] of this.buckets.entries()) {
      lines.push(`${this.name}_bucket{le="${bound}"} ${this.#counts[i]}`);
    }
    lines.push(`${this.name}_bucket{le="+Inf"} ${this.#count}`);
    lines.push(`${this.name}_sum ${this.#sum}`);
    lines.push(`${this.name}_count ${this.#count}`);
    return `${lines.join("\n")}\n`;
  }
}

/** The gate's metrics. */
export class GateMetrics {
  readonly requests = new Counter(
    "modelvet_gate_requests_total",
    "HTTP requests answered, by route kind, method and status.",
  );
  readonly blocks = new Counter(
    "modelvet_gate_blocked_total",
    "Downloads refused, by the rule that decided.",
  );
  readonly scans = new Counter("modelvet_gate_scans_total", "Files scanned, by verdict.");
  readonly scanSeconds = new Histogram(
    "modelvet_gate_scan_duration_seconds",
    "Time to scan one file (fetching its ranges included).",
    [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
  );
  readonly bytesFetched = new Counter(
    "modelvet_gate_upstream_bytes_total",
    "Bytes fetched from the upstream, by purpose (scan or serve).",
  );
  readonly bytesServed = new Counter(
    "modelvet_gate_served_bytes_total",
    "File bytes sent to clients.",
  );
  readonly upstreamErrors = new Counter(
    "modelvet_gate_upstream_errors_total",
    "Upstream requests that failed (network errors and 5xx), answered as 502.",
  );

  render(): string {
    return [
      this.requests,
      this.blocks,
      this.scans,
      this.scanSeconds,
      this.bytesFetched,
      this.bytesServed,
      this.upstreamErrors,
    ]
      .map((m) => m.render())
      .join("");
  }
}
