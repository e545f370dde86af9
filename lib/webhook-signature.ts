import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Signatures of outgoing webhooks, Stripe's scheme: `Retrain-Signature: t=<unix seconds>,v1=<hex>`,
 * where v1 is HMAC-SHA256 with the shared secret over `<t>.<raw body>`. Signing the timestamp with
 * the body lets a receiver refuse a captured request replayed later; the scheme needs only an HMAC,
 * so a receiver in any language can check it.
 */
export const SIGNATURE_HEADER = 'Retrain-Signature';

/** How far a signature's timestamp may be from the receiver's clock: covers clock skew and slow delivery, not a replay hours later. */
export const DEFAULT_TOLERANCE_SECONDS = 300;

export type WebhookVerification = { ok: true } | { ok: false; reason: string };

/** The `Retrain-Signature` value for `body` sent at `timestampSeconds`; sign exactly the bytes you send. */
export function signWebhook(secret: string, body: string | Uint8Array, timestampSeconds: number): string {
  if (!Number.isSafeInteger(timestampSeconds) || timestampSeconds < 0) {
    throw new RangeError(`webhook timestamp must be whole unix seconds, got ${timestampSeconds}`);
  }
  return `t=${timestampSeconds},v1=${hmacHex(secret, timestampSeconds, body)}`;
}

/**
 * Checks a `Retrain-Signature` header against the raw body as received (re-serialised JSON may
 * differ by a byte and fail). `now` is the receiver's clock in unix seconds, passed in so this
 * stays pure. Any of several `v1` entries may match, so a sender can sign with an old and a new
 * secret while they are rotated; unknown schemes are ignored. Compares in constant time, so the
 * response time says nothing about how much of a guess was right.
 */
export function verifyWebhook(
  secret: string,
  body: string | Uint8Array,
  header: string | undefined,
  { toleranceSeconds = DEFAULT_TOLERANCE_SECONDS, now }: { toleranceSeconds?: number; now: number },
): WebhookVerification {
  if (!header) return { ok: false, reason: `no ${SIGNATURE_HEADER} header` };
  let timestamp: number | undefined;
  const signatures: string[] = [];
  for (const part of header.split(',')) {
    const eq = part.indexOf('=');
    if (eq <= 0) return { ok: false, reason: `malformed ${SIGNATURE_HEADER} header: "${part.trim()}" is not key=value` };
    const key = part.slice(0, eq).trim();
    const value = part.slice(eq + 1).trim();
    if (key === 't') {
      if (timestamp !== undefined) return { ok: false, reason: `malformed ${SIGNATURE_HEADER} header: more than one t=` };
      if (!/^\d{1,15}$/.test(value)) return { ok: false, reason: `malformed ${SIGNATURE_HEADER} header: t=${value} is not unix seconds` };
      timestamp = Number(value);
    } else if (key === 'v1') {
      if (!/^[0-9a-f]{64}$/i.test(value)) {
        return { ok: false, reason: `malformed ${SIGNATURE_HEADER} header: v1 is not a hex SHA-256 HMAC` };
      }
      signatures.push(value.toLowerCase());
    }
  }
  if (timestamp === undefined) return { ok: false, reason: `malformed ${SIGNATURE_HEADER} header: no t=` };
  if (signatures.length === 0) return { ok: false, reason: `malformed ${SIGNATURE_HEADER} header: no v1=` };
  const age = now - timestamp;
  if (Math.abs(age) > toleranceSeconds) {
    return {
      ok: false,
      reason: `timestamp ${timestamp} is ${Math.abs(age)}s ${age > 0 ? 'old' : 'in the future'}, beyond the ${toleranceSeconds}s tolerance`,
    };
  }
  const expected = Buffer.from(hmacHex(secret, timestamp, body), 'hex');
  // Every entry is compared, matching or not, so the time taken does not say which one matched.
  let matched = false;
  for (const s of signatures) matched = timingSafeEqual(expected, Buffer.from(s, 'hex')) || matched;
  return matched ? { ok: true } : { ok: false, reason: 'signature does not match the body (wrong secret or altered body)' };
}

function hmacHex(secret: string, timestampSeconds: number, body: string | Uint8Array): string {
  return createHmac('sha256', secret).update(`${timestampSeconds}.`).update(body).digest('hex');
}
