import http from 'node:http';

/** One keep-alive pool for every kiosk of a process: each long-poll holds its own socket. */
const agent = new http.Agent({ keepAlive: true, maxSockets: Number.POSITIVE_INFINITY });

export interface Answer {
  status: number;
  /** As received: a kiosk reads its pages without decoding them whole (kiosk-clients.ts). */
  body: Buffer;
}

/** One HTTP request on loopback; rejects on a network error or after `timeoutMs`. */
export function request(
  url: string,
  options: { method?: string; headers?: Record<string, string>; body?: string; timeoutMs: number },
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const headers = { ...options.headers };
    if (options.body !== undefined) headers['content-length'] = String(Buffer.byteLength(options.body));
    const outgoing = http.request(url, { method: options.method ?? 'GET', agent, headers }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body: Buffer.concat(chunks) }));
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
