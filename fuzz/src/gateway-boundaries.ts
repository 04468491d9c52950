import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import mqtt, { type MqttClient } from 'mqtt';
import { pino } from 'pino';
import {
  AuthResponse,
  decodeMessage,
  DEMO_CUSTOMERS,
  DISPENSER_PUBLISHES,
  dispenserTopic,
  SessionAck,
} from '@tusafishe/protocol';
import { startGateway, type RunningGateway } from '@tusafishe/gateway';
import { kioskExtensions } from '@tusafishe/gateway';
import { anyJson, number, recordOf, text } from './inputs.js';
import { crash, fail, newTally, serverError, type Boundary } from './tally.js';

const TECHNICIAN = { username: 'fuzz-technician', password: 'fuzz-technician-password-1' };

interface GatewayUnderFuzz {
  gateway: RunningGateway;
  close(): Promise<void>;
}

/** A real gateway (SQLite file, aedes on a port, HTTP) with demo data and the technicians' API. */
async function startFuzzGateway(): Promise<GatewayUnderFuzz> {
  const dataDir = await mkdtemp(join(tmpdir(), 'tusafishe-fuzz-'));
  const gateway = await startGateway({
    dataDir,
    kioskId: 'K1',
    host: '127.0.0.1',
    mqttPort: 0,
    httpPort: 0,
    seedDemo: true,
    logger: pino({ level: 'silent' }),
    settings: { pinMaxFailures: 20, httpRateLimitPerMinute: 1e9 },
    setup: (core) => core.store.setLastCloudContact(Date.now()),
    extensions: (core) =>
      kioskExtensions(core, {
        HW_MODE: 'simulated',
        TECHNICIAN_USERNAME: TECHNICIAN.username,
        TECHNICIAN_PASSWORD: TECHNICIAN.password,
      }),
  });
  return {
    gateway,
    async close() {
      await gateway.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** Wrong PINs lock the demo customers; the fuzzer lifts that so approvals keep coming. */
function clearLockouts(gateway: RunningGateway): void {
  gateway.store.db.prepare('DELETE FROM pin_failures').run();
}

async function signIn(gateway: RunningGateway): Promise<string> {
  const response = await gateway.http.inject({ method: 'POST', url: '/api/session', payload: TECHNICIAN });
  const cookie = response.cookies.find((c) => c.name === 'tusafishe_session');
  return cookie ? `${cookie.name}=${cookie.value}` : '';
}

interface HttpInput {
  method: string;
  url: string;
  signedIn: boolean;
  contentType: string;
  payload: string | undefined;
}

function fillPath(path: string, values: string[]): string {
  let i = 0;
  return path.replace(/\{[^}]+\}/g, () => encodeURIComponent(values[i++ % values.length] ?? ''));
}

const gatewayHttp: Boundary = {
  names: ['gateway-http'],
  async run(runs, seed) {
    const tally = newTally('gateway-http');
    const fuzz = await startFuzzGateway();
    const { gateway } = fuzz;
    try {
      const spec = (await gateway.http.inject({ url: '/api/openapi.json' })).json() as {
        paths: Record<string, Record<string, { parameters?: { name: string; in: string }[] }>>;
      };
      const operations = Object.entries(spec.paths).flatMap(([path, methods]) =>
        Object.entries(methods).map(([method, op]) => ({
          path,
          method: method.toUpperCase(),
          query: (op.parameters ?? []).filter((p) => p.in === 'query').map((p) => p.name),
        })),
      );
      // Routes outside the technicians' API (no OpenAPI entry).
      operations.push(
        { path: '/health', method: 'GET', query: [] },
        { path: '/metrics', method: 'GET', query: [] },
        { path: '/dispense-verification', method: 'POST', query: [] },
      );
      const fields = [
        'reason',
        'measured_ml',
        'session_id',
        'duration_ms',
        'username',
        'password',
        'phone',
        'pin',
        'requested_ml',
        'enabled',
        'pulses_per_litre',
        'max_ml',
        'presets_ml',
        'version',
        'q',
        'limit',
      ];
      const input: fc.Arbitrary<HttpInput> = fc
        .record({
          op: fc.constantFrom(...operations),
          params: fc.array(fc.oneof(fc.constantFrom('D1', 'D2', 'TSF000101', 'TSF000106', 'K1'), text), {
            minLength: 1,
            maxLength: 3,
          }),
          query: fc.dictionary(
            fc.oneof(fc.constantFrom(...fields, 'cursor', 'since'), fc.string({ maxLength: 6 })),
            text,
            { maxKeys: 3 },
          ),
          signedIn: fc.boolean(),
          contentType: fc.constantFrom(
            'application/json',
            'application/json',
            'application/octet-stream',
            'text/plain',
            '',
          ),
          body: fc.option(
            fc.oneof(recordOf(fields), anyJson).map((value) => JSON.stringify(value)),
            { nil: undefined },
          ),
        })
        .map(({ op, params, query, signedIn, contentType, body }) => ({
          method: op.method,
          url: `${fillPath(op.path, params)}?${new URLSearchParams(query)}`,
          signedIn,
          contentType,
          payload: op.method === 'GET' ? undefined : body,
        }));
      let cookie = await signIn(gateway);
      await fc.assert(
        fc.asyncProperty(input, async (request) => {
          tally.inputs += 1;
          try {
            const response = await gateway.http.inject({
              method: request.method as 'GET',
              url: request.url,
              headers: {
                ...(request.contentType ? { 'content-type': request.contentType } : {}),
                ...(request.signedIn ? { cookie } : {}),
              },
              ...(request.payload !== undefined ? { payload: request.payload } : {}),
            });
            if (response.statusCode >= 500) serverError(tally, response.statusCode, request, response.body);
            // A fuzzed sign-out or password change ends the session: start another.
            if (request.signedIn && response.statusCode === 401) cookie = await signIn(gateway);
          } catch (error) {
            crash(tally, error, request);
          }
        }),
        { numRuns: runs, seed, endOnFailure: true },
      );
    } finally {
      await fuzz.close();
    }
    return [tally];
  },
};

interface MqttInput {
  dispenser: number;
  leaf: (typeof DISPENSER_PUBLISHES)[number];
  payload: Buffer | string;
}

/** A payload for a dispenser topic: the message that leaf carries with fields gone wrong, JSON, bytes. */
function mqttPayload(sessions: readonly { session_id: string; request_id: string }[]): fc.Arbitrary<string | Buffer> {
  const demo = DEMO_CUSTOMERS[0]!;
  const authRequest = fc.record({
    request_id: fc.oneof(fc.uuid({ version: 4 }), text),
    phone: fc.oneof(fc.constantFrom(...DEMO_CUSTOMERS.map((c) => c.phone), '0700000102', demo.phone), text),
    pin: fc.oneof(fc.constant(demo.pin), fc.stringMatching(/^[0-9]{4}$/), text),
    requested_ml: fc.oneof(fc.integer({ min: 1, max: 20_000 }), number),
  });
  const completion = fc.record({
    session_id: fc.oneof(fc.constantFrom(...sessions.map((s) => s.session_id), 'none'), fc.uuid({ version: 4 })),
    request_id: fc.oneof(fc.constantFrom(...sessions.map((s) => s.request_id), 'none'), fc.uuid({ version: 4 })),
    delivered_ml: fc.oneof(fc.integer({ min: 0, max: 25_000 }), number),
    pulses: fc.oneof(fc.nat(20_000), number),
    end_reason: fc.oneof(fc.constantFrom('target_reached', 'cancelled', 'no_flow', 'power_loss'), text),
    ended_at: fc.oneof(fc.constant(Date.now()), number),
  });
  return fc.oneof(
    { weight: 4, arbitrary: fc.oneof(authRequest, completion).map((value) => JSON.stringify(value)) },
    {
      weight: 2,
      arbitrary: fc
        .oneof(
          recordOf([
            'request_id',
            'session_id',
            'phone',
            'pin',
            'requested_ml',
            'delivered_ml',
            'firmware',
            'uptime_s',
            'rssi_dbm',
            'free_heap',
            'state',
            'command_id',
            'ok',
          ]),
          anyJson,
        )
        .map((v) => JSON.stringify(v)),
    },
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: 64 }).map((bytes) => Buffer.from(bytes)) },
    { weight: 1, arbitrary: text },
  );
}

const mqttTopics: Boundary = {
  names: ['mqtt'],
  async run(runs, seed) {
    const tally = newTally('mqtt');
    const fuzz = await startFuzzGateway();
    const { gateway } = fuzz;
    const clients: MqttClient[] = [];
    const sessions: { session_id: string; request_id: string }[] = [];
    const acked = new Map<string, unknown>();
    try {
      for (const { id, password } of gateway.demo!.dispensers) {
        const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${gateway.mqttPort}`, {
          clientId: id,
          username: id,
          password,
          reconnectPeriod: 0,
        });
        (client.stream as { setNoDelay?: (on: boolean) => void }).setNoDelay?.(true);
        await client.subscribeAsync([dispenserTopic(id, 'auth/response'), dispenserTopic(id, 'session/ack')], {
          qos: 1,
        });
        client.on('message', (topic, payload) => {
          if (topic.endsWith('/auth/response')) {
            const answer = decodeMessage(AuthResponse, payload);
            if (answer.ok && answer.value.approved)
              sessions.push({ session_id: answer.value.session_id!, request_id: answer.value.request_id });
          } else {
            const ack = decodeMessage(SessionAck, payload);
            if (ack.ok) acked.set(ack.value.event_id, ack.value);
          }
        });
        clients.push(client);
      }
      // Approvals are the interesting state: get a few before fuzzing completions against them.
      const primer = clients[0]!;
      for (let i = 0; i < 3; i += 1) {
        await primer.publishAsync(
          dispenserTopic('D1', 'auth/request'),
          JSON.stringify({
            request_id: crypto.randomUUID(),
            phone: DEMO_CUSTOMERS[0]!.phone,
            pin: DEMO_CUSTOMERS[0]!.pin,
            requested_ml: 1000,
          }),
          { qos: 1 },
        );
      }
      const input: fc.Arbitrary<MqttInput> = fc.record({
        dispenser: fc.nat(clients.length - 1),
        leaf: fc.constantFrom(...DISPENSER_PUBLISHES),
        payload: fc
          .constant(null)
          .chain(() =>
            mqttPayload(sessions.length > 0 ? sessions.slice(-20) : [{ session_id: 'none', request_id: 'none' }]),
          ),
      });
      await fc.assert(
        fc.asyncProperty(input, async ({ dispenser, leaf, payload }) => {
          tally.inputs += 1;
          if (tally.inputs % 100 === 0) clearLockouts(gateway);
          const client = clients[dispenser]!;
          const id = gateway.demo!.dispensers[dispenser]!.id;
          try {
            await client.publishAsync(dispenserTopic(id, leaf), payload, { qos: 1 });
          } catch (error) {
            crash(tally, error, { leaf, payload: String(payload) });
          }
          if (!client.connected)
            fail(tally, 'the gateway dropped an authenticated dispenser', { leaf, payload: String(payload) });
        }),
        { numRuns: runs, seed, endOnFailure: true },
      );
      // Still serving: a real request is answered.
      clearLockouts(gateway);
      const requestId = crypto.randomUUID();
      const answered = new Promise<boolean>((resolve) => {
        const timer = setTimeout(() => resolve(false), 10_000);
        clients[0]!.on('message', (_topic, payload) => {
          const answer = decodeMessage(AuthResponse, payload);
          if (answer.ok && answer.value.request_id === requestId) {
            clearTimeout(timer);
            resolve(true);
          }
        });
      });
      await clients[0]!.publishAsync(
        dispenserTopic('D1', 'auth/request'),
        JSON.stringify({
          request_id: requestId,
          phone: DEMO_CUSTOMERS[1]!.phone,
          pin: DEMO_CUSTOMERS[1]!.pin,
          requested_ml: 500,
        }),
        { qos: 1 },
      );
      if (!(await answered)) fail(tally, 'the gateway stopped answering authorisation requests', requestId);
      // Nothing acknowledged is lost: every acked dispense is in the ledger.
      const has = gateway.store.db.prepare('SELECT 1 FROM ledger_events WHERE event_id = ?');
      for (const [eventId, ack] of acked)
        if (!has.get(eventId)) fail(tally, 'acknowledged dispense missing from the ledger', ack);
    } finally {
      await Promise.all(clients.map((client) => client.endAsync(true)));
      await fuzz.close();
    }
    return [tally];
  },
};

export function gatewayBoundaries(): Boundary[] {
  return [gatewayHttp, mqttTopics];
}
