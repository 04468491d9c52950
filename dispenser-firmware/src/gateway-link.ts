import {
  DISPENSE_QOS,
  DISPENSER_SUBSCRIBES,
  decodeChecked,
  dispenserTopic,
  parseDispenserTopic,
  type AuthRequest,
  type Check,
  type CommandResult,
  type DispenserInboundLeaf,
  type DispenserOutboundLeaf,
  type DispenserStatus,
  type Heartbeat,
  type SessionComplete,
  type SessionProgress,
  type TokenRequest,
} from '@tusafishe/protocol';
import {
  checkAuthResponse,
  checkDispenserCommand,
  checkDispenserConfig,
  checkSessionAnswer,
  checkTokenResponse,
} from '@tusafishe/protocol/dispenser';
import type { MqttLink } from './hal.js';
import type { DispenserIdentity } from './firmware-settings.js';

/** Validated by the protocol's schema-free checks: zod's schemas would not fit the device's RAM. */
const INBOUND = {
  'auth/response': checkAuthResponse,
  'session/ack': checkSessionAnswer,
  config: checkDispenserConfig,
  command: checkDispenserCommand,
  'token/response': checkTokenResponse,
} as const satisfies Record<DispenserInboundLeaf, Check<unknown>>;

/** What the dispenser sends: serialised only (the gateway validates), so the device never builds these schemas. */
interface Outbound {
  'auth/request': AuthRequest;
  'session/progress': SessionProgress;
  'session/complete': SessionComplete;
  heartbeat: Heartbeat;
  status: DispenserStatus;
  'command/result': CommandResult;
  'token/request': TokenRequest;
}

/** Progress and heartbeats are informational (QoS 0); the rest is the dispense flow (QoS 1). */
const QOS: Record<DispenserOutboundLeaf, 0 | 1> = {
  'auth/request': DISPENSE_QOS,
  'session/progress': 0,
  'session/complete': DISPENSE_QOS,
  heartbeat: 0,
  status: DISPENSE_QOS,
  'command/result': DISPENSE_QOS,
  'token/request': DISPENSE_QOS,
};

type Checked<C> = C extends Check<infer T> ? T : never;

export type Inbound = {
  [L in DispenserInboundLeaf]: { leaf: L; message: Checked<(typeof INBOUND)[L]> };
}[DispenserInboundLeaf];

export interface GatewayLinkEvents {
  onUp(): void;
  onDown(): void;
  onMessage(inbound: Inbound): void;
  /** A payload that failed validation: dropped, counted as an error. */
  onInvalid(leaf: string, error: string): void;
}

/**
 * The dispenser's side of the MQTT contract: its own topics only, every inbound payload
 * validated against the protocol, retained online status with an offline last will.
 */
export class GatewayLink {
  #up = false;

  constructor(
    private readonly mqtt: MqttLink,
    private readonly identity: DispenserIdentity,
    readonly firmware: string,
    private readonly keepaliveSeconds: number,
  ) {}

  get up(): boolean {
    return this.#up;
  }

  start(events: GatewayLinkEvents): void {
    const { id, username, password } = this.identity;
    this.mqtt.start(
      {
        clientId: username,
        username,
        password,
        keepaliveSeconds: this.keepaliveSeconds,
        will: {
          topic: dispenserTopic(id, 'status'),
          payload: JSON.stringify({ online: false } satisfies DispenserStatus),
          qos: DISPENSE_QOS,
          retain: true,
        },
      },
      {
        onConnect: () => {
          this.#up = true;
          this.mqtt.subscribe(DISPENSER_SUBSCRIBES.map((leaf) => dispenserTopic(id, leaf)));
          this.send('status', { online: true, firmware: this.firmware });
          events.onUp();
        },
        onDisconnect: () => {
          if (!this.#up) return;
          this.#up = false;
          events.onDown();
        },
        onMessage: (topic, payload) => {
          const parsed = parseDispenserTopic(topic);
          if (!parsed || parsed.dispenserId !== id || !(parsed.leaf in INBOUND)) return;
          const leaf = parsed.leaf as DispenserInboundLeaf;
          const decoded = decodeChecked<Inbound['message']>(INBOUND[leaf], payload);
          if (decoded.ok) events.onMessage({ leaf, message: decoded.value } as Inbound);
          else events.onInvalid(leaf, decoded.error);
        },
      },
    );
  }

  send<L extends DispenserOutboundLeaf>(leaf: L, message: Outbound[L]): void {
    if (!this.#up) return;
    this.mqtt.publish(dispenserTopic(this.identity.id, leaf), JSON.stringify(message), {
      qos: QOS[leaf],
      retain: leaf === 'status',
    });
  }

  /** Leaves cleanly: offline status first, because a clean disconnect suppresses the will. */
  stop(): void {
    this.send('status', { online: false, firmware: this.firmware });
    this.#up = false;
    this.mqtt.stop();
  }
}
