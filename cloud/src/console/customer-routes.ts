import * as z from 'zod';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { normalisePhone } from '@tusafishe/protocol/phone';
import { findCustomer } from '../customers/customers.js';
import { CloudError } from '../errors.js';
import type { SmsSender } from '../sms/sender.js';
import type { Db } from '../store/db.js';
import { signedInOperator } from './console-guard.js';
import { confirmPhoneChange, reverseDispense, startPhoneChange } from './customer-corrections.js';
import { customerEvents, searchCustomers } from './customer-search.js';
import { CustomerDetail, CustomerEventsPage, CustomerSearchPage, Reversal } from './customer-schemas.js';
import { startPinReset } from './pin-reset.js';

export interface CustomerServiceDeps {
  db: Db;
  sms: SmsSender;
  ussdCode: string;
  /** Largest reversal or adjustment (mL) customer_service may make; admin has none. */
  correctionCapMl: number;
}

const tags = ['customers'];
const AccountIdParam = z.object({
  accountId: z
    .string()
    .regex(/^[A-Za-z0-9]{4,16}$/)
    .transform((id) => id.toUpperCase()),
});
const Page = z.coerce.number().int().min(1).max(10_000).default(1);
const Reason = z.string().trim().min(3).max(200);
/** Who reads customers: customer service acts on them, finance reads them. */
const READERS = ['customer_service', 'finance'] as const;

function phoneOf(input: string): string {
  try {
    return normalisePhone(input);
  } catch (error) {
    throw new CloudError('INVALID_CONFIG', (error as Error).message);
  }
}

/**
 * §4 customer service: search, detail and history, and the actions that reach every gateway
 * through the customer change feed (PIN reset by SMS code and USSD, phone change confirmed by a
 * code, dispute reversal). Status, limits, allowed kiosks, expiry, unlock and adjustments are
 * the operator routes in `admin/routes.ts`.
 */
export const customerRoutes: FastifyPluginAsyncZod<CustomerServiceDeps> = async (app, deps) => {
  app.get(
    '/customers',
    {
      config: { roles: READERS },
      schema: {
        tags,
        summary: 'Search customers by phone (any keypad form), account id or name; 25 a page',
        querystring: z.object({ q: z.string().trim().min(1).max(80), page: Page }),
        response: { 200: CustomerSearchPage },
      },
    },
    async (request) => {
      const { customers, hasMore } = await searchCustomers(deps.db, request.query.q, request.query.page);
      return { customers, page: request.query.page, has_more: hasMore };
    },
  );

  app.get(
    '/customers.csv',
    {
      config: { roles: READERS },
      schema: {
        tags,
        summary: 'A search as CSV (up to 10,000 rows)',
        querystring: z.object({ q: z.string().trim().min(1).max(80) }),
      },
    },
    async (request, reply) => {
      const { customers } = await searchCustomers(deps.db, request.query.q, 1, 10_000);
      const cell = (value: unknown): string => {
        const text = value === null || value === undefined ? '' : String(value);
        // Quote, and defuse spreadsheet formulas (=, +, -, @ at the start of a name; E.164 numbers are data).
        const formula = /^[=+\-@]/.test(text) && !/^\+[0-9]+$/.test(text);
        return `"${(formula ? `'${text}` : text).replace(/"/g, '""')}"`;
      };
      const lines = [
        'account_id,phone,name,status,balance_ml,locked_until',
        ...customers.map((c) =>
          [c.account_id, c.phone, c.name, c.status, c.balance_ml, c.locked_until].map(cell).join(','),
        ),
      ];
      return reply
        .type('text/csv; charset=utf-8')
        .header('content-disposition', 'attachment; filename="customers.csv"')
        .send(`${lines.join('\n')}\n`);
    },
  );

  app.get(
    '/customers/:accountId',
    {
      config: { roles: READERS },
      schema: {
        tags,
        summary: 'A customer: balance, status, limits, kiosks, lockout',
        params: AccountIdParam,
        response: { 200: CustomerDetail },
      },
    },
    async (request) => {
      const customer = await findCustomer(deps.db, request.params.accountId);
      if (!customer) throw new CloudError('UNKNOWN_ACCOUNT', `no customer ${request.params.accountId}`);
      const [extra] = await deps.db.query<{ pin_failures: number }>(
        'SELECT pin_failures FROM customers WHERE account_id = $1',
        [customer.account_id],
      );
      const c = customer;
      return {
        account_id: c.account_id,
        phone: c.phone,
        name: c.name,
        status: c.status,
        balance_ml: c.balance_ml,
        locked_until: c.locked_until,
        expires_at: c.expires_at,
        daily_limit_ml: c.daily_limit_ml,
        allowed_kiosks: c.allowed_kiosks,
        language: c.language,
        usage_day: c.usage_day ?? null,
        used_today_ml: c.used_today_ml ?? 0,
        version: c.version,
        pin_set: c.pin_hash !== '',
        pin_failures: extra?.pin_failures ?? 0,
      };
    },
  );

  app.get(
    '/customers/:accountId/events',
    {
      config: { roles: READERS },
      schema: {
        tags,
        summary: "A customer's ledger events, newest first, 25 a page",
        params: AccountIdParam,
        querystring: z.object({ page: Page }),
        response: { 200: CustomerEventsPage },
      },
    },
    async (request) => {
      const { events, hasMore } = await customerEvents(deps.db, request.params.accountId, request.query.page);
      return { events, page: request.query.page, has_more: hasMore };
    },
  );

  app.post(
    '/customers/:accountId/pin-reset',
    {
      config: { roles: ['customer_service'] },
      schema: {
        tags,
        summary: 'Send the customer a one-time code by SMS to set a new PIN on USSD',
        params: AccountIdParam,
      },
    },
    async (request, reply) => {
      await startPinReset(deps.db, deps.sms, {
        accountId: request.params.accountId,
        operator: signedInOperator(request).username,
        ussdCode: deps.ussdCode,
      });
      return reply.code(202).send({ sent: true });
    },
  );

  app.post(
    '/customers/:accountId/phone',
    {
      config: { roles: ['customer_service'] },
      schema: {
        tags,
        summary: 'Start moving the account to a new number: a code goes to that number',
        params: AccountIdParam,
        body: z.object({ phone: z.string().min(6).max(20) }),
      },
    },
    async (request, reply) => {
      const newPhone = phoneOf(request.body.phone);
      await startPhoneChange(deps.db, deps.sms, {
        accountId: request.params.accountId,
        newPhone,
        operator: signedInOperator(request).username,
      });
      return reply.code(202).send({ sent_to: newPhone });
    },
  );

  app.post(
    '/customers/:accountId/phone/confirm',
    {
      config: { roles: ['customer_service'] },
      schema: {
        tags,
        summary: 'Finish the phone change with the code the customer received',
        params: AccountIdParam,
        body: z.object({ code: z.string().regex(/^[0-9]{6}$/) }),
      },
    },
    async (request) => ({
      phone: await confirmPhoneChange(deps.db, {
        accountId: request.params.accountId,
        code: request.body.code,
        operator: signedInOperator(request).username,
      }),
    }),
  );

  app.post(
    '/customers/:accountId/reversals',
    {
      config: { roles: ['customer_service'] },
      schema: {
        tags,
        summary: 'Reverse a disputed dispense (once per dispense; capped for customer_service)',
        params: AccountIdParam,
        body: z.object({ event_id: z.uuid(), reason: Reason }),
        response: { 201: Reversal },
      },
    },
    async (request, reply) => {
      const operator = signedInOperator(request);
      const result = await reverseDispense(deps.db, {
        accountId: request.params.accountId,
        eventId: request.body.event_id,
        reason: request.body.reason,
        operator: operator.username,
        capMl: operator.role === 'admin' ? null : deps.correctionCapMl,
      });
      return reply
        .code(201)
        .send({ event_id: result.eventId, amount_ml: result.amountMl, balance_ml: result.balance.balance_ml });
    },
  );
};
