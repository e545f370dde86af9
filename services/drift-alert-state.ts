import { z } from 'zod';
import { decideAlert, rememberOutcome, type AlertDecision, type AlertPolicy, type CheckOutcome } from '../lib/drift/alert-policy';
import { InvalidInputError, TransientError } from '../lib/errors';
import { keys } from '../lib/keys';
import type { Store } from '../store/store';

/** The stored outcomes of a model's recent drift checks (written by this module only, read back checked). */
const stateSchema = z.object({
  kind: z.literal('retrain.drift-alert-state/v1'),
  outcomes: z.array(
    z.object({
      checkId: z.string().min(1),
      to: z.iso.datetime({ offset: true }),
      drifted: z.boolean(),
      enoughData: z.boolean(),
      alerted: z.boolean(),
    }),
  ),
});

/** Attempts at a conditional write before giving up (another check of the model wrote in between). */
const MAX_WRITE_ATTEMPTS = 8;

/**
 * Records a check's outcome and decides, by the pipeline's policy, whether it alerts. A retried
 * check (its id already recorded) gets the decision it got the first time, so an alert is
 * decided once. Concurrent checks of one model are serialised by a conditional write.
 */
export async function recordCheckOutcome(
  store: Store,
  model: string,
  outcome: Omit<CheckOutcome, 'alerted'>,
  policy: AlertPolicy,
): Promise<AlertDecision> {
  const key = keys.driftAlertState(model);
  for (let attempt = 0; attempt < MAX_WRITE_ATTEMPTS; attempt++) {
    const stored = await store.getWithTag(key);
    const outcomes = stored ? parseState(stored.body, key, model) : [];
    const known = outcomes.find((o) => o.checkId === outcome.checkId);
    const others = outcomes.filter((o) => o.checkId !== outcome.checkId);
    const decided = decideAlert(others, outcome, policy);
    // The first decision stands: a retry must not alert twice, nor drop an alert already sent.
    if (known) return { ...decided, alert: known.alerted };
    const state = { kind: 'retrain.drift-alert-state/v1', outcomes: rememberOutcome(others, { ...outcome, alerted: decided.alert }) };
    if (await store.putIfMatch(key, JSON.stringify(state, null, 2), stored?.tag ?? null)) return decided;
  }
  throw new TransientError(`could not record drift check ${outcome.checkId} of ${model}: ${key} kept changing under concurrent checks`);
}

function parseState(body: Buffer, key: string, model: string): CheckOutcome[] {
  let json: unknown;
  try {
    json = JSON.parse(body.toString('utf8'));
  } catch {
    throw new InvalidInputError(`${key} is not JSON: remove it to start the alert history of ${model} afresh`, {
      model,
      step: 'drift-alert',
    });
  }
  const parsed = stateSchema.safeParse(json);
  if (!parsed.success)
    throw new InvalidInputError(
      `${key} is not a drift alert history (${parsed.error.issues[0]?.path.join('.') || 'root'}: ${parsed.error.issues[0]?.message}): remove it to start afresh`,
      { model, step: 'drift-alert' },
    );
  return parsed.data.outcomes;
}
