import {
  CustomerLookupResponse,
  CustomerRecord,
  customerPath,
  describeIssues,
  firmwarePath,
  KioskStatusAnswer,
  PullResponse,
  PushResponse,
  STATUS_PATH,
  SYNC_PATHS,
  type KioskStatusReport,
  type LedgerEvent,
} from '@tusafishe/protocol';
import { setImmediate as nextTurn } from 'node:timers/promises';
import * as z from 'zod/mini';
import { SyncError } from './sync-error.js';

export interface CloudClientOptions {
  cloudUrl: string;
  kioskId: string;
  secret: string;
  /** Injected in tests; the global fetch otherwise. */
  fetch?: typeof fetch;
  /** Bound on a request beyond its long-poll wait. */
  requestTimeoutMs?: number;
}

/**
 * Ask for balance-only changes of the customers this kiosk served within this many days only
 * (`PullQuery.follow_days`); every change when absent. Only for a replica that holds every
 * customer: a first replica or a refetch must be sent everyone.
 */
interface Following {
  followDays?: number | undefined;
}

interface PullRequest extends Following {
  cursor: string | null;
  limit: number;
  waitS: number;
  signal?: AbortSignal;
}

interface FollowRequest extends Following {
  cursor: string | null;
  limit: number;
  /** The cloud sends an empty page after this long without a change; nothing for longer means the link is dead. */
  heartbeatS: number;
  signal?: AbortSignal;
}

/** A customer record of a pulled page that this gateway's schema refuses. */
export interface SkippedRecord {
  /** As the cloud sent it, when it is a short string; null otherwise. */
  account_id: string | null;
  version: number | null;
  reason: string;
}

/** A pulled page: the records that passed validation, and the ones skipped (issue 10 §12). */
export type PulledPage = PullResponse & { skipped: SkippedRecord[] };

/** The page envelope checked strictly, its records one by one: one bad record must not stall sync. */
const PullEnvelope = z.extend(PullResponse, { customers: z.array(z.unknown()) });

/** Records validated per turn of the event loop: a page of 2,000 in one turn held it tens of ms. */
const VALIDATE_SLICE = 250;

async function splitRecords(page: z.infer<typeof PullEnvelope>): Promise<PulledPage> {
  const customers: CustomerRecord[] = [];
  const skipped: SkippedRecord[] = [];
  for (const [index, raw] of page.customers.entries()) {
    if (index > 0 && index % VALIDATE_SLICE === 0) await nextTurn();
    const parsed = CustomerRecord.safeParse(raw);
    if (parsed.success) {
      customers.push(parsed.data);
      continue;
    }
    const fields = typeof raw === 'object' && raw !== null ? (raw as Record<string, unknown>) : {};
    const id = fields['account_id'];
    const version = fields['version'];
    skipped.push({
      account_id: typeof id === 'string' && id.length <= 40 ? id : null,
      version: typeof version === 'number' && Number.isSafeInteger(version) ? version : null,
      reason: describeIssues(parsed.error.issues),
    });
  }
  return { ...page, customers, skipped };
}

/** The gateway's side of the kiosk API (protocol/src/sync.ts); every answer is validated. */
export interface CloudClient {
  pull(request: PullRequest): Promise<PulledPage>;
  /**
   * The customer stream (`SYNC_PATHS.customerStream`): its pages as they arrive, until the cloud
   * ends it. Throws `CLOUD_UNREACHABLE` when nothing, not even a heartbeat, arrives for
   * `heartbeatS` plus the request timeout; `CLOUD_REFUSED` with status 404 from a cloud without it.
   */
  follow(request: FollowRequest): AsyncIterable<PulledPage>;
  /**
   * One customer's current record (`SYNC_PATHS.customer`), for one whose balance this gateway does
   * not follow; null when the cloud knows no such customer. A 404 without the cloud's
   * `UNKNOWN_ACCOUNT` (a cloud older than the route) is `CLOUD_REFUSED`, not an unknown customer.
   */
  customer(accountId: string, signal?: AbortSignal): Promise<CustomerRecord | null>;
  push(events: readonly LedgerEvent[], signal?: AbortSignal): Promise<PushResponse>;
  /** The compact kiosk status (protocol/src/kiosk-status.ts); answers the fleet rollout to run. */
  status(report: KioskStatusReport, signal?: AbortSignal): Promise<KioskStatusAnswer>;
  /** A fleet rollout's signed firmware file. */
  firmware(sha256: string, signal?: AbortSignal): Promise<Buffer>;
}

export function createCloudClient(options: CloudClientOptions): CloudClient {
  const doFetch = options.fetch ?? fetch;
  const timeoutMs = options.requestTimeoutMs ?? 15_000;
  const authorization = `Basic ${Buffer.from(`${options.kioskId}:${options.secret}`).toString('base64')}`;
  const base = options.cloudUrl.replace(/\/+$/, '');

  /** A pull's or a stream's query string. */
  function pullQuery(cursor: string | null, limit: number, waitS: number, followDays?: number): URLSearchParams {
    const query = new URLSearchParams({ limit: String(limit), wait_s: String(waitS) });
    if (cursor !== null) query.set('cursor', cursor);
    if (followDays !== undefined) query.set('follow_days', String(followDays));
    return query;
  }

  /** The cloud's refusal as an error, with its message and code when the body has them. */
  async function refused(response: Response): Promise<SyncError> {
    const body: unknown = await response.json().catch(() => undefined);
    const fields = typeof body === 'object' && body !== null ? (body as Record<string, unknown>) : {};
    const message = 'message' in fields ? String(fields['message']) : response.statusText;
    const code = typeof fields['code'] === 'string' ? fields['code'] : undefined;
    return new SyncError('CLOUD_REFUSED', `cloud answered ${response.status}: ${message}`, {
      status: response.status,
      ...(code !== undefined && { code }),
    });
  }

  function checked<S extends z.ZodMiniType>(schema: S, body: unknown, path: string): z.infer<S> {
    const parsed = schema.safeParse(body);
    if (!parsed.success) {
      throw new SyncError(
        'CLOUD_BAD_RESPONSE',
        `cloud answer to ${path} breaks the contract: ${describeIssues(parsed.error.issues)}`,
      );
    }
    return parsed.data as z.infer<S>;
  }

  async function call<S extends z.ZodMiniType>(
    schema: S,
    path: string,
    init: RequestInit,
    waitS: number,
  ): Promise<z.infer<S>> {
    const timeout = AbortSignal.timeout(timeoutMs + waitS * 1000);
    const signal = init.signal ? AbortSignal.any([init.signal, timeout]) : timeout;
    let response: Response;
    let body: unknown;
    try {
      response = await doFetch(`${base}${path}`, {
        ...init,
        signal,
        headers: {
          authorization,
          accept: 'application/json',
          ...(init.body ? { 'content-type': 'application/json' } : {}),
        },
      });
      if (!response.ok) throw await refused(response);
      body = await response.json().catch(() => undefined);
    } catch (error) {
      if (error instanceof SyncError) throw error;
      throw new SyncError('CLOUD_UNREACHABLE', `cloud unreachable: ${describeCause(error)}`);
    }
    return checked(schema, body, path);
  }

  async function* follow({ cursor, limit, heartbeatS, signal, followDays }: FollowRequest): AsyncGenerator<PulledPage> {
    const query = pullQuery(cursor, limit, heartbeatS, followDays);
    const path = `${SYNC_PATHS.customerStream}?${query}`;
    // Aborted when the link goes quiet for longer than a heartbeat, and when the reader stops.
    const quiet = new AbortController();
    const silenceMs = heartbeatS * 1000 + timeoutMs;
    let timer = setTimeout(() => quiet.abort(), silenceMs);
    const heard = (): void => {
      clearTimeout(timer);
      timer = setTimeout(() => quiet.abort(), silenceMs);
    };
    try {
      const lines = await openLines(path, signal ? AbortSignal.any([signal, quiet.signal]) : quiet.signal);
      for (;;) {
        const line = await lines.next();
        if (line === undefined) return;
        heard();
        yield await splitRecords(checked(PullEnvelope, parseJson(line), SYNC_PATHS.customerStream));
        heard();
      }
    } catch (error) {
      if (error instanceof SyncError) throw error;
      const why = quiet.signal.aborted ? `no page for ${silenceMs} ms` : describeCause(error);
      throw new SyncError('CLOUD_UNREACHABLE', `cloud unreachable: ${why}`);
    } finally {
      clearTimeout(timer);
      quiet.abort();
    }
  }

  /** The stream's response, read a line at a time (undefined at its end). */
  async function openLines(path: string, signal: AbortSignal): Promise<{ next(): Promise<string | undefined> }> {
    const response = await doFetch(`${base}${path}`, {
      signal,
      headers: { authorization, accept: 'application/x-ndjson' },
    });
    if (!response.ok || !response.body) throw await refused(response);
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    let pending = '';
    return {
      async next() {
        for (let at = pending.indexOf('\n'); at < 0; at = pending.indexOf('\n')) {
          const chunk = await reader.read();
          if (chunk.done) return undefined;
          pending += chunk.value;
        }
        const end = pending.indexOf('\n');
        const line = pending.slice(0, end);
        pending = pending.slice(end + 1);
        return line;
      },
    };
  }

  return {
    async pull({ cursor, limit, waitS, signal, followDays }) {
      const query = pullQuery(cursor, limit, waitS, followDays);
      const page = await call(
        PullEnvelope,
        `${SYNC_PATHS.customers}?${query}`,
        { method: 'GET', ...(signal && { signal }) },
        waitS,
      );
      return splitRecords(page);
    },
    follow,
    async customer(accountId, signal) {
      try {
        const init: RequestInit = { method: 'GET', ...(signal && { signal }) };
        return (await call(CustomerLookupResponse, customerPath(accountId), init, 0)).customer;
      } catch (error) {
        if (!(error instanceof SyncError && isUnknownAccount(error))) throw error;
        return null;
      }
    },
    push(events, signal) {
      const init: RequestInit = { method: 'POST', body: JSON.stringify({ events }), ...(signal && { signal }) };
      return call(PushResponse, SYNC_PATHS.events, init, 0);
    },
    status(report, signal) {
      const init: RequestInit = { method: 'POST', body: JSON.stringify(report), ...(signal && { signal }) };
      return call(KioskStatusAnswer, STATUS_PATH, init, 0);
    },
    async firmware(sha256, signal) {
      const timeout = AbortSignal.timeout(timeoutMs * 4);
      let response: Response;
      let bytes: Buffer;
      try {
        response = await doFetch(`${base}${firmwarePath(sha256)}`, {
          headers: { authorization },
          signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
        });
        bytes = Buffer.from(await response.arrayBuffer());
      } catch (error) {
        throw new SyncError('CLOUD_UNREACHABLE', `cloud unreachable: ${describeCause(error)}`);
      }
      if (!response.ok)
        throw new SyncError('CLOUD_REFUSED', `cloud answered ${response.status} for firmware ${sha256.slice(0, 12)}…`, {
          status: response.status,
        });
      return bytes;
    },
  };
}

/** A 404 with the cloud's code for an account no customer has (cloud/src/errors.ts), not for a route it lacks. */
function isUnknownAccount(error: SyncError): boolean {
  return error.details?.['status'] === 404 && error.details['code'] === 'UNKNOWN_ACCOUNT';
}

function parseJson(line: string): unknown {
  try {
    return JSON.parse(line);
  } catch {
    throw new SyncError('CLOUD_BAD_RESPONSE', `cloud sent a line of its customer stream that is not JSON`);
  }
}

function describeCause(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = (error as Error & { cause?: unknown }).cause;
  return cause instanceof Error ? `${error.message} (${cause.message})` : error.message;
}
