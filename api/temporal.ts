import type { Client } from '@temporalio/client';
import { connectClient } from '../client/client';
import type { RetrainConfig } from '../lib/config';

/**
 * One Temporal client for the API process, connected on first use (the API serves logging and
 * reads without Temporal) and again after a failed connection attempt.
 */
export class TemporalLink {
  private client: Promise<Client> | null = null;

  constructor(private readonly config: RetrainConfig) {}

  get(): Promise<Client> {
    if (!this.client) {
      const connecting = connectClient(this.config);
      connecting.catch(() => {
        if (this.client === connecting) this.client = null;
      });
      this.client = connecting;
    }
    return this.client;
  }

  /** Whether the frontend answers within a few seconds; the reason when it does not. */
  async check(): Promise<{ ok: true } | { ok: false; reason: string }> {
    try {
      const client = await this.get();
      await client.connection.withDeadline(Date.now() + 3_000, () => client.connection.workflowService.getSystemInfo({}));
      return { ok: true };
    } catch (err) {
      return { ok: false, reason: (err as Error).message };
    }
  }

  async close(): Promise<void> {
    const client = await this.client?.catch(() => null);
    await client?.connection.close();
  }
}
