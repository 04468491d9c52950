import type {
  KioskStatusAnswer,
  KioskStatusReport,
  LedgerEvent,
  PullResponse,
  PushResponse,
} from '@tusafishe/protocol';
import http from 'node:http';
import { STATUS_PATH, SYNC_PATHS, newId } from '@tusafishe/protocol';
import type { KioskCredential } from '../src/kiosks/kiosks.js';

/** The gateway's side of the kiosk API, as a test (and the benchmark) drives it over real HTTP. */
export function kioskClient(baseUrl: string, credential: KioskCredential) {
  const authorization = `Basic ${Buffer.from(`${credential.kioskId}:${credential.secret}`).toString('base64')}`;
  return {
    async pull(
      query: { cursor?: string; limit?: number; wait_s?: number; follow_days?: number } = {},
    ): Promise<{ status: number; body: PullResponse }> {
      const params = new URLSearchParams(Object.entries(query).map(([key, value]) => [key, String(value)]));
      const response = await fetch(`${baseUrl}${SYNC_PATHS.customers}?${params}`, { headers: { authorization } });
      return { status: response.status, body: (await response.json()) as PullResponse };
    },
    async push(events: LedgerEvent[]): Promise<{ status: number; body: PushResponse }> {
      const response = await fetch(`${baseUrl}${SYNC_PATHS.events}`, {
        method: 'POST',
        headers: { authorization, 'content-type': 'application/json' },
        body: JSON.stringify({ events }),
      });
      return { status: response.status, body: (await response.json()) as PushResponse };
    },
    async status(report: KioskStatusReport): Promise<{ status: number; body: KioskStatusAnswer }> {
      const response = await fetch(`${baseUrl}${STATUS_PATH}`, {
        method: 'POST',
        headers: { authorization, 'content-type': 'application/json' },
        body: JSON.stringify(report),
      });
      return { status: response.status, body: (await response.json()) as KioskStatusAnswer };
    },
    fetch: (path: string): Promise<Response> => fetch(`${baseUrl}${path}`, { headers: { authorization } }),
    /** A pull as it crosses the wire, with exactly this Accept-Encoding (fetch would ask for gzip and decode it). */
    pullOnWire(query: string, acceptEncoding?: string): Promise<{ headers: http.IncomingHttpHeaders; body: Buffer }> {
      const headers = { authorization, ...(acceptEncoding && { 'accept-encoding': acceptEncoding }) };
      return new Promise((resolve, reject) => {
        http
          .get(`${baseUrl}${SYNC_PATHS.customers}?${query}`, { headers }, (response) => {
            const chunks: Buffer[] = [];
            response.on('data', (chunk: Buffer) => chunks.push(chunk));
            response.on('end', () => resolve({ headers: response.headers, body: Buffer.concat(chunks) }));
            response.on('error', reject);
          })
          .on('error', reject);
      });
    },
  };
}

export function dispenseEvent(kioskId: string, accountId: string, ml: number, at = Date.now()): LedgerEvent {
  return {
    event_id: newId(),
    type: 'dispense',
    account_id: accountId,
    amount_ml: -ml,
    kiosk_id: kioskId,
    dispenser_id: 'D1',
    source_id: newId(),
    occurred_at: at,
  };
}
