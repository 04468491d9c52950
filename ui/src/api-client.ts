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

/** An API answer other than 2xx, with the server's stable error code. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** Fired on `window` when the server says the session is gone, so the app shows the sign-in form. */
export const SIGNED_OUT_EVENT = 'tusafishe-signed-out';

async function request<T>(method: 'GET' | 'POST' | 'DELETE', path: string, body?: unknown): Promise<T> {
  // Every state change is JSON, or raw bytes for an upload: the server refuses anything else (CSRF defence).
  const init: RequestInit = { method, credentials: 'same-origin', headers: { accept: 'application/json' } };
  if (body instanceof Blob) {
    init.headers = { ...init.headers, 'content-type': 'application/octet-stream' };
    init.body = body;
  } else if (method !== 'GET') {
    init.headers = { ...init.headers, 'content-type': 'application/json' };
    init.body = JSON.stringify(body ?? {});
  }
  const response = await fetch(path, init);
  const payload = (await response.json().catch(() => null)) as { code?: string; message?: string } | null;
  if (!response.ok) {
    if (response.status === 401 && path !== '/api/session') window.dispatchEvent(new Event(SIGNED_OUT_EVENT));
    throw new ApiError(
      response.status,
      payload?.code ?? 'HTTP_ERROR',
      payload?.message ?? `${response.status} ${response.statusText}`,
    );
  }
  return payload as T;
}

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
