import type { FastifyInstance, FastifyReply } from 'fastify';
import * as z from 'zod';
import { verifySecret } from '@tusafishe/protocol/secret-hash';
import { normalisePhone } from '@tusafishe/protocol/phone';
import {
  clearPinFailures,
  findCustomerByPhone,
  recordPinFailure,
  setLanguage,
  setPin,
  type Customer,
  type PinLockoutPolicy,
} from '../customers/customers.js';
import { register } from '../customers/registration.js';
import { phoneKey } from '../http/phone-key.js';
import { requireWebhookSecret } from '../http/webhook-secret.js';
import type { CloudMetrics } from '../metrics.js';
import type { PaymentService } from '../payments/payments.js';
import { buyWater, purchaseLimits, quote, walletsFor, type PurchaseBounds } from '../payments/purchase.js';
import type { Db } from '../store/db.js';
import { lastUnusedToken } from '../customers/keypad-tokens.js';
import { checkCode, hasOpenCode } from '../console/customer-codes.js';
import { redeemPinReset } from '../console/pin-reset.js';
import { ussdScreen, type Screen, type UssdActions } from './menu.js';
import { text } from './texts.js';

export interface UssdDeps {
  db: Db;
  payments: PaymentService;
  limits: PurchaseBounds;
  metrics: CloudMetrics;
  webhookSecret: string | undefined;
  /** Requests per phone per window. */
  phoneLimit: { max: number; timeWindow: number };
  /** Wrong old PINs count toward the lockout the keypads obey. */
  pinLockout: PinLockoutPolicy;
}

/** Africa's Talking USSD callback, form-encoded. */
const UssdRequest = z.object({
  sessionId: z.string().min(1).max(100),
  serviceCode: z.string().max(40),
  phoneNumber: z.string().min(6).max(20),
  networkCode: z.string().max(10).optional(),
  text: z.string().max(500).default(''),
});

/** USSD screens are at most 160 characters; longer text would be cut off on the phone. */
const USSD_MAX_CHARS = 160;

function send(reply: FastifyReply, screen: Screen, metrics: CloudMetrics): FastifyReply {
  const body = `${screen.end ? 'END' : 'CON'} ${screen.text}`;
  if (body.length > USSD_MAX_CHARS) reply.log.error({ length: body.length }, 'USSD screen longer than 160 characters');
  metrics.ussdScreens.inc({ kind: screen.end ? 'end' : 'con' });
  // Africa's Talking ends the session on anything but 200, so every answer is a 200.
  return reply.code(200).type('text/plain; charset=utf-8').send(body);
}

/**
 * The old PIN on USSD is one more way to guess it, so it shares the keypad's lockout: a locked
 * account takes no PIN here, and each wrong PIN newly typed counts toward locking it.
 */
async function checkPin(
  deps: UssdDeps,
  customer: Customer,
  pin: string,
  typedNow: boolean,
): Promise<'ok' | 'wrong' | 'locked'> {
  const now = Date.now();
  if (customer.locked_until !== null && customer.locked_until > now) return 'locked';
  if (await verifySecret(pin, customer.pin_hash)) {
    if (typedNow) await clearPinFailures(deps.db, customer.account_id);
    return 'ok';
  }
  if (!typedNow) return 'wrong';
  return (await recordPinFailure(deps.db, customer.account_id, deps.pinLockout, now)) === null ? 'wrong' : 'locked';
}

/** POST /ussd: registration, balance, buy water, change PIN, language, in English and Swahili. */
export async function ussdRoutes(app: FastifyInstance, deps: UssdDeps): Promise<void> {
  const busy = (): Screen => ({ end: true, text: `${text('tryLater', 'en')} / ${text('tryLater', 'sw')}` });

  app.post(
    '/ussd',
    {
      onRequest: requireWebhookSecret(deps.webhookSecret),
      config: {
        rateLimit: {
          ...deps.phoneLimit,
          keyGenerator: (request) =>
            `phone:${phoneKey((request.body as { phoneNumber?: unknown } | undefined)?.phoneNumber, request.ip)}`,
        },
      },
      errorHandler: (error, request, reply) => {
        if (error.statusCode !== 429) request.log.error({ err: error }, 'USSD request failed');
        return send(reply, busy(), deps.metrics);
      },
    },
    async (request, reply) => {
      const parsed = UssdRequest.safeParse(request.body);
      if (!parsed.success) {
        request.log.warn({ issues: parsed.error.issues.length }, 'malformed USSD request');
        return send(reply, busy(), deps.metrics);
      }
      let phone: string;
      try {
        phone = normalisePhone(parsed.data.phoneNumber);
      } catch {
        return send(reply, busy(), deps.metrics);
      }
      const { networkCode } = parsed.data;
      const limits = purchaseLimits(deps.payments, deps.limits, phone, networkCode);
      const customer = await findCustomerByPhone(deps.db, phone);
      const actions: UssdActions = {
        register: ({ name, pin, language }) => register(deps.db, { phone, name, pin, language }),
        verifyPin: (customer, pin, typedNow) => checkPin(deps, customer, pin, typedNow),
        setPin: (customer, pin) => setPin(deps.db, customer.account_id, pin),
        pinResetPending: customer ? await hasOpenCode(deps.db, customer.account_id, 'pin_reset') : false,
        checkResetCode: async (c, code, typedNow) =>
          (await checkCode(deps.db, c.account_id, 'pin_reset', code, typedNow)) !== undefined,
        setPinWithCode: (c, pin, code) => redeemPinReset(deps.db, c.account_id, code, pin),
        setLanguage: (customer, language) => setLanguage(deps.db, customer.account_id, language),
        lastToken: (customer) => lastUnusedToken(deps.db, customer.account_id),
        buy: (customer, amountMajor, wallet) =>
          buyWater(deps.payments, customer, amountMajor, {
            ...(networkCode ? { networkCode } : {}),
            ...(wallet ? { provider: wallet } : {}),
            requestKey: `ussd:${parsed.data.sessionId}`,
          }),
        quote: (customer, amountMajor) => quote(deps.payments, customer, amountMajor, limits.currency),
        limits,
        wallets: walletsFor(deps.payments, phone, networkCode),
      };
      const inputs = parsed.data.text === '' ? [] : parsed.data.text.split('*');
      const screen = await ussdScreen(customer, inputs, actions);
      return send(reply, screen, deps.metrics);
    },
  );
}
