import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { verifySecret } from '@tusafishe/protocol/secret-hash';
import { GatewayError } from '../errors.js';

export interface LoginVerifierOptions {
  /** Broker-login hashes running at once: libuv's other threads stay free for PIN checks and the WAL sync. */
  concurrency: number;
  /** Logins waiting for a hash; beyond it a login is refused as "server unavailable". */
  maxWaiting: number;
  /** Credentials remembered after a successful check. */
  cacheSize?: number;
}

/**
 * Checks broker-login secrets without letting a flood of CONNECTs take the thread pool:
 * hashes run through a small bounded queue, and a secret already verified against the same
 * stored hash is recognised by an HMAC under a per-process key, so a dispenser that
 * reconnects does not hash again (nor wait behind a flood). The HMAC key never leaves memory.
 */
export class LoginVerifier {
  private readonly key = randomBytes(32);
  private readonly verified = new Map<string, Buffer>();
  private readonly waiting: (() => void)[] = [];
  private running = 0;

  constructor(private readonly options: LoginVerifierOptions) {}

  async verify(secret: string, encodedHash: string): Promise<boolean> {
    const mac = createHmac('sha256', this.key).update(secret).digest();
    const known = this.verified.get(encodedHash);
    if (known && timingSafeEqual(known, mac)) return true;
    await this.slot();
    try {
      const matches = await verifySecret(secret, encodedHash).catch(() => false);
      if (matches) this.remember(encodedHash, mac);
      return matches;
    } finally {
      this.release();
    }
  }

  private slot(): Promise<void> {
    if (this.running < this.options.concurrency) {
      this.running += 1;
      return Promise.resolve();
    }
    if (this.waiting.length >= this.options.maxWaiting) {
      return Promise.reject(new GatewayError('BROKER_BUSY'));
    }
    // The slot passes straight to the next waiter, so `running` is unchanged.
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  private release(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.running -= 1;
  }

  private remember(encodedHash: string, mac: Buffer): void {
    this.verified.delete(encodedHash);
    this.verified.set(encodedHash, mac);
    const oldest = this.verified.keys().next().value;
    if (this.verified.size > (this.options.cacheSize ?? 1000) && oldest !== undefined) this.verified.delete(oldest);
  }
}
