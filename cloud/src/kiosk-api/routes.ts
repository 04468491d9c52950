import type { FastifyInstance, FastifyRequest } from 'fastify';
import {
  AccountId,
  PullQuery,
  PushRequest,
  SYNC_PATHS,
  type CustomerLookupResponse,
  type LedgerEvent,
} from '@tusafishe/protocol';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import * as z from 'zod';
import { findCustomer, toCustomerRecord } from '../customers/customers.js';
import { CloudError } from '../errors.js';
import { acceptsGzip } from '../http/accept-encoding.js';
import { KIOSK_ROUTE_LOG_LEVEL, requireKiosk, stillAuthenticated } from '../http/kiosk-auth.js';
import type { KioskAuthenticator } from '../kiosks/kiosks.js';
import type { KioskContacts } from '../fleet/contacts.js';
import type { CloudMetrics } from '../metrics.js';
import type { Db } from '../store/db.js';
import { DEFAULT_PAGE, type ChangeFeed } from './change-feed.js';
import { balanceFilter } from './feed-filter.js';
import { OpenStreams, streamCustomers } from './customer-stream.js';
import { ingestKioskEvents, type KioskClaimLimits } from './ingest-events.js';

export interface KioskApiDeps {
  db: Db;
  feed: ChangeFeed;
  authenticator: KioskAuthenticator;
  metrics: CloudMetrics;
  requestsPerKioskPerMinute: number;
  claims: KioskClaimLimits;
  /** Every authenticated pull and push is a contact (the console's online/offline), written off the request's path. */
  contacts: KioskContacts;
  /** After a batch is merged, before it is answered (kiosk alerts, the live feed). */
  onMerged?: (kioskId: string, events: readonly LedgerEvent[]) => Promise<void>;
}

const CustomerParams = z.object({ account_id: AccountId });

/** Below this a page (an empty long-poll's answer, a record or two) is sent as is: gzip would not pay. */
const GZIP_MIN_BYTES = 1024;

/** Gateway sync (protocol/src/sync.ts): pull customer changes by version cursor, look one up, push ledger events. */
export async function kioskApiRoutes(app: FastifyInstance, deps: KioskApiDeps): Promise<void> {
  const typed = app.withTypeProvider<ZodTypeProvider>();
  const rateLimit = {
    max: deps.requestsPerKioskPerMinute,
    timeWindow: 60_000,
    keyGenerator: (request: { kioskId: string }) => `kiosk:${request.kioskId}`,
  };
  // Authenticated on request, before the body is parsed or validated.
  const onRequest = requireKiosk(deps.authenticator);
  // Not awaited: a sync does not wait for its contact (written in batches), nor fails with it.
  const preHandler = async (request: FastifyRequest): Promise<void> =>
    void deps.contacts
      .record(request.kioskId)
      .catch((error: unknown) => request.log.warn({ err: error }, 'contact not recorded'));

  typed.get(
    SYNC_PATHS.customers,
    {
      schema: { querystring: PullQuery },
      onRequest,
      preHandler,
      config: { rateLimit },
      logLevel: KIOSK_ROUTE_LOG_LEVEL,
    },
    async (request, reply) => {
      // The response closes early when the gateway hangs up: stop waiting for it. (The request
      // stream's own 'close' fires as soon as a GET has been read, so it cannot tell.)
      const gone = new AbortController();
      reply.raw.once('close', () => gone.abort());
      const answer = await deps.feed.pull(
        Number(request.query.cursor ?? '0'),
        request.query.limit ?? DEFAULT_PAGE,
        (request.query.wait_s ?? 0) * 1000,
        gone.signal,
        request.query.follow_days === undefined ? undefined : balanceFilter(request.kioskId, request.query.follow_days),
      );
      // Already JSON (a PullResponse), shared by the kiosks asking for the same page: sent as is,
      // or gzipped once for all of them when the gateway accepts it (fetch does, by default).
      reply.type('application/json; charset=utf-8').header('vary', 'accept-encoding');
      const { gzipped } = answer;
      if (!gzipped || answer.body.length < GZIP_MIN_BYTES || !acceptsGzip(request.headers['accept-encoding'])) {
        deps.metrics.changeFeedBytesSent.inc({ encoding: 'identity' }, answer.body.length);
        return reply.send(answer.body);
      }
      const body = await gzipped();
      deps.metrics.changeFeedBytesSent.inc({ encoding: 'gzip' }, body.length);
      return reply.header('content-encoding', 'gzip').send(body);
    },
  );

  const openStreams = new OpenStreams();
  typed.get(
    SYNC_PATHS.customerStream,
    {
      schema: { querystring: PullQuery },
      onRequest,
      preHandler,
      config: { rateLimit },
      logLevel: KIOSK_ROUTE_LOG_LEVEL,
    },
    (request, reply) =>
      streamCustomers(request, reply, {
        feed: deps.feed,
        open: openStreams,
        stillAuthorised: () => stillAuthenticated(deps.authenticator, request),
        contact: () => void preHandler(request),
        sent: (encoding, bytes) => deps.metrics.changeFeedBytesSent.inc({ encoding }, bytes),
      }),
  );

  // Read from the database, not the feed's tail: the gateway asks because it does not follow this
  // customer, and wants the balance as of now. Any customer, whatever its allowed_kiosks (as the feed).
  typed.get(
    SYNC_PATHS.customer,
    {
      schema: { params: CustomerParams },
      onRequest,
      preHandler,
      config: { rateLimit },
      logLevel: KIOSK_ROUTE_LOG_LEVEL,
    },
    async (request): Promise<CustomerLookupResponse> => {
      const customer = await findCustomer(deps.db, request.params.account_id);
      if (!customer) throw new CloudError('UNKNOWN_ACCOUNT', `no customer ${request.params.account_id}`);
      return { customer: toCustomerRecord(customer) };
    },
  );

  typed.post(
    SYNC_PATHS.events,
    {
      schema: { body: PushRequest },
      onRequest,
      preHandler,
      config: { rateLimit },
      bodyLimit: 2 * 1024 * 1024,
      logLevel: KIOSK_ROUTE_LOG_LEVEL,
    },
    async (request) => {
      const { response: result, volumeFlag } = await ingestKioskEvents(
        deps.db,
        request.kioskId,
        request.body.events,
        deps.claims,
      );
      const acked = new Set(result.acked);
      await deps.onMerged?.(
        request.kioskId,
        request.body.events.filter((event) => acked.has(event.event_id)),
      );
      if (volumeFlag) {
        deps.metrics.kioskVolumeFlags.inc();
        request.log.warn(volumeFlag, 'kiosk daily volume above the alert threshold');
      }
      deps.metrics.eventsAcked.inc(result.acked.length);
      for (const rejection of result.rejected) deps.metrics.eventsRejected.inc({ code: rejection.code });
      if (result.rejected.length > 0)
        request.log.warn({ kioskId: request.kioskId, rejected: result.rejected.length }, 'kiosk events rejected');
      const negative = result.balances.filter((balance) => balance.balance_ml < 0);
      // Offline overspend at several kiosks (ARCHITECTURE §5): operators see it here and at /admin/negative-balances.
      if (negative.length > 0)
        request.log.warn({ kioskId: request.kioskId, accounts: negative }, 'merged balance below zero');
      return result;
    },
  );
}
