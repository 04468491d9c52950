import type { FastifyPluginAsync } from 'fastify';
import type { Database } from 'better-sqlite3';
import type { GatewayEventMap, GatewayEvents } from '../events.js';
import type { LiveMessage } from './api-schemas.js';
import { technicianGuard } from './technician-guard.js';

export interface LiveFeedOptions {
  db: Database;
  events: GatewayEvents;
}

type Translators = { [E in keyof GatewayEventMap]: (...args: GatewayEventMap[E]) => LiveMessage };

/** What the feed tells the browser about each gateway event (account ids, never a phone number or PIN). */
const TRANSLATE: Translators = {
  'dispense-recorded': ({ event, excess_ml }) => ({
    type: 'dispense',
    event_id: event.event_id,
    dispenser_id: event.dispenser_id ?? null,
    account_id: event.account_id ?? null,
    delivered_ml: -event.amount_ml,
    excess_ml,
    occurred_at: event.occurred_at,
  }),
  'token-redeemed': ({ event, counter }) => ({
    type: 'token-redemption',
    event_id: event.event_id,
    dispenser_id: event.dispenser_id ?? null,
    account_id: event.account_id ?? null,
    credit_ml: event.amount_ml,
    counter,
    occurred_at: event.occurred_at,
  }),
  'completion-refused': ({ dispenser_id, completion, reason, at }) => ({
    type: 'completion-refused',
    dispenser_id,
    session_id: completion.session_id,
    delivered_ml: completion.delivered_ml,
    reason,
    at,
  }),
  authorisation: (outcome) => ({
    type: 'authorisation',
    dispenser_id: outcome.dispenser_id,
    approved: outcome.approved,
    reason: outcome.reason,
    at: outcome.at,
  }),
  'dispenser-status': (change) => ({
    type: 'dispenser-status',
    dispenser_id: change.dispenser_id,
    online: change.online,
    at: change.at,
  }),
  'session-progress': ({ dispenser_id, progress, at }) => ({
    type: 'progress',
    dispenser_id,
    session_id: progress.session_id,
    delivered_ml: progress.delivered_ml,
    at,
  }),
  'command-result': ({ dispenser_id, result, at }) => ({
    type: 'command-result',
    dispenser_id,
    command_id: result.command_id,
    ok: result.ok,
    message: result.message ?? null,
    at,
  }),
};

/** `GET /api/live`: a websocket pushing dispenses, authorisations and dispenser status as they happen. */
export const liveFeed: FastifyPluginAsync<LiveFeedOptions> = async (app, { db, events }) => {
  app.get(
    '/api/live',
    {
      websocket: true,
      onRequest: technicianGuard(db),
      schema: { summary: 'Live feed (websocket of LiveMessage JSON)', tags: ['kiosk'] },
    },
    (socket) => {
      const send = (message: LiveMessage): void => {
        if (socket.readyState === socket.OPEN) socket.send(JSON.stringify(message));
      };
      const unsubscribes = (Object.keys(TRANSLATE) as (keyof GatewayEventMap)[]).map((name) =>
        subscribe(events, name, send),
      );
      socket.on('close', () => {
        for (const unsubscribe of unsubscribes) unsubscribe();
      });
    },
  );
};

function subscribe<E extends keyof GatewayEventMap>(
  events: GatewayEvents,
  name: E,
  send: (message: LiveMessage) => void,
): () => void {
  const translate = TRANSLATE[name] as (...args: GatewayEventMap[E]) => LiveMessage;
  const listener = ((...args: GatewayEventMap[E]) => send(translate(...args))) as never;
  events.on(name, listener);
  return () => events.off(name, listener);
}
