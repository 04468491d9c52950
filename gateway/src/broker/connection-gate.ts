import type { Duplex } from 'node:stream';
import { normaliseAddress } from '@tusafishe/protocol/address-budget';

export interface ConnectionGateOptions {
  /** Connections not yet logged in, at once, from everyone. */
  maxPending: number;
  /** The same from one address. */
  maxPendingPerAddress: number;
}

/**
 * Bounds the connections that have not logged in yet (TCP and WebSocket alike): each costs
 * memory and, once it sends CONNECT, a hash. A connection leaves the count when it logs in
 * or closes.
 */
export class ConnectionGate {
  private readonly pending = new Map<Duplex, string>();
  private readonly perAddress = new Map<string, number>();
  private readonly addresses = new WeakMap<Duplex, string>();

  constructor(private readonly options: ConnectionGateOptions) {}

  /** Counts a new connection; false (and nothing counted) when a cap is reached. */
  admit(stream: Duplex, remote: string | undefined): boolean {
    const address = normaliseAddress(remote);
    const fromAddress = this.perAddress.get(address) ?? 0;
    if (this.pending.size >= this.options.maxPending || fromAddress >= this.options.maxPendingPerAddress) return false;
    this.addresses.set(stream, address);
    this.pending.set(stream, address);
    this.perAddress.set(address, fromAddress + 1);
    stream.once('close', () => this.loggedIn(stream));
    return true;
  }

  /** The connection's client address, as admitted. */
  addressOf(stream: Duplex): string {
    return this.addresses.get(stream) ?? 'unknown';
  }

  loggedIn(stream: Duplex): void {
    const address = this.pending.get(stream);
    if (address === undefined) return;
    this.pending.delete(stream);
    const left = (this.perAddress.get(address) ?? 1) - 1;
    if (left > 0) this.perAddress.set(address, left);
    else this.perAddress.delete(address);
  }
}
