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

type Method = 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE';

/**
 * A JSON client for one app's API: every state change is JSON, or raw bytes for an upload (the
 * servers refuse anything else: CSRF defence); a 401 from anything but the session route fires
 * `signedOutEvent` on `window`, so the app shows its sign-in form.
 */
export function apiRequester(options: { sessionPath: string; signedOutEvent: string }) {
  /** A `Blob` body is sent raw as `rawType` (an upload: octet-stream, or e.g. text/csv). */
  return async function request<T>(
    method: Method,
    path: string,
    body?: unknown,
    rawType = 'application/octet-stream',
  ): Promise<T> {
    const init: RequestInit = { method, credentials: 'same-origin', headers: { accept: 'application/json' } };
    if (body instanceof Blob) {
      init.headers = { ...init.headers, 'content-type': rawType };
      init.body = body;
    } else if (method !== 'GET') {
      init.headers = { ...init.headers, 'content-type': 'application/json' };
      init.body = JSON.stringify(body ?? {});
    }
    const response = await fetch(path, init);
    const payload = (await response.json().catch(() => null)) as { code?: string; message?: string } | null;
    if (!response.ok) {
      if (response.status === 401 && path !== options.sessionPath)
        window.dispatchEvent(new Event(options.signedOutEvent));
      throw new ApiError(
        response.status,
        payload?.code ?? 'HTTP_ERROR',
        payload?.message ?? `${response.status} ${response.statusText}`,
      );
    }
    return payload as T;
  };
}
