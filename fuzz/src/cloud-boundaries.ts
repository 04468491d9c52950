import fc from 'fast-check';
import { newId } from '@tusafishe/protocol';
import { recordAdjustment } from '@tusafishe/cloud';
import { startCloud, type CloudOptions, type RunningCloud } from '@tusafishe/cloud';
import { createCustomer } from '@tusafishe/cloud';
import { createKiosk } from '@tusafishe/cloud';
import { balanceDrift, existingEventIds } from '@tusafishe/cloud';
import { signInAs } from '@tusafishe/cloud/testing';
import { anyJson, fieldValue, formOf, number, recordOf, text } from './inputs.js';
import { crash, fail, newTally, serverError, type Boundary, type Tally } from './tally.js';

const HOOK = 'fuzz-webhook-secret-0123456789';
const KIOSK = 'FUZZ-K1';
const PHONES = ['+256771000001', '+256771000002', '+254700000301', '+256751000004'];

interface Request {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH';
  url: string;
  headers: Record<string, string>;
  payload?: string;
}

interface CloudUnderFuzz {
  cloud: RunningCloud;
  kioskAuth: string;
  /** An admin's console session cookie. */
  adminCookie: string;
  accounts: string[];
  /** Event ids the cloud acknowledged: each must be in the ledger at the end. */
  acked: Set<string>;
}

async function startFuzzCloud(options: CloudOptions): Promise<CloudUnderFuzz> {
  const cloud = await startCloud({
    port: 0,
    logger: false,
    webhookSecret: HOOK,
    simulators: { autoDecide: 'approve' },
    providers: { statusPollIntervalMs: 0 },
    devSmsOutbox: true,
    // The fuzzer is one address sending everything: it must reach the handlers, not the limits.
    rateLimits: {
      requestsPerPhonePerMinute: 1e9,
      requestsPerKioskPerMinute: 1e9,
      callbacksPerMinute: 1e9,
      requestsPerAddressPerMinute: 1e9,
    },
    authFailures: { max: 1e9, windowMs: 60_000 },
    ...options,
  });
  const kiosk = await createKiosk(cloud.db, { kioskId: KIOSK });
  const accounts: string[] = [];
  for (const phone of PHONES) {
    const customer = await createCustomer(cloud.db, { phone, name: 'Fuzz Customer', pin: '4826' });
    await recordAdjustment(cloud.db, {
      accountId: customer.account_id,
      amountMl: 500_000,
      reason: 'fuzz credit',
      operator: 'fuzz',
    });
    accounts.push(customer.account_id);
  }
  return {
    cloud,
    adminCookie: (await signInAs(cloud, 'admin', 'fuzz-admin')).cookie,
    kioskAuth: `Basic ${Buffer.from(`${KIOSK}:${kiosk.secret}`).toString('base64')}`,
    accounts,
    acked: new Set(),
  };
}

const form = (fields: Record<string, string>): string => new URLSearchParams(fields).toString();
const FORM = { 'content-type': 'application/x-www-form-urlencoded' };
const JSON_TYPE = { 'content-type': 'application/json' };

/** A kiosk's ledger event, mostly well-formed, with any field possibly wrong. */
function ledgerEvent(accounts: readonly string[]): fc.Arbitrary<unknown> {
  const good = fc.record({
    event_id: fc.oneof(fc.uuid({ version: 7 }), fc.constant(newId())),
    type: fc.constantFrom(
      'dispense',
      'pin_lockout',
      'pin_unlock',
      'alert_raised',
      'alert_cleared',
      'topup',
      'adjustment',
    ),
    account_id: fc.constantFrom(...accounts, 'TSNOBODY1'),
    amount_ml: fc.oneof(fc.integer({ min: -200_000, max: 1000 }), fc.constant(0)),
    kiosk_id: fc.constantFrom(KIOSK, 'OTHER-KIOSK'),
    dispenser_id: fc.constantFrom('D1', 'D2'),
    source_id: fc.oneof(fc.uuid({ version: 4 }), fc.constant('dup-source')),
    occurred_at: fc.oneof(fc.constant(Date.now()), fc.integer({ min: 0, max: 4_102_444_800_000 })),
    details: fc.option(
      fc.oneof(fc.record({ locked_until: number }), fc.dictionary(fc.string({ maxLength: 6 }), fieldValue)),
      { nil: undefined },
    ),
  });
  return fc.oneof(
    { weight: 6, arbitrary: good },
    { weight: 1, arbitrary: recordOf(['event_id', 'type', 'account_id', 'amount_ml', 'kiosk_id', 'occurred_at']) },
  );
}

/** Every route of the cloud with a generator of inputs for its body and query. */
function routes(fuzz: CloudUnderFuzz): fc.Arbitrary<Request> {
  const admin = { cookie: fuzz.adminCookie };
  const kiosk = { authorization: fuzz.kioskAuth };
  const account = fc.oneof(fc.constantFrom(...fuzz.accounts), text);
  const hook = fc.constantFrom(`?token=${HOOK}`, '', '?token=wrong');
  const ussdForm = formOf(['sessionId', 'serviceCode', 'phoneNumber', 'networkCode', 'text']);
  const smsForm = formOf(['from', 'to', 'text', 'date', 'id', 'linkId']);
  const body = (fields: string[]) => fc.oneof(recordOf(fields), anyJson).map((value) => JSON.stringify(value));
  return fc.oneof(
    fc
      .tuple(hook, ussdForm)
      .map(([q, f]) => ({ method: 'POST' as const, url: `/ussd${q}`, headers: FORM, payload: form(f) })),
    fc
      .tuple(hook, smsForm)
      .map(([q, f]) => ({ method: 'POST' as const, url: `/sms/inbound${q}`, headers: FORM, payload: form(f) })),
    fc
      .tuple(
        hook,
        fc.constantFrom<'PUT' | 'POST'>('PUT', 'POST'),
        body(['externalId', 'financialTransactionId', 'status', 'amount', 'currency', 'reason']),
      )
      .map(([q, method, payload]) => ({ method, url: `/payments/mtn/callback${q}`, headers: JSON_TYPE, payload })),
    fc
      .tuple(
        hook,
        fc.oneof(
          recordOf(['transaction', 'hash']),
          fc.record({ transaction: recordOf(['id', 'message', 'status_code', 'airtel_money_id']) }),
        ),
      )
      .map(([q, value]) => ({
        method: 'POST' as const,
        url: `/payments/airtel/callback${q}`,
        headers: JSON_TYPE,
        payload: JSON.stringify(value),
      })),
    formOf(['cursor', 'limit', 'wait_s']).map((query) => ({
      method: 'GET' as const,
      // A long-poll would hold the fuzzer for its wait: short waits only.
      url: `/kiosk/v1/customers?${form({ ...query, wait_s: /^[0-9]+$/.test(query.wait_s ?? '') ? '0' : (query.wait_s ?? '') })}`,
      headers: kiosk,
    })),
    fc
      .oneof(
        fc.array(ledgerEvent(fuzz.accounts), { maxLength: 8 }).map((events) => JSON.stringify({ events })),
        body(['events']),
      )
      .map((payload) => ({
        method: 'POST' as const,
        url: '/kiosk/v1/events',
        headers: { ...kiosk, ...JSON_TYPE },
        payload,
      })),
    fc
      .constantFrom(
        '/console/api/negative-balances',
        '/console/api/kiosk-volume-flags',
        '/console/api/session',
        '/health',
      )
      .map((url) => ({ method: 'GET' as const, url, headers: admin })),
    body(['kiosk_id', 'name', 'operator']).map((payload) => ({
      method: 'POST' as const,
      url: '/console/api/kiosks',
      headers: { ...admin, ...JSON_TYPE },
      payload,
    })),
    fc
      .tuple(account, body(['status', 'daily_limit_ml', 'allowed_kiosks', 'expires_at', 'operator']))
      .map(([id, payload]) => ({
        method: 'PATCH' as const,
        url: `/console/api/customers/${encodeURIComponent(id)}`,
        headers: { ...admin, ...JSON_TYPE },
        payload,
      })),
    fc.tuple(account, body(['reason', 'operator'])).map(([id, payload]) => ({
      method: 'POST' as const,
      url: `/console/api/customers/${encodeURIComponent(id)}/unlock`,
      headers: { ...admin, ...JSON_TYPE },
      payload,
    })),
    body(['account_id', 'amount_ml', 'reason', 'operator']).map((payload) => ({
      method: 'POST' as const,
      url: '/console/api/adjustments',
      headers: { ...admin, ...JSON_TYPE },
      payload,
    })),
    formOf(['phone']).map((query) => ({ method: 'GET' as const, url: `/dev/sms/outbox?${form(query)}`, headers: {} })),
  );
}

/** USSD sessions as people type them: menu digits, PINs, names, amounts, joined by `*`. */
function ussdSessions(): fc.Arbitrary<Request> {
  const input = fc.oneof(
    fc.constantFrom('1', '2', '3', '4', '9', '0', '4826', '1357', '1000', '500', ''),
    fc.stringMatching(/^[0-9]{1,6}$/),
    text,
  );
  return fc
    .record({
      phone: fc.oneof(fc.constantFrom(...PHONES), text),
      session: fc.integer({ min: 1, max: 50 }),
      networkCode: fc.constantFrom('64110', '64101', '63902', ''),
      inputs: fc.array(input, { maxLength: 8 }),
    })
    .map(({ phone, session, networkCode, inputs }) => ({
      method: 'POST',
      url: `/ussd?token=${HOOK}`,
      headers: FORM,
      payload: form({
        sessionId: `fuzz-${session}`,
        serviceCode: '*123#',
        phoneNumber: phone,
        networkCode,
        text: inputs.join('*'),
      }),
    }));
}

/** Inbound SMS: commands in both languages with any argument, and noise. */
function smsTexts(): fc.Arbitrary<Request> {
  const command = fc.oneof(
    fc
      .tuple(
        fc.constantFrom(
          'REGISTER',
          'BALANCE',
          'STATUS',
          'BUY',
          'HELP',
          'SAJILI',
          'SALIO',
          'HALI',
          'NUNUA',
          'MSAADA',
          'buy',
          ' Buy ',
        ),
        text,
      )
      .map(([word, rest]) => `${word} ${rest}`),
    text,
  );
  return fc
    .record({ from: fc.oneof(fc.constantFrom(...PHONES), text), text: command, id: fc.uuid({ version: 4 }) })
    .map((sms) => ({
      method: 'POST',
      url: `/sms/inbound?token=${HOOK}`,
      headers: FORM,
      payload: form({ ...sms, to: '12345', date: 'now' }),
    }));
}

async function send(fuzz: CloudUnderFuzz, tally: Tally, request: Request): Promise<void> {
  tally.inputs += 1;
  try {
    const response = await fuzz.cloud.app.inject({
      method: request.method,
      url: request.url,
      headers: request.headers,
      ...(request.payload !== undefined ? { payload: request.payload } : {}),
    });
    if (response.statusCode >= 500) serverError(tally, response.statusCode, request, response.body);
    if (request.url === '/kiosk/v1/events' && response.statusCode === 200) {
      for (const id of (response.json() as { acked: string[] }).acked) fuzz.acked.add(id);
    }
  } catch (error) {
    crash(tally, error, request);
  }
}

/** Balances equal the sum of their events, and nothing acknowledged is missing from the ledger. */
async function checkLedger(fuzz: CloudUnderFuzz, tally: Tally): Promise<void> {
  const drift = await balanceDrift(fuzz.cloud.db);
  if (drift.length > 0) fail(tally, 'balance differs from the sum of its events', drift);
  const held = await existingEventIds(fuzz.cloud.db, [...fuzz.acked]);
  const lost = [...fuzz.acked].filter((id) => !held.has(id));
  if (lost.length > 0) fail(tally, 'acknowledged events missing from the ledger', lost);
}

const CLOUD_INPUTS: [name: string, inputs: (fuzz: CloudUnderFuzz) => fc.Arbitrary<Request>][] = [
  ['cloud-http', routes],
  ['ussd', () => ussdSessions()],
  ['sms', () => smsTexts()],
];

/**
 * The cloud's boundaries on one cloud (PGlite unless `options` says otherwise): every HTTP
 * route, USSD sessions, SMS texts. Afterwards balances must equal the sum of their events and
 * every acknowledged event must be in the ledger.
 */
export function cloudBoundary(options: () => CloudOptions = () => ({})): Boundary {
  return {
    names: CLOUD_INPUTS.map(([name]) => name),
    async run(runs, seed) {
      const tallies: Tally[] = [];
      const fuzz = await startFuzzCloud(options());
      try {
        for (const [name, inputs] of CLOUD_INPUTS) {
          const tally = newTally(name);
          tallies.push(tally);
          await fc.assert(
            fc.asyncProperty(inputs(fuzz), async (request) => {
              await send(fuzz, tally, request);
            }),
            { numRuns: runs, seed, endOnFailure: true },
          );
          await checkLedger(fuzz, tally);
        }
      } finally {
        await fuzz.cloud.close();
      }
      return tallies;
    },
  };
}
