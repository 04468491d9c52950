import * as z from 'zod';

/** The gateway a dispenser command works on, and how its dispensers reach the broker. */
export const GatewayTargetOptions = {
  'data-dir': {
    type: 'string',
    value: 'dir',
    env: 'DATA_DIR',
    description: 'gateway data dir (gateway.db)',
    default: './data',
  },
  'broker-host': {
    type: 'string',
    value: 'host',
    env: 'BROKER_HOST',
    description: "the gateway's address on the kiosk WiFi, flashed into the dispenser",
  },
  'mqtt-port': {
    type: 'string',
    value: 'port',
    env: 'GATEWAY_MQTT_PORT',
    description: "the gateway's MQTT port",
    default: '1883',
  },
} as const;

export const GatewayTargetInput = {
  'data-dir': z.string().min(1).default('./data'),
  'broker-host': z.union([z.ipv4(), z.hostname()], { error: 'an IPv4 address or host name' }).optional(),
  'mqtt-port': z.coerce.number().int().min(1).max(65_535).default(1883),
};
