import type {
  CalibrationResult,
  CustomerView,
  DispenserDetail,
  LogsAnswer,
  Overview,
  Usage,
  ValveTestResult,
  FirmwareImageView,
  RolloutAnswer,
} from '@tusafishe/gateway/api';
import { apiRequester } from './shared/api-request.js';

export { ApiError } from './shared/api-request.js';

/** Fired on `window` when the server says the session is gone, so the app shows the sign-in form. */
export const SIGNED_OUT_EVENT = 'tusafishe-signed-out';

const request = apiRequester({ sessionPath: '/api/session', signedOutEvent: SIGNED_OUT_EVENT });

export const api = {
  me: () => request<{ username: string }>('GET', '/api/session'),
  signIn: (username: string, password: string) =>
    request<{ username: string }>('POST', '/api/session', { username, password }),
  signOut: () => request<{ signed_out: true }>('DELETE', '/api/session'),
  overview: () => request<Overview>('GET', '/api/overview'),
  usage: (range: Usage['range']) => request<Usage>('GET', `/api/usage?range=${range}`),
  dispenser: (id: string) => request<DispenserDetail>('GET', `/api/dispensers/${encodeURIComponent(id)}`),
  calibrate: (id: string, sessionId: string, measuredMl: number) =>
    request<CalibrationResult>('POST', `/api/dispensers/${encodeURIComponent(id)}/calibration`, {
      session_id: sessionId,
      measured_ml: measuredMl,
    }),
  valveTest: (id: string, durationMs: number) =>
    request<ValveTestResult>('POST', `/api/dispensers/${encodeURIComponent(id)}/valve-test`, {
      duration_ms: durationMs,
    }),
  findCustomer: (query: string) => request<CustomerView>('GET', `/api/customers?q=${encodeURIComponent(query)}`),
  unlockCustomer: (accountId: string, reason: string) =>
    request<CustomerView>('POST', `/api/customers/${encodeURIComponent(accountId)}/unlock`, { reason }),
  firmwareImages: () => request<{ images: FirmwareImageView[] }>('GET', '/api/firmware'),
  /** A release-signed file (`npm run provision -- firmware sign`); its version is in the signature. */
  uploadFirmware: (signedFile: Blob) => request<FirmwareImageView>('POST', '/api/firmware', signedFile),
  firmwareRollout: (id: string) => request<RolloutAnswer>('GET', `/api/dispensers/${encodeURIComponent(id)}/ota`),
  updateFirmware: (id: string, version: string) =>
    request<RolloutAnswer>('POST', `/api/dispensers/${encodeURIComponent(id)}/ota`, { version }),
  logs: (level: LogsAnswer['entries'][number]['level'], module: string | null) =>
    request<LogsAnswer>(
      'GET',
      `/api/logs?level=${level}&limit=200${module ? `&module=${encodeURIComponent(module)}` : ''}`,
    ),
  transactionsCsvUrl: (from: string, to: string) => `/api/transactions.csv?from=${from}&to=${to}`,
};
