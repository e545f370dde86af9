import { AlertRejectedError, TransientError, type ErrorContext } from '../lib/errors';

/**
 * POSTs `body` as JSON with an `Idempotency-Key`, so a receiver can drop the duplicates that
 * retries send. Unreachable, 5xx and 429 throw a `TransientError` (retried); any other 4xx is
 * `AlertRejected`: resending the same alert cannot help.
 */
export async function postJson(url: string, body: unknown, idempotencyKey: string, context: ErrorContext = {}): Promise<void> {
  let response: Response;
  try {
    response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'idempotency-key': idempotencyKey },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(10_000),
    });
  } catch (err) {
    throw new TransientError(`alert webhook ${url} unreachable: ${(err as Error).message}`, { cause: err });
  }
  if (response.status >= 500 || response.status === 429) throw new TransientError(`alert webhook ${url} answered ${response.status}`);
  if (!response.ok)
    throw new AlertRejectedError(
      `alert webhook ${url} refused the alert with ${response.status}: ${(await response.text()).slice(0, 300)}`,
      context,
    );
}
