/** Where a drift check reports what it noticed along the way (the activity's logger, or the console). */
export interface DriftCheckLog {
  warn(message: string, attrs: Record<string, unknown>): void;
}
