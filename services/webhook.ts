import { AlertRejectedError, TransientError, type ErrorContext } from '../lib/errors';
import { SIGNATURE_HEADER, signWebhook } from '../lib/webhook-signature';

export interface PostJsonOptions {
  /** Signs the request (`Retrain-Signature`) so the receiver can tell it came from us and was not replayed. */
  secret?: string;
}

/**
 * POSTs `body` as JSON with an `Idempotency-Key`, so a receiver can drop the duplicates that
 * retries send. Unreachable, 5xx and 429 throw a `TransientError` (retried); any other 4xx is
 * `AlertRejected`: resending the same alert cannot help.
 *
 * With a `secret`, the signature covers exactly the bytes sent and is made at each attempt, so a
 * retry long after the first try still falls within the receiver's timestamp tolerance.
 */
export async function postJson(
  url: string,
  body: unknown,
  idempotencyKey: string,
  context: ErrorContext = {},
  { secret }: PostJsonOptions = {},
): Promise<void> {
  const payload = JSON.stringify(body);
  const headers: Record<string, string> = { 'content-type': 'application/json', 'idempotency-key': idempotencyKey };
  if (secret) headers[SIGNATURE_HEADER] = signWebhook(secret, payload, Math.floor(Date.now() / 1000));
  let response: Response;
  try {
    response = await fetch(url, { method: 'POST', headers, body: payload, signal: AbortSignal.timeout(10_000) });
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
