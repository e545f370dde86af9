/** Store keys, in one place so every reader and writer agrees on the layout. */
export const keys = {
  snapshot: (model: string, sha: string, format: string) => `datasets/${model}/${sha}.${format}`,
  split: (model: string, sha: string, splitId: string, part: 'train' | 'holdout') =>
    `datasets/${model}/${sha}/split-${splitId}/${part}.csv`,
  artifact: (model: string, version: string, file: string) => `models/${model}/${version}/${file}`,
  /** Reference profiles of a version: `features` (training split) and `prediction` (holdout predictions). */
  referenceProfile: (model: string, version: string, name: 'features' | 'prediction') =>
    `models/${model}/${version}/reference/${name}.json`,
  referenceValues: (model: string, version: string, name: 'features' | 'prediction', file: string) =>
    `models/${model}/${version}/reference/${name}-${file}`,
  /** The calibration of a binary classifier's holdout scores: performance estimated before labels arrive. */
  calibration: (model: string, version: string) => `models/${model}/${version}/reference/calibration.json`,
  version: (model: string, version: string) => `registry/${model}/versions/${version}.json`,
  versions: (model: string) => `registry/${model}/versions/`,
  pointer: (model: string) => `registry/${model}/champion.json`,
  /** Every evaluation of every version of a model. */
  evaluations: (model: string) => `registry/${model}/evaluations/`,
  /** Every evaluation of `challenger`, whatever champion it was compared with. */
  evaluationsOf: (model: string, challenger: string) => `registry/${model}/evaluations/${challenger}-vs-`,
  evaluation: (model: string, challenger: string, champion: string | null) =>
    `registry/${model}/evaluations/${challenger}-vs-${champion ?? 'none'}.json`,
  auditEvent: (model: string, id: string) => `audit/${model}/${id}.json`,
  audit: (model: string) => `audit/${model}/`,
  driftReport: (model: string, checkId: string, ext: 'json' | 'html') => `reports/${model}/${checkId}.${ext}`,
  driftReports: (model: string) => `reports/${model}/`,
  /** A partitioned drift check's summary of the hours from `firstHour` ('YYYY-MM-DDTHH'): scratch, removed when the check ends. */
  driftSummary: (model: string, checkId: string, firstHour: string) => `drift-summaries/${model}/${checkId}/${firstHour}.json`,
  /** The recent drift checks' outcomes of a model, for the alert policy (lib/drift/alert-policy.ts). */
  driftAlertState: (model: string) => `drift-alerts/${model}/checks.json`,
  alert: (model: string, id: string) => `alerts/${model}/${id}.json`,
  /** That one route of an alert has it (a retry sends only to the routes without this). */
  alertDelivery: (model: string, alertId: string, routeId: string) => `alert-deliveries/${model}/${alertId}/${routeId}.json`,
  /** One batch of prediction-log lines; `isoHour` is the UTC hour of its lines, 'YYYY-MM-DDTHH'. */
  predictionBatch: (model: string, isoHour: string, batchId: string) =>
    `predictions/${model}/${isoHour.slice(0, 10)}/${isoHour.slice(11, 13)}/${batchId}.jsonl`,
  /** The batches of one UTC hour ('YYYY-MM-DDTHH') or, given 'YYYY-MM-DD', of one UTC day. */
  predictionPartition: (model: string, isoHourOrDay: string) =>
    `predictions/${model}/${isoHourOrDay.slice(0, 10)}/${isoHourOrDay.length > 10 ? `${isoHourOrDay.slice(11, 13)}/` : ''}`,
  predictions: (model: string) => `predictions/${model}/`,
  /** One batch of ground-truth labels posted to the API; `isoHour` is the UTC hour they became known. */
  labelBatch: (model: string, isoHour: string, batchId: string) =>
    `labels/${model}/${isoHour.slice(0, 10)}/${isoHour.slice(11, 13)}/${batchId}.jsonl`,
  /** A precomputed summary of one kind of a model's objects (services/listing-index.ts): 'versions', 'audit', 'drift'. */
  listingIndex: (model: string, name: 'versions' | 'audit' | 'drift') => `indexes/${model}/${name}.json`,
  /** The label batches of one UTC hour ('YYYY-MM-DDTHH') or day ('YYYY-MM-DD'). */
  labelPartition: (model: string, isoHourOrDay: string) =>
    `labels/${model}/${isoHourOrDay.slice(0, 10)}/${isoHourOrDay.length > 10 ? `${isoHourOrDay.slice(11, 13)}/` : ''}`,
};
