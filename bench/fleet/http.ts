import http from 'node:http';
import { gunzipSync } from 'node:zlib';

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

export function closeConnections(): void {
  agent.destroy();
}
