import type { RatedRule } from "../../core/rule-info.js";

/** A rule this module can report: stable id, default severity, one line for docs/rules.md. */
export type MsgpackRule = RatedRule;

/**
 * Rules of the Flax msgpack analyser. msgpack itself cannot run code (Flax decodes only its own
 * extension types, into numpy arrays and numbers), so a valid file is safe; what remains is what
 * a custom decoder would interpret, and structure loaders refuse.
 */
export const MSGPACK_RULES = Object.freeze({
  unknownExt: {
    id: "msgpack.unknown-ext",
    severity: "medium",
    description:
      "An extension type Flax does not define (Flax's are 1 ndarray, 2 complex, 3 numpy scalar): a custom ext_hook must interpret it, and what it does with the bytes cannot be vouched for.",
  },
  unknownDtype: {
    id: "msgpack.unknown-dtype",
    severity: "low",
    description: "An array extension names a dtype Flax does not write; numpy may refuse it.",
  },
  malformed: {
    id: "msgpack.malformed",
    severity: "high",
    description:
      "Structure msgpack-python or Flax refuses or reads differently: truncated values, lengths past the end, invalid UTF-8, non-string keys, bad array extensions, bytes after the value.",
  },
} satisfies Record<string, MsgpackRule>);

export type MsgpackRuleKey = keyof typeof MSGPACK_RULES;
