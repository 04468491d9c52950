import { PassThrough } from 'node:stream';
import { once } from 'node:events';
import type { PullQuery } from '@tusafishe/protocol';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { acceptsGzip } from '../http/accept-encoding.js';
import type { ChangeFeed, FeedAnswer } from './change-feed.js';
import { DEFAULT_PAGE, gzippedBody } from './change-feed.js';
import { balanceFilter } from './feed-filter.js';

export interface CustomerStreamDeps {
  feed: ChangeFeed;
  /** The kiosks' open streams: one each, a newer one ending the older. */
  open: OpenStreams;
  /** Called before every page: the stream ends when it answers false (a rotated secret, a retired kiosk). */
  stillAuthorised: () => Promise<boolean>;
  /** Called at every page (the console's online/offline); the stream is one request however long it lasts. */
  contact: () => void;
  /** Bytes sent, by encoding. */
  sent: (encoding: 'gzip' | 'identity', bytes: number) => void;
}

/** How long a stream with nothing new waits before it sends an empty page (its heartbeat), when the kiosk does not say. */
const DEFAULT_HEARTBEAT_S = 20;
/** How long a kiosk's socket may stay full before its stream is given up. */
const DRAIN_TIMEOUT_MS = 60_000;

/**
 * One stream per kiosk on this instance: a gateway has one pull loop, so a second stream is that
 * gateway again (restarted, or back on a new link while the old connection lingers) and ends the
 * first; a kiosk's credential cannot hold many streams open.
 */
export class OpenStreams {
  private readonly byKiosk = new Map<string, AbortController>();

  /** A new stream of `kioskId`: aborted when the kiosk opens another. */
  open(kioskId: string): { signal: AbortSignal; close: () => void } {
    this.byKiosk.get(kioskId)?.abort();
    const stream = new AbortController();
    this.byKiosk.set(kioskId, stream);
    const close = (): void => {
      if (this.byKiosk.get(kioskId) === stream) this.byKiosk.delete(kioskId);
    };
    return { signal: stream.signal, close };
  }
}

/**
 * One kiosk following the customer feed on one request (protocol `SYNC_PATHS.customerStream`):
 * every page after its cursor, as a line of JSON (a `PullResponse`), as soon as the feed publishes
 * it, and an empty page after `wait_s` seconds without one so that the kiosk can tell a live link
 * from a dead one. The same pages a long-poll gets, shared the same way, without a request per
 * page: at 600 kiosks and two publications a second, the long-polls were ~1,200 requests a second
 * for the cloud to route, authenticate and answer, and for each kiosk to send.
 *
 * Gzipped when the kiosk accepts it: each page is its own gzip member (RFC 1952 §2.2 allows a
 * series), compressed once for every kiosk sent it, and a gunzip stream reads them as one body.
 * The stream ends after a `must_refetch` page, when the kiosk hangs up or opens another, when its
 * credential stops holding, or when the cloud shuts down; the kiosk then asks again from its cursor.
 */
export function streamCustomers(
  request: FastifyRequest<{ Querystring: PullQuery }>,
  reply: FastifyReply,
  deps: CustomerStreamDeps,
): FastifyReply {
  const gzip = acceptsGzip(request.headers['accept-encoding']);
  const out = new PassThrough();
  const gone = new AbortController();
  const stream = deps.open.open(request.kioskId);
  reply.raw.once('close', () => {
    gone.abort();
    stream.close();
  });
  void follow(request.kioskId, request.query, gzip, out, AbortSignal.any([gone.signal, stream.signal]), deps).then(
    (ended) => (ended === 'stalled' ? reply.raw.destroy() : out.end()),
    (error: unknown) => {
      request.log.warn({ err: error }, 'customer stream ended by an error');
      out.end();
    },
  );
  reply
    .type('application/x-ndjson; charset=utf-8')
    .header('vary', 'accept-encoding')
    .header('cache-control', 'no-store')
    // A proxy that buffers (nginx does by default) would hold pages back until it had a bufferful.
    .header('x-accel-buffering', 'no');
  if (gzip) reply.header('content-encoding', 'gzip');
  return reply.send(out);
}

/**
 * The pages one stream sends, from `cursor`: the first at once, empty or not, so that the kiosk
 * knows it is connected; then, for a kiosk behind, its pages at once, and for one caught up the
 * next publication, or an empty page after `heartbeatMs`. Ends after a `must_refetch` page, when
 * `signal` aborts, when the feed closes, or when `stillAuthorised` answers false.
 */
export async function* streamPages(
  feed: ChangeFeed,
  from: { cursor: number; limit: number; heartbeatMs: number; follow?: { kioskId: string; days: number } },
  signal: AbortSignal,
  stillAuthorised: () => Promise<boolean> = async () => true,
): AsyncGenerator<FeedAnswer> {
  let cursor = from.cursor;
  for (let waitMs = 0; !signal.aborted && !feed.closed; waitMs = from.heartbeatMs) {
    if (!(await stillAuthorised())) return;
    // Judged afresh at every page: a stream may stay open across days.
    const filter = from.follow && balanceFilter(from.follow.kioskId, from.follow.days);
    const answer = await feed.pull(cursor, from.limit, waitMs, signal, filter);
    if (signal.aborted) return;
    yield answer;
    if (answer.response.must_refetch) return;
    cursor = Number(answer.response.cursor);
  }
}

async function follow(
  kioskId: string,
  query: PullQuery,
  gzip: boolean,
  out: PassThrough,
  signal: AbortSignal,
  deps: CustomerStreamDeps,
): Promise<'ended' | 'stalled'> {
  const from = {
    cursor: Number(query.cursor ?? '0'),
    limit: query.limit ?? DEFAULT_PAGE,
    follow: query.follow_days === undefined ? undefined : { kioskId, days: query.follow_days },
    // At least a second: `wait_s=0` (a plain pull's) would send empty pages back to back.
    heartbeatMs: Math.max(1, query.wait_s ?? DEFAULT_HEARTBEAT_S) * 1000,
  };
  for await (const answer of streamPages(deps.feed, from, signal, deps.stillAuthorised)) {
    deps.contact();
    if (!(await write(out, answer, gzip, deps)) && !(await drained(out, signal))) return 'stalled';
  }
  return 'ended';
}

/**
 * Whether a kiosk behind on its socket took what it was sent: a link that died without a reset (a
 * 4G cell lost) never drains, and the stream ends rather than hold its buffers until TCP gives up.
 */
async function drained(out: PassThrough, signal: AbortSignal): Promise<boolean> {
  // Not AbortSignal.timeout/any: their timer and their link to the stream's signal outlive a
  // drain that came in time (60 s each), and a slow kiosk waits for many.
  const waiting = new AbortController();
  const stop = (): void => waiting.abort();
  const timer = setTimeout(stop, DRAIN_TIMEOUT_MS);
  signal.addEventListener('abort', stop, { once: true });
  try {
    await once(out, 'drain', { signal: waiting.signal });
    return true;
  } catch {
    return false;
  } finally {
    clearTimeout(timer);
    signal.removeEventListener('abort', stop);
  }
}

/** Writes one page; false when the kiosk's socket is behind (wait for it before the next page). */
async function write(out: PassThrough, answer: FeedAnswer, gzip: boolean, deps: CustomerStreamDeps): Promise<boolean> {
  const bytes = gzip ? await gzippedBody(answer) : answer.body;
  deps.sent(gzip ? 'gzip' : 'identity', bytes.length);
  return out.write(bytes);
}
