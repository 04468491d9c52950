import { describeIssues, PullResponse, PushResponse, SYNC_PATHS, type LedgerEvent } from '@tusafishe/protocol';
import type * as z from 'zod/mini';
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

export interface PullRequest {
  cursor: string | null;
  limit: number;
  waitS: number;
  signal?: AbortSignal;
}

/** The gateway's side of the kiosk API (protocol/src/sync.ts); every answer is validated. */
export interface CloudClient {
  pull(request: PullRequest): Promise<PullResponse>;
  push(events: readonly LedgerEvent[], signal?: AbortSignal): Promise<PushResponse>;
}

export function createCloudClient(options: CloudClientOptions): CloudClient {
  const doFetch = options.fetch ?? fetch;
  const timeoutMs = options.requestTimeoutMs ?? 15_000;
  const authorization = `Basic ${Buffer.from(`${options.kioskId}:${options.secret}`).toString('base64')}`;
  const base = options.cloudUrl.replace(/\/+$/, '');

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
      body = await response.json().catch(() => undefined);
    } catch (error) {
      throw new SyncError('CLOUD_UNREACHABLE', `cloud unreachable: ${describeCause(error)}`);
    }
    if (!response.ok) {
      const message =
        typeof body === 'object' && body !== null && 'message' in body ? String(body.message) : response.statusText;
      throw new SyncError('CLOUD_REFUSED', `cloud answered ${response.status}: ${message}`, {
        status: response.status,
      });
    }
    const parsed = schema.safeParse(body);
    if (!parsed.success) {
      throw new SyncError(
        'CLOUD_BAD_RESPONSE',
        `cloud answer to ${path} breaks the contract: ${describeIssues(parsed.error.issues)}`,
      );
    }
    return parsed.data as z.infer<S>;
  }

  return {
    pull({ cursor, limit, waitS, signal }) {
      const query = new URLSearchParams({ limit: String(limit), wait_s: String(waitS) });
      if (cursor !== null) query.set('cursor', cursor);
      return call(
        PullResponse,
        `${SYNC_PATHS.customers}?${query}`,
        { method: 'GET', ...(signal && { signal }) },
        waitS,
      );
    },
    push(events, signal) {
      const init: RequestInit = { method: 'POST', body: JSON.stringify({ events }), ...(signal && { signal }) };
      return call(PushResponse, SYNC_PATHS.events, init, 0);
    },
  };
}

function describeCause(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = (error as Error & { cause?: unknown }).cause;
  return cause instanceof Error ? `${error.message} (${cause.message})` : error.message;
}
