import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { Readable } from 'node:stream';
import { localDay } from '../dispense/local-day.js';
import type { Store } from '../store/store.js';
import type { SyncStatus } from '../sync/sync-status.js';
import { ErrorBody, Overview, TransactionsQuery, Usage, UsageQuery, type SyncView } from './api-schemas.js';
import { listDispensers } from './dispenser-queries.js';
import type { HardwareApi } from '../hardware/api/hardware-routes.js';
import { hardwareView } from './hardware-view.js';
import type { SyncSource } from './kiosk-port.js';
import { technicianGuard } from './technician-guard.js';
import { GatewayError } from '../errors.js';
import { transactionsCsv } from './transactions-csv.js';
import { dispensedBetween, usageSeries } from './usage-queries.js';

export interface KioskRoutesOptions {
  store: Store;
  kioskId: string;
  timezone: string;
  hardware: HardwareApi | undefined;
  sync: SyncSource | undefined;
}

/** The local day a `YYYY-MM-DD` names (its UTC midday lies inside it for every real zone). */
const dayOf = (date: string, timezone: string) => localDay(Date.parse(`${date}T12:00:00Z`), timezone);

/** `from`/`to` are local calendar days, both included; default: today. */
function dayRange(
  from: string | undefined,
  to: string | undefined,
  timezone: string,
  now: number,
): { from: number; to: number } {
  const start = (from ? dayOf(from, timezone) : localDay(now, timezone)).start;
  const end = (to ? dayOf(to, timezone) : localDay(now, timezone)).end;
  if (end <= start) throw new GatewayError('INVALID_RANGE');
  return { from: start, to: end };
}

function syncView(status: SyncStatus): SyncView {
  return {
    enabled: status.enabled,
    online: status.online,
    offline_limit_active: status.offline_limit_active,
    last_contact_at: status.last_contact_at,
    last_pull_at: status.last_pull_at,
    last_push_at: status.last_push_at,
    events_waiting: status.events_waiting,
    cursor: status.cursor,
    last_error: status.last_error?.message ?? status.disabled_reason,
  };
}

export const kioskRoutes: FastifyPluginAsyncZod<KioskRoutesOptions> = async (
  app,
  { store, kioskId, timezone, hardware, sync },
) => {
  app.addHook('onRequest', technicianGuard(store.db));

  app.get(
    '/api/overview',
    { schema: { summary: 'Kiosk at a glance', tags: ['kiosk'], response: { 200: Overview, 401: ErrorBody } } },
    async () => {
      const now = Date.now();
      const today = localDay(now, timezone);
      return {
        kiosk_id: kioskId,
        now,
        dispensers: listDispensers(store),
        today: dispensedBetween(store, today.start, today.end),
        hardware: hardware ? hardwareView(hardware.snapshot()) : null,
        sync: sync ? syncView(sync.status()) : null,
      };
    },
  );

  if (sync) {
    // Behind sign-in: it names the cloud and carries its errors.
    app.get('/api/sync', { schema: { summary: 'The kiosk sync state', tags: ['kiosk'] } }, async () => sync.status());
  }

  app.get(
    '/api/usage',
    {
      schema: {
        summary: 'Litres per hour (day) or per day (week), per dispenser, and tank level',
        tags: ['kiosk'],
        querystring: UsageQuery,
        response: { 200: Usage, 401: ErrorBody },
      },
    },
    async (request) => usageSeries(store, request.query.range, timezone, hardware),
  );

  app.get(
    '/api/transactions.csv',
    {
      schema: {
        summary: 'Ledger transactions of local days from..to (YYYY-MM-DD, both included) as CSV',
        tags: ['kiosk'],
        querystring: TransactionsQuery,
        produces: ['text/csv'],
      },
    },
    async (request, reply) => {
      const { from, to } = request.query;
      const range = dayRange(from, to, timezone, Date.now());
      const name = `${kioskId}-transactions-${from ?? 'today'}-${to ?? 'today'}.csv`;
      return reply
        .type('text/csv; charset=utf-8')
        .header('content-disposition', `attachment; filename="${name}"`)
        .send(Readable.from(transactionsCsv(store.db, range.from, range.to)));
    },
  );
};
