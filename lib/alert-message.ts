import type { AlertRoute, Pipeline } from './pipeline';

/**
 * An alert as it goes out: Retrain's JSON object for a generic webhook, or the `{ text }` a
 * Slack-compatible incoming webhook (Slack, Mattermost, Rocket.Chat) posts in a channel. Pure code.
 */

/** The areas of ownership a pipeline names owners for, and routes alerts by. */
export const ALERT_AREAS = ['monitoring', 'retraining', 'inference', 'logging'] as const;
export type AlertArea = (typeof ALERT_AREAS)[number];

/** What every alert says, whatever it is about. */
export interface AlertHeadline {
  model: string;
  version: string | null;
  area: AlertArea;
  /** The owner of the area, as the pipeline names them. */
  owner: string;
  severity: 'info' | 'warning' | 'critical';
  /** One line: what happened. */
  subject: string;
  /** What a person reads next: the verdict, the cause, where the report is. */
  lines: string[];
}

/** What happened at one route. */
export interface RouteDelivery {
  url: string;
  format: AlertRoute['format'];
  /** 'sent' now, or 'already-sent' by an earlier attempt of the same alert. */
  status: 'sent' | 'already-sent';
}

/** The body a route gets: the full JSON alert, or a chat message built from its headline. */
export function alertPayload(route: Pick<AlertRoute, 'format'>, headline: AlertHeadline, json: object): object {
  return route.format === 'slack' ? { text: chatText(headline) } : json;
}

/** The chat message: a bold subject, then the details, with the owner to look at it. */
export function chatText(h: AlertHeadline): string {
  const mark = h.severity === 'critical' ? ':rotating_light:' : h.severity === 'warning' ? ':warning:' : ':information_source:';
  const who = `${h.area} owner: ${h.owner}`;
  return [
    `${mark} *${escapeChat(h.subject)}*`,
    ...h.lines.map(escapeChat),
    `_${escapeChat(`${h.model}${h.version ? ` ${h.version}` : ''} · ${who}`)}_`,
  ].join('\n');
}

/** Slack's three control characters in message text (its docs ask senders to escape them). */
function escapeChat(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** The routes drift alerts go to, and the setting they came from (null: none, log and audit only). */
export interface MonitoringRoutes {
  source: 'alerts.monitoring' | 'drift.alertWebhook' | 'RETRAIN_ALERT_WEBHOOK' | null;
  routes: AlertRoute[];
}

/**
 * Where a pipeline's drift alerts go: its monitoring routes, else its drift.alertWebhook, else the
 * workers' RETRAIN_ALERT_WEBHOOK (both as JSON), else nowhere (log and audit only).
 */
export function monitoringRoutes(pipeline: Pick<Pipeline, 'alerts' | 'drift'>, fallbackUrl: string | undefined): MonitoringRoutes {
  const routes = pipeline.alerts?.monitoring ?? [];
  if (routes.length > 0) return { source: 'alerts.monitoring', routes };
  if (pipeline.drift?.alertWebhook) return { source: 'drift.alertWebhook', routes: [{ url: pipeline.drift.alertWebhook, format: 'json' }] };
  if (fallbackUrl) return { source: 'RETRAIN_ALERT_WEBHOOK', routes: [{ url: fallbackUrl, format: 'json' }] };
  return { source: null, routes: [] };
}
