import type { RuleInfo } from "../../core/rule-info.js";

export const PYTORCH_RULE = {
  storageLayout: "pytorch.storage-layout",
  trailingData: "pytorch.trailing-data",
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
]);
