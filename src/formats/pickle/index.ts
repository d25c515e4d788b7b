import { memorySource } from "../../core/byte-source.js";
import type { FormatAnalyser } from "../types.js";
import { analysePickle } from "./analyse-pickle.js";
import { OPCODE_BY_CODE } from "./opcodes.js";

/**
 * The pickle format: any byte stream whose first byte is PROTO (0x80) or a protocol-0/1 opcode.
 * Pickle is detected last (almost any byte starts one); `analyse` sets `notThisFormat` when the
 * bytes fault before doing anything a loader would act on.
 */
export const pickleFormat: FormatAnalyser = {
  id: "pickle",
  version: 2,
  description: "Python pickle streams (protocols 0–5), read by a symbolic machine, never executed.",
  detect(probe) {
    const first = probe.head[0];
    if (first === undefined) return false;
    if (first === 0x80) return true;
    const info = OPCODE_BY_CODE[first];
    return info !== undefined && info.proto <= 1;
  },
  async analyse(artifact, ctx) {
    const report = await analysePickle(artifact.source, ctx);
    const first = report.pickles[0];
    const protocol = first?.protocol ?? first?.opcodeProtocol;
    return {
      format: "pickle",
      findings: report.findings,
      // Constant bytes handed to a nested loader are analysed like any other member.
      children: report.nestedPayloads.map((p) => ({
        name: `(bytes passed to ${p.callee} at offset ${p.offset})`,
        source: memorySource(p.bytes),
      })),
      ...(report.fault?.code === "read-error"
        ? { unanalysable: true }
        : report.fault && !report.actedOn
          ? { notThisFormat: true }
          : {}),
      details: {
        ...(protocol === undefined ? {} : { protocol }),
        pickles: report.pickles.length,
        opcodes: report.opcodeCount,
      },
    };
  },
};

export {
  analysePickle,
  MAX_NESTED_PAYLOADS,
  type NestedPayload,
  type PickleAnalysisOptions,
  type PickleReport,
} from "./analyse-pickle.js";
export { mapPython2Name } from "./compat-names.js";
export type { PyInt } from "./decode-text.js";
export {
  type RenderOptions,
  renderBuild,
  renderCall,
  renderGlobal,
  renderImport,
  renderValue,
} from "./decompile.js";
export {
  type DecodedOp,
  type DisassembleOptions,
  type DisassemblyResult,
  disassemble,
  disassembleToList,
  type GlobalArgument,
  type OpArgument,
  type OpVisitor,
  type SkippedArgument,
} from "./disassemble.js";
export type { FaultCode, PickleFault } from "./fault.js";
export {
  type GlobalUsage,
  type LimitHit,
  type MachineOptions,
  PickleMachine,
  type PickleSegment,
} from "./machine.js";
export {
  ARGUMENTS,
  type ArgumentDescriptor,
  type ArgumentLength,
  OPCODE_BY_CODE,
  OPCODE_BY_NAME,
  OPCODE_NAMES,
  OPCODES,
  type OpcodeInfo,
  type OpcodeName,
  type ProtocolVersion,
  type StackItem,
} from "./opcodes.js";
export { LIMITS_EXCEEDED_RULE, PICKLE_RULE, PICKLE_RULES, type PickleRule } from "./rules.js";
export type {
  SymBool,
  SymBuffer,
  SymBuild,
  SymBytes,
  SymCall,
  SymDict,
  SymFloat,
  SymGlobal,
  SymInt,
  SymNone,
  SymPersistent,
  SymSequence,
  SymStr,
  SymValue,
} from "./values.js";
export { constantString } from "./values.js";
