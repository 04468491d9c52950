/**
 * MQTT topic names for the kiosk broker. One tree per dispenser so the broker's
 * ACL can be a prefix check: a dispenser may only touch `tusafishe/v1/d/<its id>/…`.
 */
export const TOPIC_ROOT = 'tusafishe/v1/d';

/** Leaves a dispenser publishes (dispenser → gateway). */
export const DISPENSER_PUBLISHES = [
  'auth/request',
  'session/progress',
  'session/complete',
  'heartbeat',
  'status',
  'command/result',
  'token/request',
] as const;

/** Leaves a dispenser subscribes to (gateway → dispenser). */
export const DISPENSER_SUBSCRIBES = ['auth/response', 'session/ack', 'config', 'command', 'token/response'] as const;

export type DispenserOutboundLeaf = (typeof DISPENSER_PUBLISHES)[number];
export type DispenserInboundLeaf = (typeof DISPENSER_SUBSCRIBES)[number];
export type DispenserLeaf = DispenserOutboundLeaf | DispenserInboundLeaf;

export const DISPENSER_ID_PATTERN = /^[A-Za-z0-9_-]{1,32}$/;

export function dispenserTopic(dispenserId: string, leaf: DispenserLeaf): string {
  return `${TOPIC_ROOT}/${dispenserId}/${leaf}`;
}

/** Subscription filter the gateway uses to hear one leaf from every dispenser. */
export function anyDispenserTopic(leaf: DispenserOutboundLeaf): string {
  return `${TOPIC_ROOT}/+/${leaf}`;
}

export interface ParsedDispenserTopic {
  dispenserId: string;
  leaf: DispenserLeaf;
}

const LEAVES: readonly string[] = [...DISPENSER_PUBLISHES, ...DISPENSER_SUBSCRIBES];

/** Splits a concrete topic; null when it is not a dispenser topic of this protocol. */
export function parseDispenserTopic(topic: string): ParsedDispenserTopic | null {
  const prefix = `${TOPIC_ROOT}/`;
  if (!topic.startsWith(prefix)) return null;
  const rest = topic.slice(prefix.length);
  const slash = rest.indexOf('/');
  if (slash <= 0) return null;
  const dispenserId = rest.slice(0, slash);
  const leaf = rest.slice(slash + 1);
  if (!DISPENSER_ID_PATTERN.test(dispenserId) || !LEAVES.includes(leaf)) return null;
  return { dispenserId, leaf: leaf as DispenserLeaf };
}

/** MQTT QoS for the dispense flow: at-least-once, made exactly-once by message ids. */
export const DISPENSE_QOS = 1 as const;

/** Largest payload either end accepts; anything bigger is dropped and logged. */
export const MAX_PAYLOAD_BYTES = 4096;
