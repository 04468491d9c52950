import type {
  ConsoleAlert,
  ConsoleAnalytics,
  ConsoleFleetFirmware,
  ConsoleKiosk,
  ConsoleKioskDetail,
  ConsoleMe,
  ConsoleRollout,
  CustomerDetailAnswer,
  CustomerEventsAnswer,
  CustomerImportAnswer,
  CustomerSearchAnswer,
  OperatorListing,
  OperatorRole,
  ReversalAnswer,
} from '@tusafishe/cloud/console-api';
import { ApiError, apiRequester } from '../../src/shared/api-request.js';

/** Fired on `window` when the cloud says the session is gone, so the console shows its sign-in form. */
export const SIGNED_OUT_EVENT = 'console-signed-out';

/** Calls `/console/api/…` (JSON; a 401 signs the console out). A page adds its calls as an object like `sessionApi`. */
const consoleRequest = apiRequester({ sessionPath: '/console/api/session', signedOutEvent: SIGNED_OUT_EVENT });

/** A failed call as one line: what its code means to the operator (`explained`), then the cloud's own words. */
export function explainError(error: unknown, explained: Record<string, string>): string {
  if (!(error instanceof ApiError)) return `Could not reach the cloud: ${(error as Error).message}`;
  const meaning = explained[error.code];
  return meaning ? `${meaning} (${error.message})` : error.message;
}

export const sessionApi = {
  me: () => consoleRequest<ConsoleMe>('GET', '/console/api/session'),
  signIn: (username: string, password: string) =>
    consoleRequest<ConsoleMe>('POST', '/console/api/session', { username, password }),
  signOut: () => consoleRequest<{ signed_out: true }>('DELETE', '/console/api/session'),
  /** Any operator, their own password: the current one first; their other sessions end. */
  changePassword: (current: string, next: string) =>
    consoleRequest<ConsoleMe>('POST', '/console/api/session/password', {
      current_password: current,
      new_password: next,
    }),
};

/** Kiosks, alerts and fleet firmware (cloud/src/fleet/console-routes.ts). */
export const fleetApi = {
  kiosks: () => consoleRequest<{ offline_after_s: number; kiosks: ConsoleKiosk[] }>('GET', '/console/api/kiosks'),
  kiosk: (id: string) => consoleRequest<ConsoleKioskDetail>('GET', `/console/api/kiosks/${encodeURIComponent(id)}`),
  alerts: (state: 'open' | 'all') =>
    consoleRequest<{ alerts: ConsoleAlert[] }>('GET', `/console/api/alerts?state=${state}`),
  acknowledge: (id: string) =>
    consoleRequest<{ alert: ConsoleAlert }>('POST', `/console/api/alerts/${encodeURIComponent(id)}/acknowledge`, {}),
  firmware: () => consoleRequest<ConsoleFleetFirmware>('GET', '/console/api/firmware'),
  upload: (file: Blob) => consoleRequest<{ version: string }>('POST', '/console/api/firmware/images', file),
  startRollout: (version: string, kiosks: 'all' | string[]) =>
    consoleRequest<ConsoleRollout>('POST', '/console/api/firmware/rollouts', { version, kiosks }),
  stopRollout: (id: string) => consoleRequest<ConsoleRollout>('POST', `/console/api/firmware/rollouts/${id}/stop`, {}),
};

/** Figures of a kiosk or the fleet over a range; each table as CSV, the month as PDF (links). */
export const analyticsApi = {
  analytics: (query: URLSearchParams) => consoleRequest<ConsoleAnalytics>('GET', `/console/api/analytics?${query}`),
  csvUrl: (table: string, query: URLSearchParams) => `/console/api/analytics/${table}.csv?${query}`,
  reportUrl: (month: string, kiosk: string) =>
    `/console/api/reports/monthly.pdf?${new URLSearchParams({ month, ...(kiosk ? { kiosk } : {}) })}`,
};

/** What customer service may change with `PATCH /customers/{id}` (null: no limit, every kiosk, no expiry). */
export interface CustomerChange {
  status?: CustomerDetailAnswer['status'];
  daily_limit_ml?: number | null;
  allowed_kiosks?: string[] | null;
  expires_at?: number | null;
}

/** Customer service (cloud/src/console/customer-routes.ts, and the operator routes in admin/routes.ts). */
export const customerApi = {
  search: (q: string, page: number) =>
    consoleRequest<CustomerSearchAnswer>(
      'GET',
      `/console/api/customers?${new URLSearchParams({ q, page: String(page) })}`,
    ),
  csvUrl: (q: string) => `/console/api/customers.csv?${new URLSearchParams({ q })}`,
  customer: (id: string) => consoleRequest<CustomerDetailAnswer>('GET', customerPath(id)),
  events: (id: string, page: number) =>
    consoleRequest<CustomerEventsAnswer>('GET', `${customerPath(id)}/events?page=${page}`),
  pinReset: (id: string) => consoleRequest<{ sent: true }>('POST', `${customerPath(id)}/pin-reset`, {}),
  unlock: (id: string, reason: string) => consoleRequest<unknown>('POST', `${customerPath(id)}/unlock`, { reason }),
  change: (id: string, change: CustomerChange) => consoleRequest<unknown>('PATCH', customerPath(id), change),
  correct: (id: string, amountMl: number, reason: string) =>
    consoleRequest<{ event_id: string }>('POST', '/console/api/adjustments', {
      account_id: id,
      amount_ml: amountMl,
      reason,
    }),
  reverse: (id: string, eventId: string, reason: string) =>
    consoleRequest<ReversalAnswer>('POST', `${customerPath(id)}/reversals`, { event_id: eventId, reason }),
  changePhone: (id: string, phone: string) =>
    consoleRequest<{ sent_to: string }>('POST', `${customerPath(id)}/phone`, { phone }),
  confirmPhone: (id: string, code: string) =>
    consoleRequest<{ phone: string }>('POST', `${customerPath(id)}/phone/confirm`, { code }),
  /** The CSV as it is: `dryRun` checks and reports without changing anything. */
  importCsv: (csv: Blob, options: { dryRun: boolean; region: string }) =>
    consoleRequest<CustomerImportAnswer>(
      'POST',
      `/console/api/customers/import?${new URLSearchParams({ dry_run: String(options.dryRun), region: options.region })}`,
      csv,
      'text/csv',
    ),
};

function customerPath(id: string): string {
  return `/console/api/customers/${encodeURIComponent(id)}`;
}

/** Console accounts (admin; cloud/src/console/operator-routes.ts): each call answers the whole list. */
type Operators = { operators: OperatorListing[] };
export const operatorApi = {
  list: () => consoleRequest<Operators>('GET', '/console/api/operators'),
  add: (username: string, role: OperatorRole, password: string) =>
    consoleRequest<Operators>('POST', '/console/api/operators', { username, role, password }),
  setDisabled: (username: string, disabled: boolean) =>
    consoleRequest<Operators>('POST', `${operatorPath(username)}/disabled`, { disabled }),
  resetPassword: (username: string, password: string) =>
    consoleRequest<Operators>('POST', `${operatorPath(username)}/password`, { password }),
};

function operatorPath(username: string): string {
  return `/console/api/operators/${encodeURIComponent(username)}`;
}
