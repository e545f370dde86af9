import { createHash } from 'node:crypto';
import { alertPayload, type AlertHeadline, type RouteDelivery } from '../lib/alert-message';
import type { ErrorContext } from '../lib/errors';
import { keys } from '../lib/keys';
import type { AlertRoute } from '../lib/pipeline';
import type { Store } from '../store/store';
import { postJson } from './webhook';

/**
 * Sends one alert to each of its routes, once each. A generic webhook gets the JSON alert with
 * `Idempotency-Key: <alertId>`; a chat webhook gets `{ text }` and knows no such header, so each
 * route that answered is marked in the store and a retried attempt (one route was down) skips
 * the routes marked: only the failed ones are sent again. A worker dying between a route's answer
 * and its mark can still send that route twice; nothing here can prevent that.
 */
export async function deliverAlert(
  store: Store,
  alert: { alertId: string; routes: readonly AlertRoute[]; headline: AlertHeadline; json: object },
  opts: { secret?: string; context?: ErrorContext } = {},
): Promise<RouteDelivery[]> {
  const results: RouteDelivery[] = [];
  let failure: unknown = null;
  for (const route of alert.routes) {
    const mark = deliveryMark(alert.headline.model, alert.alertId, route);
    if (await store.exists(mark)) {
      results.push({ url: route.url, format: route.format, status: 'already-sent' });
      continue;
    }
    try {
      await postJson(route.url, alertPayload(route, alert.headline, alert.json), alert.alertId, opts.context ?? {}, {
        secret: opts.secret,
      });
    } catch (err) {
      // The other routes still get the alert; the attempt fails after them, to be retried.
      failure ??= err;
      continue;
    }
    await store.putIfAbsent(mark, JSON.stringify({ alertId: alert.alertId, url: route.url, at: new Date().toISOString() }));
    results.push({ url: route.url, format: route.format, status: 'sent' });
  }
  if (failure) throw failure;
  return results;
}

/** The store key that says a route has the alert: by alert id and a hash of the route (its URL may hold a secret). */
function deliveryMark(model: string, alertId: string, route: AlertRoute): string {
  const routeId = createHash('sha256').update(`${route.format} ${route.url}`).digest('hex').slice(0, 16);
  return keys.alertDelivery(model, alertId.replace(/[^A-Za-z0-9._-]/g, '_'), routeId);
}
