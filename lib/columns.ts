import { InvalidInputError } from './errors';

/**
 * Refuses a table whose columns repeat a name (a row could not say which one a feature means).
 * `where` says where the names come from ("header", "Parquet schema").
 */
export function assertUniqueColumns(columns: readonly string[], source: string, where: string): void {
  const first = new Map<string, number>();
  columns.forEach((name, i) => {
    const earlier = first.get(name);
    if (earlier === undefined) first.set(name, i);
    else {
      throw new InvalidInputError(
        `${source}: column "${name}" appears twice in the ${where} (columns ${earlier + 1} and ${i + 1}): rename or remove one`,
        { step: 'validate' },
      );
    }
  });
}
