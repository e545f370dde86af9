/**
 * The UTC hours of a time range, the partitions the prediction and label logs are stored in.
 * Pure and free of imports, so the drift-check workflow plans its partitioned reads with it.
 */

const HOUR_MS = 3_600_000;

/** The UTC hour of an instant as 'YYYY-MM-DDTHH': the partition its log line is stored under. */
export function isoHour(at: Date | string | number): string {
  return new Date(at).toISOString().slice(0, 13);
}

/** The hours ('YYYY-MM-DDTHH') that hold the lines of [from, to), oldest first; empty when to <= from. */
export function hoursOverlapping(from: Date, to: Date): string[] {
  const end = to.getTime();
  const out: string[] = [];
  for (let t = Math.floor(from.getTime() / HOUR_MS) * HOUR_MS; t < end; t += HOUR_MS) out.push(isoHour(t));
  return out;
}

/**
 * The hours split into at most `maxGroups` runs of consecutive hours, as even as can be (one
 * hour each while there are few enough): the work of a partitioned drift check, one activity
 * per run, so that a long window still makes a history of bounded size.
 */
export function hourGroups(hours: readonly string[], maxGroups: number): string[][] {
  const size = Math.max(1, Math.ceil(hours.length / Math.max(1, Math.floor(maxGroups))));
  const out: string[][] = [];
  for (let i = 0; i < hours.length; i += size) out.push(hours.slice(i, i + size));
  return out;
}
