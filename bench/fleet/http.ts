import http from 'node:http';
import { createGunzip, gunzipSync } from 'node:zlib';

/** One keep-alive pool for every kiosk of a process: each long-poll holds its own socket. */
const agent = new http.Agent({ keepAlive: true, maxSockets: Number.POSITIVE_INFINITY });

export interface Answer {
  status: number;
  /** Decompressed, not parsed: a kiosk reads its pages without decoding them whole (kiosk-clients.ts). */
  body: Buffer;
  /** The body's bytes on the wire (gzipped, when the cloud sent it so): a kiosk's 4G data. */
  wireBytes: number;
}

/** One HTTP request on loopback, accepting gzip as a gateway's fetch does; rejects on a network error or after `timeoutMs`. */
export function request(
  url: string,
  options: { method?: string; headers?: Record<string, string>; body?: string; timeoutMs: number },
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { 'accept-encoding': 'gzip, deflate', ...options.headers };
    if (options.body !== undefined) headers['content-length'] = String(Buffer.byteLength(options.body));
    const outgoing = http.request(url, { method: options.method ?? 'GET', agent, headers }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => {
        const wire = Buffer.concat(chunks);
        try {
          const body = response.headers['content-encoding'] === 'gzip' ? gunzipSync(wire) : wire;
          resolve({ status: response.statusCode ?? 0, body, wireBytes: wire.length });
        } catch (error) {
          reject(error);
        }
      });
      response.on('error', reject);
    });
    outgoing.setTimeout(options.timeoutMs, () =>
      outgoing.destroy(new Error(`timed out after ${options.timeoutMs} ms`)),
    );
    outgoing.on('error', reject);
    outgoing.end(options.body);
  });
}

/**
 * Follows a stream of JSON lines (the customer stream, gzipped as a gateway's fetch asks for it):
 * `onLine` gets each line undecoded, with the wire bytes that arrived since the last one. Resolves
 * when the server ends it; rejects on a network error or after `idleTimeoutMs` without a byte.
 */
export function followLines(
  url: string,
  options: { headers: Record<string, string>; idleTimeoutMs: number; signal: AbortSignal },
  onLine: (line: Buffer, wireBytes: number) => void,
): Promise<void> {
  return new Promise((resolve, reject) => {
    const headers = { 'accept-encoding': 'gzip, deflate', ...options.headers };
    const outgoing = http.get(url, { agent, headers, signal: options.signal }, (response) => {
      if (response.statusCode !== 200) {
        response.resume();
        reject(new Error(`stream answered ${response.statusCode}`));
        return;
      }
      let wire = 0;
      response.on('data', (chunk: Buffer) => (wire += chunk.length));
      const body = response.headers['content-encoding'] === 'gzip' ? response.pipe(createGunzip()) : response;
      let pending: Buffer[] = [];
      body.on('data', (chunk: Buffer) => {
        for (let at = chunk.indexOf(0x0a); at >= 0; at = chunk.indexOf(0x0a)) {
          pending.push(chunk.subarray(0, at));
          onLine(pending.length === 1 ? (pending[0] as Buffer) : Buffer.concat(pending), wire);
          wire = 0;
          pending = [];
          chunk = chunk.subarray(at + 1);
        }
        if (chunk.length > 0) pending.push(chunk);
      });
      body.on('end', resolve);
      body.on('error', reject);
      response.on('error', reject);
    });
    outgoing.setTimeout(options.idleTimeoutMs, () =>
      outgoing.destroy(new Error(`stream quiet for ${options.idleTimeoutMs} ms`)),
    );
    outgoing.on('error', reject);
  });
}

export function closeConnections(): void {
  agent.destroy();
}
