import { EventEmitter } from 'node:events';
import type {
  AuthResponse,
  CommandResult,
  DenialCode,
  Heartbeat,
  LedgerEvent,
  SessionComplete,
  SessionProgress,
  SessionRefused,
} from '@tusafishe/protocol';
import type { DispenseSession } from './store/holds.js';

/** One authorisation answered (never carries the PIN). */
export interface AuthorisationOutcome {
  request_id: string;
  dispenser_id: string | null;
  /** E.164 when the number was valid. */
  phone: string | null;
  account_id: string | null;
  requested_ml: number;
  approved: boolean;
  reason: DenialCode | null;
  session_id: string | null;
  /** True when this answered a repeated request_id with the stored decision. */
  repeat: boolean;
  at: number;
  response: AuthResponse;
}

export interface DispenseRecorded {
  event: LedgerEvent;
  session: DispenseSession;
  /** Customer's available balance after the event. */
  balance_ml: number;
  /** delivered_ml exceeded approved_ml: flagged for operators. */
  over_delivered: boolean;
  /** What the dispenser reported beyond approved + tolerance: not charged, flagged (0 when none). */
  excess_ml: number;
}

/** A completion matching no session of that dispenser: kept for the technician, refused to the dispenser. */
interface CompletionRefused {
  dispenser_id: string;
  completion: SessionComplete;
  reason: SessionRefused['refused'];
  at: number;
}

interface DispenserStatusChange {
  dispenser_id: string;
  online: boolean;
  firmware: string | null;
  heartbeat: Heartbeat | null;
  at: number;
}

/** A keypad token credited at this kiosk (ARCHITECTURE §5a): a `topup` under the cloud's top-up id. */
export interface TokenRedeemed {
  event: LedgerEvent;
  counter: number;
  /** The customer's available balance after it. */
  balance_ml: number;
}

export interface GatewayEventMap {
  'token-redeemed': [TokenRedeemed];
  'dispense-recorded': [DispenseRecorded];
  'completion-refused': [CompletionRefused];
  authorisation: [AuthorisationOutcome];
  'dispenser-status': [DispenserStatusChange];
  /** Water flowing (QoS 0 reports; for live display only). */
  'session-progress': [{ dispenser_id: string; progress: SessionProgress; at: number }];
  /** A dispenser's answer to a technician command (valve test, reboot, OTA). */
  'command-result': [{ dispenser_id: string; result: CommandResult; at: number }];
}

type Listener<K extends keyof GatewayEventMap> = (...args: GatewayEventMap[K]) => void;

/** Listeners one owner adds and removes together (`GatewayEvents.scope()`). */
export interface EventScope {
  on<K extends keyof GatewayEventMap>(event: K, listener: Listener<K>): void;
  /** Removes every listener added through this scope. */
  dispose(): void;
}

/**
 * Live feed for the UI and other modules. A listener that throws is reported to
 * `onListenerError` (the gateway logs it) and the other listeners still run: the feed
 * is emitted after a dispense is on disk, and a broken listener must not stop its ack.
 */
export class GatewayEvents extends EventEmitter<GatewayEventMap> {
  constructor(private readonly onListenerError: (error: unknown, event: string) => void = () => {}) {
    super();
  }

  override emit<K extends keyof GatewayEventMap>(event: K, ...args: GatewayEventMap[K]): boolean {
    // Raw: calling a once() wrapper removes it, as EventEmitter would.
    const listeners = this.rawListeners(event) as ((...a: GatewayEventMap[K]) => void)[];
    for (const listener of listeners) {
      try {
        listener(...args);
      } catch (error) {
        this.onListenerError(error, event);
      }
    }
    return listeners.length > 0;
  }

  /** A set of subscriptions for one owner (an extension), all removed by `dispose()` (at its stop). */
  scope(): EventScope {
    const added: (() => void)[] = [];
    return {
      on: (event, listener) => {
        this.on(event as keyof GatewayEventMap, listener as Listener<keyof GatewayEventMap>);
        added.push(() => this.off(event as keyof GatewayEventMap, listener as Listener<keyof GatewayEventMap>));
      },
      dispose: () => {
        for (const remove of added.splice(0)) remove();
      },
    };
  }
}
