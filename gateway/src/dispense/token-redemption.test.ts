import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { newId, type CustomerRecord, type TokenResponse } from '@tusafishe/protocol';
import { issueKeypadToken, tokenEventId } from '@tusafishe/protocol/keypad-token';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { GatewayEvents, type TokenRedeemed } from '../events.js';
import { resolveSettings } from '../settings.js';
import { Store } from '../store/store.js';
import { TokenRedemptionFlow, type TokenRedemptionOptions } from './token-redemption.js';

const KIOSK = 'K1';
const ACCOUNT = 'TSF000777';
const PHONE = '+254700000777';
/** Fixed keys: a random wrong key passes the 24-bit MAC once in millions of runs, a fixed one never or always. */
const fixedKey = (byte: number): string => Buffer.alloc(32, byte).toString('base64url');
const KEY = fixedKey(1);
let dir: string;
let store: Store;
let events: GatewayEvents;
let flow: TokenRedemptionFlow;
const clock = Date.UTC(2026, 0, 15, 9, 0, 0);

function record(overrides: Partial<CustomerRecord> = {}): CustomerRecord {
  return {
    account_id: ACCOUNT,
    phone: PHONE,
    name: 'Token Test',
    pin_hash: 'x',
    status: 'active',
    expires_at: null,
    daily_limit_ml: null,
    allowed_kiosks: null,
    balance_ml: 10_000,
    locked_until: null,
    version: 1,
    token_key: KEY,
    token_counter: 3,
    tokens_void: [],
    ...overrides,
  };
}

const token = (counter: number, ml = 40_000): string => issueKeypadToken(KEY, counter, ml)!;
const redeem = (digits: string, dispenser = 'D1', phone = '0700000777', requestId = newId()): Promise<TokenResponse> =>
  flow.redeem({ request_id: requestId, phone, token: digits }, dispenser);
const available = (): number => store.availableBalanceMl(store.customers.findByAccount(ACCOUNT)!, clock);

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'gw-tokens-'));
  store = Store.open(dir);
  store.applyCustomerRecords([record()]);
  events = new GatewayEvents();
  flow = newFlow();
});

function newFlow(refresh?: TokenRedemptionOptions['refresh']): TokenRedemptionFlow {
  return new TokenRedemptionFlow({
    store,
    settings: resolveSettings({}),
    kioskId: KIOSK,
    events,
    logger: pino({ level: 'silent' }),
    now: () => clock,
    ...(refresh && { refresh }),
  });
}
afterEach(async () => {
  store.close();
  await rm(dir, { recursive: true, force: true });
});

describe('keypad token redemption at the kiosk', () => {
  it('credits a new token at once, under the cloud top-up id, and refuses it the second time', async () => {
    const redeemed: TokenRedeemed[] = [];
    events.on('token-redeemed', (r) => redeemed.push(r));
    expect(await redeem(token(4))).toMatchObject({ outcome: 'ADDED', credit_ml: 40_000, balance_ml: 50_000 });
    expect(available()).toBe(50_000);
    expect(redeemed.map((r) => r.event)).toEqual([
      expect.objectContaining({
        event_id: tokenEventId(ACCOUNT, 4),
        type: 'topup',
        amount_ml: 40_000,
        kiosk_id: KIOSK,
      }),
    ]);
    expect(await redeem(token(4), 'D2')).toMatchObject({ outcome: 'USED', message: 'Token already used' });
    expect(available()).toBe(50_000);
    expect(store.ledger.unacknowledged(10)).toHaveLength(1);
  });

  it('answers a repeated request with the same answer, crediting once', async () => {
    const requestId = newId();
    const first = await redeem(token(4), 'D1', '0700000777', requestId);
    const again = await redeem(token(4), 'D1', '0700000777', requestId);
    expect(again).toEqual(first);
    expect(available()).toBe(50_000);
  });

  it('accepts counters out of order within the window, each once', async () => {
    for (const counter of [9, 5, 4, 30, 7]) expect((await redeem(token(counter))).outcome).toBe('ADDED');
    for (const counter of [9, 5, 4, 30, 7]) expect((await redeem(token(counter))).outcome).toBe('USED');
    expect(available()).toBe(10_000 + 5 * 40_000);
  });

  it('credits nothing for a top-up the kiosk already has from the cloud', async () => {
    expect(await redeem(token(3))).toMatchObject({ outcome: 'ALREADY_ADDED', credit_ml: 40_000, balance_ml: 10_000 });
    expect(available()).toBe(10_000);
    expect(store.ledger.unacknowledged(10)).toEqual([]);
  });

  it('counts the credit once when the cloud’s record with the top-up arrives before the push is acknowledged', async () => {
    await redeem(token(4));
    store.applyCustomerRecords([record({ balance_ml: 50_000, token_counter: 4, version: 2 })]);
    expect(available()).toBe(50_000);
    expect(await redeem(token(4))).toMatchObject({ outcome: 'ALREADY_ADDED' });
  });

  it('has the record made current first: a token the cloud credited since is not credited again', async () => {
    // This kiosk does not follow the customer's balance: its record predates their top-up.
    const asked: string[] = [];
    const refreshing = newFlow(async (customer) => {
      asked.push(customer.account_id);
      store.applyCustomerRecords([record({ balance_ml: 50_000, token_counter: 4, version: 2 })]);
    });
    const response = await refreshing.redeem({ request_id: newId(), phone: '0700000777', token: token(4) }, 'D1');
    expect(response).toMatchObject({ outcome: 'ALREADY_ADDED', balance_ml: 50_000 });
    expect(asked).toEqual([ACCOUNT]);
    expect(store.ledger.unacknowledged(10)).toEqual([]);
  });

  it('refuses a token an operator voided', async () => {
    store.applyCustomerRecords([record({ tokens_void: [5], version: 2 })]);
    expect(await redeem(token(5))).toMatchObject({ outcome: 'VOID', message: 'Token cancelled' });
    expect(available()).toBe(10_000);
  });

  it('refuses an altered digit and another customer’s token', async () => {
    const good = token(4);
    const altered = `${good.slice(0, 6)}${(Number(good[6]) + 1) % 10}${good.slice(7)}`;
    expect((await redeem(altered)).outcome).toBe('INVALID_REQUEST');
    expect((await redeem(issueKeypadToken(fixedKey(2), 4, 40_000)!)).outcome).toBe('WRONG_TOKEN');
    expect(await redeem(good, 'D1', '0700000999')).toMatchObject({ outcome: 'UNKNOWN_CUSTOMER' });
    expect(available()).toBe(10_000);
  });

  it('locks the customer after 5 wrong tokens (even the right one then), and a dispenser after 10', async () => {
    let wrongKeys = 10;
    const wrong = () => issueKeypadToken(fixedKey((wrongKeys += 1)), 4, 40_000)!;
    const answers: TokenResponse[] = [];
    for (let i = 0; i < 5; i += 1) answers.push(await redeem(wrong()));
    expect(answers.map((a) => a.attempts_left)).toEqual([4, 3, 2, 1, 0]);
    expect(await redeem(token(4))).toMatchObject({ outcome: 'LOCKED_OUT', message: 'Locked: try later' });
    expect(available()).toBe(10_000);
    // Another dispenser is locked by wrong tokens for other numbers too.
    for (let i = 0; i < 10; i += 1) await redeem(wrong(), 'D3', `07000008${String(i).padStart(2, '0')}`);
    store.applyCustomerRecords([record({ account_id: 'TSF000778', phone: '+254700000778', token_counter: 0 })]);
    expect((await redeem(token(4), 'D3', '0700000778')).outcome).toBe('LOCKED_OUT');
  });
});
