import { Duplex, Transform, type TransformCallback } from 'node:stream';
import { MAX_PAYLOAD_BYTES } from '@tusafishe/protocol';
import { GatewayError } from '../errors.js';

/** Largest MQTT packet the broker takes: a protocol payload plus room for topic, properties and headers. */
export const MAX_MQTT_PACKET_BYTES = 4 * MAX_PAYLOAD_BYTES;

/**
 * Reads the MQTT fixed header of each packet as the bytes pass (type byte, then the
 * variable-length "remaining length") and fails as soon as a packet announces more than
 * `max` bytes — before they are buffered. Without it the broker's parser would collect
 * a packet of up to 256 MB from anyone on the kiosk WiFi, even before they log in.
 */
export class PacketSizeGuard extends Transform {
  private state: 'type' | 'length' | 'body' = 'type';
  private length = 0;
  private multiplier = 1;
  private remaining = 0;

  constructor(private readonly max: number) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    let at = 0;
    while (at < chunk.length) {
      if (this.state === 'type') {
        at += 1;
        this.state = 'length';
        this.length = 0;
        this.multiplier = 1;
      } else if (this.state === 'length') {
        const byte = chunk[at++]!;
        this.length += (byte & 0x7f) * this.multiplier;
        if (byte & 0x80) {
          this.multiplier *= 128;
          if (this.multiplier > 128 ** 3) return done(new GatewayError('MQTT_PACKET_MALFORMED'));
          continue;
        }
        if (this.length > this.max) {
          return done(new GatewayError('MQTT_PACKET_TOO_LARGE', this.length, this.max));
        }
        this.remaining = this.length;
        this.state = this.remaining === 0 ? 'type' : 'body';
      } else {
        const skipped = Math.min(this.remaining, chunk.length - at);
        at += skipped;
        this.remaining -= skipped;
        if (this.remaining === 0) this.state = 'type';
      }
    }
    done(null, chunk);
  }
}

/** The connection aedes handles (TCP socket or WebSocket stream): reads pass through the guard, writes go straight out. */
export function guardPacketSize(
  socket: Duplex,
  onRefused: (error: Error) => void,
  max = MAX_MQTT_PACKET_BYTES,
): Duplex {
  const guard = new PacketSizeGuard(max);
  guard.once('error', (error) => {
    // Only the guard's own refusals are news; an abort is the connection closing normally.
    if (error instanceof GatewayError) onRefused(error);
    socket.destroy();
  });
  socket.pipe(guard);
  return Duplex.from({ readable: guard, writable: socket });
}
