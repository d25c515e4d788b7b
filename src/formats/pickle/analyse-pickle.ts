/**
 * The reusable pickle analysis: disassembles a byte range, runs the symbolic machine over it and
 * turns what loading would do into findings. The pickle format analyser, and the PyTorch, joblib and
 * NumPy analysers, call {@link analysePickle}.
 */

import type { ByteSource } from "../../core/byte-source.js";
import { type LocalFinding, type Severity, severityRank } from "../../core/finding.js";
import type { GlobalVerdict } from "../../policy/types.js";
import type { ScanContext } from "../types.js";
import { renderBuild, renderImport } from "./decompile.js";
import { type DisassemblyResult, disassemble, type OpVisitor } from "./disassemble.js";
import type { PickleFault } from "./fault.js";
import { type GlobalUsage, type LimitHit, PickleMachine, type PickleSegment } from "./machine.js";
import { OP } from "./opcodes.js";
import { LIMITS_EXCEEDED_RULE, PICKLE_RULE } from "./rules.js";
import type { SymBuild, SymCall, SymGlobal, SymPersistent, SymValue } from "./values.js";

export interface PickleAnalysisOptions {
  /** First byte of the pickle data. @default 0 */
  start?: number;
  /** End of the pickle data (exclusive). @default source.size */
  end?: number;
  /** Stop after this many pickles (e.g. 5 for PyTorch legacy); the rest is not pickle. */
  maxPickles?: number;
  /**
   * Called after each BUILD with the build and the offset after it; returns how many raw bytes
   * (not pickle opcodes) follow, to skip them and go on with the same pickle. joblib writes each
   * array's data right after its `NumpyArrayWrapper`'s BUILD and reads it back from there.
   * `undefined` or 0: nothing to skip.
   */
  rawBytesAfterBuild?: (
    build: SymBuild,
    offset: number,
  ) => number | undefined | Promise<number | undefined>;
}

export interface PickleReport {
  findings: LocalFinding[];
  /** Each pickle in the stream, complete or not. */
  pickles: PickleSegment[];
  /** Every import (GLOBAL, STACK_GLOBAL, INST, EXT*), in order. */
  imports: SymGlobal[];
  /** Every call (REDUCE, INST, OBJ, NEWOBJ, NEWOBJ_EX, and implicit method calls on imports). */
  calls: SymCall[];
  builds: SymBuild[];
  /** Every PERSID/BINPERSID with its symbolic id (PyTorch: `("storage", type, key, location, numel)`). */
  persistentIds: SymPersistent[];
  /** Distinct globals per pickle, with how they are used. */
  globals: GlobalUsage[];
  /** Offset after the last complete pickle's STOP (`start` when there is none). */
  endOffset: number;
  /** Where and why reading stopped early, as a loader would raise. */
  fault?: PickleFault;
  /** The limit that stopped the analysis, if any. */
  limitHit?: LimitHit;
  opcodeCount: number;
  /** Python-like listing of what loading does, bounded. */
  pseudocode: string[];
  /**
   * True when the bytes did something a loader acts on: imported a plausible name, called
   * something, or completed a pickle. False for text that merely starts with an opcode byte.
   */
  actedOn: boolean;
  /**
   * Constant bytes the pickle passes to a dangerous callable (`pickle.loads(b"…")`,
   * `torch.load(io.BytesIO(b"…"))`): a nested payload, for the caller to analyse as a child.
   */
  nestedPayloads: NestedPayload[];
}

/** Constant bytes handed to a nested loader or another dangerous callable. */
export interface NestedPayload {
  /** The callable, e.g. `pickle.loads`. */
  callee: string;
  /** Offset of the call. */
  offset: number;
  bytes: Uint8Array;
}

/** Nested payloads kept per stream. */
export const MAX_NESTED_PAYLOADS = 16;

const PYTHON_NAME = /^[\p{L}\p{Nl}_][\p{L}\p{Nl}\p{Mn}\p{Mc}\p{Nd}\p{Pc}]*$/u;
const isDottedName = (s: string | null): boolean =>
  (s ?? "").split(".").every((part) => PYTHON_NAME.test(part));

const DEFAULT_SEVERITY: Record<Exclude<GlobalVerdict["class"], "allowed">, Severity> = {
  dangerous: "critical",
  known: "low",
  unknown: "medium",
};
const DEFAULT_RULE: Record<Exclude<GlobalVerdict["class"], "allowed">, string> = {
  dangerous: PICKLE_RULE.dangerousGlobal,
  known: PICKLE_RULE.knownGlobal,
  unknown: PICKLE_RULE.unknownGlobal,
};

const CLASS_RANK: Record<GlobalVerdict["class"], number> = {
  allowed: 0,
  known: 1,
  unknown: 2,
  dangerous: 3,
};

const times = (n: number): string => (n === 1 ? "once" : `${n} times`);

/**
 * Analyses the pickle stream in `[options.start, options.end)` of `source`. Never throws on bad
 * input: malformed data is a finding, and everything before the fault is still reported.
 */
export async function analysePickle(
  source: ByteSource,
  ctx: ScanContext,
  options: PickleAnalysisOptions = {},
): Promise<PickleReport> {
  const limits = ctx.limits;
  const start = Math.max(0, Math.min(options.start ?? 0, source.size));
  const end = Math.max(start, Math.min(options.end ?? source.size, source.size));
  const machine = new PickleMachine({
    limits,
    start,
    ...(options.maxPickles === undefined ? {} : { maxPickles: options.maxPickles }),
  });
  const walk = await walkStream(source, machine, start, end, limits.maxDecodedArgument, options);

  let fault: PickleFault | undefined = machine.fault ?? walk.fault;
  if (
    !fault &&
    !walk.stopped &&
    !machine.limitHit &&
    (machine.inPickle || machine.pickles.length === 0)
  ) {
    fault = {
      offset: walk.end,
      code: "truncated",
      reason:
        machine.pickles.length === 0
          ? "the data is empty: there is no pickle at all"
          : "the data ends before the STOP opcode",
    };
  }
  const faultInPickle = machine.inPickle ? machine.pickles[machine.pickles.length - 1] : undefined;
  machine.finish(fault?.offset ?? walk.end);

  const findings: LocalFinding[] = [];
  for (const usage of machine.usages) findings.push(...usageFindings(usage, ctx));
  findings.push(...buildOnCallResultFindings(machine.builds, ctx));

  const complete = machine.completePickles;
  if (fault)
    findings.push(faultFinding(fault, faultInPickle, complete, machine.endOffset, end, options));

  if (machine.limitHit) {
    findings.push({
      rule: LIMITS_EXCEEDED_RULE,
      severity: "high",
      message: `Pickle analysis stopped at offset ${machine.limitHit.offset}: ${machine.limitHit.message} (limit ${machine.limitHit.limit}). What follows was not analysed.`,
      offset: machine.limitHit.offset,
    });
  }
  if (options.maxPickles === undefined && machine.pickles.length > 1 && complete > 1) {
    findings.push({
      rule: PICKLE_RULE.stacked,
      severity: "info",
      message: `This stream holds ${complete} complete pickles one after another. A single pickle.load reads only the first; code that calls load repeatedly runs them all. All were analysed.`,
      offset: machine.pickles[1]!.start,
    });
  }

  const pseudocode = [...machine.listing];
  if (machine.listingDropped > 0) {
    pseudocode.push(`# … ${machine.listingDropped} more statements not shown`);
  }

  const actedOn =
    complete > 0 ||
    machine.calls.length > 0 ||
    machine.imports.some((g) => !g.constant || (isDottedName(g.module) && isDottedName(g.name)));

  return {
    findings: capFindings(findings, limits.maxFindingsPerArtifact),
    pickles: machine.pickles,
    imports: machine.imports,
    calls: machine.calls,
    builds: machine.builds,
    persistentIds: machine.persistentIds,
    globals: machine.usages,
    endOffset: machine.endOffset,
    ...(fault ? { fault } : {}),
    ...(machine.limitHit ? { limitHit: machine.limitHit } : {}),
    opcodeCount: machine.opcodeCount,
    pseudocode,
    actedOn,
    nestedPayloads: nestedPayloads(machine.calls, ctx),
  };
}

/** Constant bytes among the arguments of calls to dangerous callables (searched a few levels deep). */
function nestedPayloads(calls: readonly SymCall[], ctx: ScanContext): NestedPayload[] {
  const found: NestedPayload[] = [];
  const collect = (v: SymValue, depth: number, callee: string, offset: number): void => {
    if (found.length >= MAX_NESTED_PAYLOADS || depth > 3) return;
    if ((v.kind === "bytes" || v.kind === "bytearray") && v.value !== null && v.length > 0) {
      found.push({ callee, offset, bytes: v.value });
    } else if (v.kind === "tuple" || v.kind === "list") {
      for (const item of v.items) collect(item, depth + 1, callee, offset);
    } else if (v.kind === "call" && v.method === undefined) {
      collect(v.args, depth + 1, callee, offset); // io.BytesIO(b"…")
    }
  };
  for (const call of calls) {
    if (found.length >= MAX_NESTED_PAYLOADS) break;
    const g = call.callable;
    if (call.method !== undefined || g.kind !== "global" || g.module === null || g.name === null) {
      continue;
    }
    if (!g.constant || classify(g, ctx).class !== "dangerous") continue;
    collect(call.args, 0, `${g.module}.${g.name}`, call.offset);
  }
  return found;
}

/** Disassembles into the machine, pausing after BUILDs for `rawBytesAfterBuild` when given. */
async function walkStream(
  source: ByteSource,
  machine: PickleMachine,
  start: number,
  end: number,
  maxDecodedArgument: number,
  options: PickleAnalysisOptions,
): Promise<DisassemblyResult> {
  const hook = options.rawBytesAfterBuild;
  if (!hook) return disassemble(source, machine, { start, end, maxDecodedArgument });
  let paused: { build: SymBuild; end: number } | undefined;
  const visitor: OpVisitor = {
    op(code, arg, offset, opEnd) {
      const go = machine.op(code, arg, offset, opEnd);
      if (go && code === OP.BUILD && machine.lastBuild) {
        paused = { build: machine.lastBuild, end: opEnd };
        return false;
      }
      return go;
    },
  };
  let pos = start;
  for (;;) {
    const walk = await disassemble(source, visitor, { start: pos, end, maxDecodedArgument });
    if (!paused) return walk;
    const { build, end: after } = paused;
    paused = undefined;
    const skip = Math.max(0, (await hook(build, after)) ?? 0);
    pos = after + skip;
    if (pos > end) {
      const reason = `BUILD at offset ${build.offset} is followed by ${skip} bytes of raw data, past the end of the data`;
      return { end: after, stopped: false, fault: { offset: after, code: "truncated", reason } };
    }
  }
}

function classify(g: SymGlobal, ctx: ScanContext): GlobalVerdict {
  const verdict = ctx.policy.classifyGlobal(g.module!, g.name!);
  if (!g.written) return verdict;
  // Python 2 renames: judge the name as written too, and keep the more severe reading.
  const written = ctx.policy.classifyGlobal(g.written.module, g.written.name);
  return CLASS_RANK[written.class] > CLASS_RANK[verdict.class] ? written : verdict;
}

function usageFindings(usage: GlobalUsage, ctx: ScanContext): LocalFinding[] {
  const g = usage.global;
  const maxLength = ctx.limits.maxPseudocodeLength;
  const findings: LocalFinding[] = [];
  const qualified =
    g.extensionCode !== undefined
      ? `copyreg extension ${g.extensionCode}`
      : g.constant
        ? `${g.module}.${g.name}`
        : undefined;
  const pseudocode = usage.evidence?.pseudocode ?? renderImport(g, { maxLength });
  const offset = usage.evidence?.offset ?? g.offset;
  const opcode = usage.evidence?.opcode ?? g.opcode;
  const use =
    usage.calls > 0
      ? `called ${times(usage.calls)}`
      : usage.evidence
        ? "used in a call"
        : "not called directly";
  const pickleNote = g.pickle > 0 ? ` in pickle ${g.pickle}` : "";
  const where = `imported at offset ${g.offset} by ${g.opcode}${pickleNote}`;

  if (g.extensionCode !== undefined) {
    findings.push({
      rule: PICKLE_RULE.extensionCode,
      severity: "high",
      message: `${g.opcode} at offset ${g.offset}${pickleNote} loads extension code ${g.extensionCode}: the copyreg extension registry resolves it to an arbitrary callable at load time (${use}).`,
      offset: g.offset,
      evidence: { global: qualified!, pseudocode, opcode },
    });
  } else if (!g.constant) {
    const known = knownPart(g, ctx);
    findings.push({
      rule: PICKLE_RULE.nonConstantGlobal,
      severity: known ? "critical" : "high",
      message: `STACK_GLOBAL at offset ${g.offset}${pickleNote} imports a name that is not a constant string (${g.nonConstantReason ?? "unknown"}); what it loads cannot be checked (${use}).${known ? ` Whatever it is, ${known.what}: ${known.verdict.reason.replace(/[.\s]+$/, "")}.` : ""}`,
      offset: g.offset,
      evidence: { pseudocode, opcode },
      ...(known?.verdict.references && known.verdict.references.length > 0
        ? { references: [...known.verdict.references] }
        : {}),
    });
  } else {
    const verdict = classify(g, ctx);
    if (verdict.class !== "allowed") {
      const cls = verdict.class;
      const renamed = g.written ? ` (written as ${g.written.module}.${g.written.name})` : "";
      findings.push({
        rule: verdict.rule ?? DEFAULT_RULE[cls],
        severity: verdict.severity ?? DEFAULT_SEVERITY[cls],
        message: `${qualified}${renamed}: ${verdict.reason.replace(/[.\s]+$/, "")}. ${capitalise(where)}, ${use}.`,
        offset,
        evidence: { global: qualified!, pseudocode, opcode },
        ...(verdict.references && verdict.references.length > 0
          ? { references: [...verdict.references] }
          : {}),
      });
    }
  }

  if (usage.replaced) {
    const now = qualified ? `\`${qualified}\`` : "an object the pickle stored there";
    findings.push({
      rule: PICKLE_RULE.replacedGlobal,
      severity: "high",
      message: `${usage.replaced.written}${pickleNote} does not load what its name says: the pickle replaced it (or a module it lives in) at offset ${usage.replaced.offset}, by BUILD on an imported object or a sys.modules entry, so the loader gets ${now} (${use}).`,
      offset,
      evidence: { ...(qualified ? { global: qualified } : {}), pseudocode, opcode },
    });
  }
  if (usage.builds > 0 && usage.buildEvidence) {
    const target = qualified ?? "an imported object";
    findings.push({
      rule: PICKLE_RULE.buildOnGlobal,
      severity: "high",
      message: `BUILD at offset ${usage.buildEvidence.offset}${pickleNote} sets state on ${target} itself (a function, class or module, not a new instance)${usage.builds > 1 ? `, ${usage.builds} times` : ""}.`,
      offset: usage.buildEvidence.offset,
      evidence: {
        ...(qualified ? { global: qualified } : {}),
        pseudocode: usage.buildEvidence.pseudocode,
        opcode: "BUILD",
      },
    });
  }
  if (usage.methodCalls > 0 && usage.methodEvidence) {
    const target = qualified ?? "an imported object";
    findings.push({
      rule: PICKLE_RULE.methodOnGlobal,
      severity: "high",
      message: `${usage.methodEvidence.opcode} at offset ${usage.methodEvidence.offset}${pickleNote} makes the loader call a method of ${target} itself${usage.methodCalls > 1 ? ` (${usage.methodCalls} times)` : ""}.`,
      offset: usage.methodEvidence.offset,
      evidence: {
        ...(qualified ? { global: qualified } : {}),
        pseudocode: usage.methodEvidence.pseudocode,
        opcode: usage.methodEvidence.opcode,
      },
    });
  }
  return findings;
}

/**
 * For a non-constant STACK_GLOBAL whose module (or name) is still a known constant: the policy's
 * verdict when that part alone makes any import dangerous (every attribute of `os`; a name like
 * `check_output` wherever it comes from).
 */
function knownPart(
  g: SymGlobal,
  ctx: ScanContext,
): { what: string; verdict: GlobalVerdict } | undefined {
  if (g.module !== null) {
    // A placeholder name that no allowlist holds: only a denial of the whole module matches.
    const verdict = ctx.policy.classifyGlobal(g.module, "*");
    if (verdict.class === "dangerous") {
      return { what: `it is an attribute of the module \`${g.module}\``, verdict };
    }
  }
  if (g.name !== null) {
    const verdict = ctx.policy.classifyGlobal("<computed>", g.name);
    if (verdict.class === "dangerous") return { what: `its name is \`${g.name}\``, verdict };
  }
  return undefined;
}

/** Callables that hand back an object that already exists (a module, an attribute), by name. */
const EXISTING_OBJECT_RETURNERS: ReadonlySet<string> = new Set([
  "builtins.__import__",
  "builtins.getattr",
  "builtins.vars",
  "importlib.import_module",
  "importlib.__import__",
  "pkgutil.resolve_name",
  "pydoc.locate",
  "operator.getitem",
  "_operator.getitem",
]);

/**
 * BUILD on the result of a call that returns an existing object rather than a new instance (an
 * importer, `getattr`, an attribute fetched at load time, a non-constant import): it rewrites a
 * module, function or class. Constructors build new objects and are not reported here.
 */
function buildOnCallResultFindings(builds: readonly SymBuild[], ctx: ScanContext): LocalFinding[] {
  let first: { build: SymBuild; callee: string; certain: boolean } | undefined;
  let count = 0;
  for (const build of builds) {
    const target = build.target;
    if (target.kind !== "call" || target.method !== undefined) continue;
    const callee = target.callable;
    let name: string | undefined;
    let certain = false;
    if (callee.kind === "call") name = "a callable fetched at load time";
    else if (callee.kind === "global" && !callee.constant) name = "a non-constant import";
    else if (callee.kind === "global" && callee.module !== null && callee.name !== null) {
      const qualified = `${callee.module}.${callee.name}`;
      if (EXISTING_OBJECT_RETURNERS.has(qualified)) [name, certain] = [qualified, true];
    }
    if (name === undefined) continue;
    count++;
    first ??= { build, callee: name, certain };
  }
  if (!first) return [];
  const maxLength = ctx.limits.maxPseudocodeLength;
  const pickleNote = first.build.pickle > 0 ? ` in pickle ${first.build.pickle}` : "";
  return [
    {
      rule: PICKLE_RULE.buildOnGlobal,
      severity: "high",
      message: `BUILD at offset ${first.build.offset}${pickleNote} sets state on what ${first.callee} returned — ${first.certain ? "an object that already exists" : "an object that may already exist"} (a module, function or class), not an instance the pickle constructed${count > 1 ? ` (${count} such BUILDs)` : ""}.`,
      offset: first.build.offset,
      evidence: {
        pseudocode: renderBuild(first.build, { inline: true, maxLength }),
        opcode: "BUILD",
      },
    },
  ];
}

function faultFinding(
  fault: PickleFault,
  inPickle: PickleSegment | undefined,
  complete: number,
  endOffset: number,
  end: number,
  options: PickleAnalysisOptions,
): LocalFinding {
  const expectedMore = options.maxPickles !== undefined && complete < options.maxPickles;
  const afterStop = complete > 0 && !expectedMore && (inPickle === undefined || inPickle.index > 0);
  const evidence = fault.opcode ? { evidence: { opcode: fault.opcode } } : {};
  if (afterStop) {
    const partial = inPickle
      ? ` They start like another pickle (from offset ${inPickle.start}), which was analysed up to the fault: ${fault.reason} at offset ${fault.offset}.`
      : ` At offset ${fault.offset}: ${fault.reason}.`;
    return {
      rule: PICKLE_RULE.trailingData,
      severity: "high",
      message: `${end - endOffset} bytes follow the pickle's STOP (which ends at offset ${endOffset}) and are not a complete pickle.${partial} pickle.load ignores them, but data hidden after STOP is a common evasion, and another load call would run them.`,
      offset: endOffset,
      ...evidence,
    };
  }
  const which = inPickle && inPickle.index > 0 ? ` (pickle ${inPickle.index})` : "";
  return {
    rule: PICKLE_RULE.malformed,
    severity: "high",
    message: `Malformed pickle${which}: ${fault.reason} at offset ${fault.offset}. A loader runs every opcode before this point, so anything above it — including any payload — would already have run; what follows was not analysed.`,
    offset: fault.offset,
    ...evidence,
  };
}

function capitalise(s: string): string {
  return s.length > 0 ? s[0]!.toUpperCase() + s.slice(1) : s;
}

/** Keeps the most severe findings when there are more than the limit, and says so. */
function capFindings(findings: LocalFinding[], max: number): LocalFinding[] {
  if (findings.length <= max) return findings;
  const kept = [...findings]
    .map((f, i) => ({ f, i }))
    .sort((a, b) => severityRank(b.f.severity) - severityRank(a.f.severity) || a.i - b.i)
    .slice(0, Math.max(0, max - 1))
    .sort((a, b) => a.i - b.i)
    .map(({ f }) => f);
  kept.push({
    rule: LIMITS_EXCEEDED_RULE,
    severity: "high",
    message: `${findings.length - kept.length} more pickle findings were not listed (limit maxFindingsPerArtifact = ${max}).`,
  });
  return kept;
}
