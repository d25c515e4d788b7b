import type { RuleInfo } from "../../core/rule-info.js";

export const PYTORCH_RULE = {
  storageLayout: "pytorch.storage-layout",
  trailingData: "pytorch.trailing-data",
  multipleDataPkl: "pytorch.multiple-data-pkl",
  unexpectedPickle: "pytorch.unexpected-pickle",
  unusedStorage: "pytorch.unused-storage",
  torchscriptEscape: "torchscript.escape",
  torchscript: "pytorch.torchscript",
} as const;

export const PYTORCH_RULES: readonly RuleInfo[] = Object.freeze([
  {
    id: PYTORCH_RULE.storageLayout,
    description:
      "A PyTorch checkpoint's storages do not match what its pickles declare (missing, unknown type, or past the end).",
  },
  {
    id: PYTORCH_RULE.trailingData,
    description:
      "Bytes after the last storage of a legacy PyTorch checkpoint, which torch.load never reads.",
  },
  {
    id: PYTORCH_RULE.multipleDataPkl,
    description:
      "A zip checkpoint holds several data.pkl members: torch.load reads one, other tools may read another.",
  },
  {
    id: PYTORCH_RULE.unexpectedPickle,
    description:
      "A pickle member outside the places torch.load reads; analysed anyway, since other loaders may read it.",
  },
  {
    id: PYTORCH_RULE.unusedStorage,
    description: "Storage members no persistent id refers to; never read by torch.load.",
  },
  {
    id: PYTORCH_RULE.torchscript,
    severity: "info",
    description:
      "A TorchScript archive (torch.jit.save): torch.load hands it to torch.jit.load, even with weights_only=True before PyTorch 2.6 (CVE-2025-32434), and its scripted code can run while loading.",
  },
  {
    id: PYTORCH_RULE.torchscriptEscape,
    description:
      "TorchScript code in a torch.jit archive that reaches beyond tensor maths: files, custom native operators, Python built-ins.",
  },
]);
