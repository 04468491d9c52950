import {
  anyDispenserTopic,
  AuthRequest,
  CommandResult,
  decodeMessage,
  DispenserStatus,
  dispenserTopic,
  Heartbeat,
  Id,
  MAX_PAYLOAD_BYTES,
  parseDispenserTopic,
  SessionComplete,
  SessionProgress,
  TokenRequest,
  TOKEN_OUTCOMES,
  type DispenserConfig,
  type DispenserOutboundLeaf,
} from '@tusafishe/protocol';
import type { Logger } from 'pino';
import type * as z from 'zod/mini';
import { deny, type DispenseFlow } from '../dispense/dispense-flow.js';
import type { TokenRedemptionFlow } from '../dispense/token-redemption.js';
import { GatewayError } from '../errors.js';
import type { GatewayEvents } from '../events.js';
import type { Store } from '../store/store.js';
import type { Broker } from './broker.js';

export interface DispenserLinkOptions {
  broker: Broker;
  store: Store;
  dispenseFlow: DispenseFlow;
  tokens: TokenRedemptionFlow;
  events: GatewayEvents;
  logger: Logger;
  now?: () => number;
}

/** Largest payload from which a request_id is still dug out to answer INVALID_REQUEST. */
const REQUEST_ID_SCAN_BYTES = 16 * MAX_PAYLOAD_BYTES;

/** request_id of a request that failed validation, if one can be read. */
function readRequestId(payload: Buffer): string | null {
  if (payload.byteLength > REQUEST_ID_SCAN_BYTES) return null;
  try {
    const parsed: unknown = JSON.parse(payload.toString('utf8'));
    const candidate =
      typeof parsed === 'object' && parsed !== null ? (parsed as Record<string, unknown>).request_id : undefined;
    return Id.safeParse(candidate).success ? (candidate as string) : null;
  } catch {
    return null;
  }
}

/**
 * The gateway's side of the dispenser protocol: hears every dispenser's messages via
 * the broker, routes them to the dispense sessions, and answers on the dispenser's topics.
 */
export class DispenserLink {
  private readonly now: () => number;
  private readonly pending = new Set<Promise<unknown>>();

  constructor(private readonly options: DispenserLinkOptions) {
    this.now = options.now ?? Date.now;
  }

  async start(): Promise<void> {
    const { broker } = this.options;
    const leaves: DispenserOutboundLeaf[] = [
      'auth/request',
      'session/complete',
      'session/progress',
      'heartbeat',
      'status',
      'command/result',
      'token/request',
    ];
    await Promise.all(
      leaves.map((leaf) => broker.subscribe(anyDispenserTopic(leaf), (topic, payload) => this.route(topic, payload))),
    );
    await Promise.all(this.options.store.dispensers.list().map((d) => this.publishConfig(d.dispenser_id, d.config)));
  }

  /** Publishes a dispenser's retained config (at start and whenever it changes). */
  publishConfig(dispenserId: string, config: DispenserConfig): Promise<void> {
    return this.options.broker.publish(dispenserTopic(dispenserId, 'config'), JSON.stringify(config), true);
  }

  /** Resolves once every message being handled has been answered. */
  async idle(): Promise<void> {
    await Promise.allSettled([...this.pending]);
  }

  private route(topic: string, payload: Buffer): void {
    const parsed = parseDispenserTopic(topic);
    if (!parsed) return;
    const { dispenserId, leaf } = parsed;
    const work = this.handle(dispenserId, leaf, payload).catch((error: unknown) => {
      this.options.logger.error({ dispenser_id: dispenserId, topic, err: error }, 'dispenser message failed');
    });
    this.pending.add(work);
    void work.finally(() => this.pending.delete(work));
  }

  private async handle(dispenserId: string, leaf: string, payload: Buffer): Promise<void> {
    switch (leaf) {
      case 'auth/request':
        return this.onAuthRequest(dispenserId, payload);
      case 'session/complete':
        return this.onComplete(dispenserId, payload);
      case 'token/request':
        return this.onTokenRequest(dispenserId, payload);
      case 'session/progress':
        return this.decoded(dispenserId, leaf, SessionProgress, payload, (progress) =>
          this.options.events.emit('session-progress', { dispenser_id: dispenserId, progress, at: this.now() }),
        );
      case 'heartbeat':
        return this.decoded(dispenserId, leaf, Heartbeat, payload, (heartbeat) => {
          const at = this.now();
          this.options.store.dispensers.recordHeartbeat(dispenserId, heartbeat, at);
          this.options.events.emit('dispenser-status', {
            dispenser_id: dispenserId,
            online: true,
            firmware: heartbeat.firmware,
            heartbeat,
            at,
          });
        });
      case 'status':
        return this.decoded(dispenserId, leaf, DispenserStatus, payload, (status) => {
          const at = this.now();
          this.options.store.dispensers.setStatus(dispenserId, status.online, status.firmware, at);
          this.options.events.emit('dispenser-status', {
            dispenser_id: dispenserId,
            online: status.online,
            firmware: status.firmware ?? null,
            heartbeat: null,
            at,
          });
          this.options.logger.info({ dispenser_id: dispenserId, online: status.online }, 'dispenser status');
        });
      case 'command/result':
        return this.decoded(dispenserId, leaf, CommandResult, payload, (result) =>
          this.options.events.emit('command-result', { dispenser_id: dispenserId, result, at: this.now() }),
        );
    }
  }

  private async onAuthRequest(dispenserId: string, payload: Buffer): Promise<void> {
    const decoded = decodeMessage(AuthRequest, payload);
    if (!decoded.ok) {
      const requestId = readRequestId(payload);
      this.options.logger.warn(
        { dispenser_id: dispenserId, code: decoded.code, error: decoded.error, answered: requestId !== null },
        'invalid auth request',
      );
      if (requestId) await this.reply(dispenserId, 'auth/response', deny(requestId, 'INVALID_REQUEST'));
      return;
    }
    const response = await this.options.dispenseFlow.authorise(decoded.value, dispenserId);
    await this.reply(dispenserId, 'auth/response', response);
  }

  private async onTokenRequest(dispenserId: string, payload: Buffer): Promise<void> {
    const decoded = decodeMessage(TokenRequest, payload);
    if (!decoded.ok) {
      const requestId = readRequestId(payload);
      this.options.logger.warn({ dispenser_id: dispenserId, code: decoded.code }, 'invalid token request');
      const invalid = { request_id: requestId, outcome: 'INVALID_REQUEST', message: TOKEN_OUTCOMES.INVALID_REQUEST };
      if (requestId) await this.reply(dispenserId, 'token/response', invalid);
      return;
    }
    await this.reply(dispenserId, 'token/response', await this.options.tokens.redeem(decoded.value, dispenserId));
  }

  private async onComplete(dispenserId: string, payload: Buffer): Promise<void> {
    await this.decoded(dispenserId, 'session/complete', SessionComplete, payload, async (report) => {
      try {
        // complete() resolves once the ledger event is on disk: only then is the ack sent.
        const ack = await this.options.dispenseFlow.complete(report, dispenserId);
        await this.reply(dispenserId, 'session/ack', ack);
      } catch (error) {
        if (!(error instanceof GatewayError)) throw error;
        this.options.logger.warn(
          { dispenser_id: dispenserId, session_id: report.session_id, code: error.code },
          'session report refused',
        );
        if (error.code === 'UNKNOWN_SESSION' || error.code === 'SESSION_MISMATCH') {
          // Never recorded, so never retried: the dispenser is told, the gateway keeps it for the technician.
          await this.reply(
            dispenserId,
            'session/ack',
            await this.options.dispenseFlow.refuse(report, dispenserId, error.code),
          );
        }
      }
    });
  }

  private async decoded<S extends z.ZodMiniType>(
    dispenserId: string,
    leaf: string,
    schema: S,
    payload: Buffer,
    use: (value: z.infer<S>) => unknown,
  ): Promise<void> {
    const decoded = decodeMessage(schema, payload);
    if (!decoded.ok) {
      this.options.logger.warn(
        { dispenser_id: dispenserId, leaf, code: decoded.code, error: decoded.error },
        'dispenser message dropped',
      );
      return;
    }
    await use(decoded.value);
  }

  private reply(
    dispenserId: string,
    leaf: 'auth/response' | 'session/ack' | 'token/response',
    message: object,
  ): Promise<void> {
    return this.options.broker.publish(dispenserTopic(dispenserId, leaf), JSON.stringify(message));
  }
}
