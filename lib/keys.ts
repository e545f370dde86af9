/** Store keys, in one place so every reader and writer agrees on the layout. */
export const keys = {
  snapshot: (model: string, sha: string, format: string) => `datasets/${model}/${sha}.${format}`,
  split: (model: string, sha: string, splitId: string, part: 'train' | 'holdout') => `datasets/${model}/${sha}/split-${splitId}/${part}.csv`,
  artifact: (model: string, version: string, file: string) => `models/${model}/${version}/${file}`,
  version: (model: string, version: string) => `registry/${model}/versions/${version}.json`,
  versions: (model: string) => `registry/${model}/versions/`,
  pointer: (model: string) => `registry/${model}/champion.json`,
  evaluation: (model: string, challenger: string, champion: string | null) => `registry/${model}/evaluations/${challenger}-vs-${champion ?? 'none'}.json`,
  auditEvent: (model: string, id: string) => `audit/${model}/${id}.json`,
  audit: (model: string) => `audit/${model}/`,
  alert: (model: string, id: string) => `alerts/${model}/${id}.json`,
};
