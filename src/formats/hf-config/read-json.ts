import type { LocalFinding } from "../../core/finding.js";
import type { Artifact } from "../types.js";
import { type JsonValue, parseJson } from "./parse-json.js";
import { HF_RULES } from "./rules.js";

/** Largest JSON config read (tokenizer configs with 100k+ added tokens run to a few MB). */
export const MAX_JSON_CONFIG_BYTES = 64 * 1024 * 1024;

const STRICT_UTF8 = new TextDecoder("utf-8", { fatal: true });

export type JsonRead =
  | { ok: true; value: JsonValue; text: string; bytes: Uint8Array }
  | { ok: false; findings: LocalFinding[]; unanalysable: boolean };

/** UTF-8 byte offset of a character index. */
export function byteOffsetOf(text: string, index: number): number {
  return new TextEncoder().encode(text.slice(0, index)).length;
}

/** Reads and parses a JSON artifact with bounded size; failures are findings. */
export async function readJsonArtifact(artifact: Artifact): Promise<JsonRead> {
  const size = artifact.source.size;
  if (size > MAX_JSON_CONFIG_BYTES) {
    return {
      ok: false,
      unanalysable: true,
      findings: [
        {
          rule: "limits.exceeded",
          severity: "high",
          message: `This JSON config is ${size} bytes, over the ${MAX_JSON_CONFIG_BYTES}-byte limit (MAX_JSON_CONFIG_BYTES); it was not read.`,
        },
      ],
    };
  }
  const bytes = await artifact.source.read(0, size);
  let text: string;
  try {
    text = STRICT_UTF8.decode(bytes);
  } catch {
    return malformed("The file is not valid UTF-8, so Python's json reader refuses it.", undefined);
  }
  const parsed = parseJson(text);
  if (!parsed.ok) {
    return malformed(
      `Python's json.loads would refuse this file (${parsed.error.message}); it could not be vetted.`,
      byteOffsetOf(text, parsed.error.index),
    );
  }
  return { ok: true, value: parsed.value, text, bytes };
}

function malformed(message: string, offset: number | undefined): JsonRead {
  const rule = HF_RULES.malformedConfig;
  return {
    ok: false,
    unanalysable: false,
    findings: [
      {
        rule: rule.id,
        severity: rule.severity,
        message,
        ...(offset === undefined ? {} : { offset }),
      },
    ],
  };
}

/** The head as text starting (after JSON whitespace) with `{`, or `null`. */
export function jsonObjectHead(head: Uint8Array): string | null {
  let i = 0;
  while (
    i < head.length &&
    (head[i] === 0x20 || head[i] === 0x09 || head[i] === 0x0a || head[i] === 0x0d)
  ) {
    i++;
  }
  if (head[i] !== 0x7b) return null;
  return new TextDecoder().decode(head);
}
