import type {
  ConsoleAlert,
  ConsoleAnalytics,
  ConsoleFleetFirmware,
  ConsoleKiosk,
  ConsoleKioskDetail,
  ConsoleMe,
  ConsoleRollout,
} from '@tusafishe/cloud/console-api';
import { apiRequester } from '../../src/shared/api-request.js';

/** Fired on `window` when the cloud says the session is gone, so the console shows its sign-in form. */
export const SIGNED_OUT_EVENT = 'console-signed-out';

/** Calls `/console/api/…` (JSON; a 401 signs the console out). A page adds its calls as an object like `sessionApi`. */
const consoleRequest = apiRequester({ sessionPath: '/console/api/session', signedOutEvent: SIGNED_OUT_EVENT });

export const sessionApi = {
  me: () => consoleRequest<ConsoleMe>('GET', '/console/api/session'),
  signIn: (username: string, password: string) =>
    consoleRequest<ConsoleMe>('POST', '/console/api/session', { username, password }),
  signOut: () => consoleRequest<{ signed_out: true }>('DELETE', '/console/api/session'),
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
