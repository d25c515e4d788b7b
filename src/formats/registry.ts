import { compressedFormat } from "./compressed/index.js";
import { npyFormat } from "./numpy/index.js";
import { pickleFormat } from "./pickle/index.js";
import { pytorchLegacyFormat } from "./pytorch/legacy.js";
import { sevenZipFormat } from "./sevenzip/index.js";
import { tarFormat } from "./tar/index.js";
import type { FormatAnalyser } from "./types.js";
import { zipFormat } from "./zip/index.js";

/**
 * Every format analyser, in detection order (STYLE.md, after Trivy: one explicit list; a test
 * checks the ids are unique). Formats with a definite signature come first; pickle is last because
 * almost any byte can start one. Order matters where signatures overlap:
 * - tar before zip: a tar whose last member is a zip also shows a zip end record in its tail;
 * - tar and compressed before pickle: tar member names and lzma-alone headers start with bytes
 *   that are pickle opcodes;
 * - pytorch-legacy and npy before pickle: both are pickles with a known frame around them.
 */
export const FORMATS: readonly FormatAnalyser[] = Object.freeze([
  tarFormat,
  compressedFormat,
  zipFormat,
  sevenZipFormat,
  pytorchLegacyFormat,
  npyFormat,
  pickleFormat,
]);
