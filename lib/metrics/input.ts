/** Input errors and checks shared by the classification and regression metrics. */

/** Bad metric input: empty, mismatched lengths, unknown labels, invalid scores. */
export class MetricInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MetricInputError';
  }
}

/** The common row count of the named inputs; throws unless they agree and are non-zero. */
export function checkRowCounts(counts: Record<string, number>): number {
  const values = Object.values(counts);
  const describe = () =>
    Object.entries(counts)
      .map(([k, v]) => `${k}=${v}`)
      .join(', ');
  if (values.some((v) => v !== values[0])) throw new MetricInputError(`length mismatch: ${describe()}`);
  if (values[0] === 0) throw new MetricInputError(`no rows to score: ${describe()}`);
  return values[0]!;
}
