import * as z from 'zod';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { CUSTOMER_STATUSES, KioskId } from '@tusafishe/protocol';
import { findCustomer, toOperatorRecord, updateProfile } from '../customers/customers.js';
import { clearLockout, lockCustomerChanges, negativeBalances } from '../ledger/ledger.js';
import { kioskVolumeFlags } from '../kiosk-api/kiosk-volume.js';
import { createKiosk } from '../kiosks/kiosks.js';
import { CloudError } from '../errors.js';
import { signedInOperator } from '../console/console-guard.js';
import type { Db } from '../store/db.js';
import type { PaymentService } from '../payments/payments.js';
import { PROVIDER_NAMES } from '../payments/provider.js';
import { reconcile, reconciliationCsv } from '../payments/reconciliation.js';
import { audit, recordAdjustment } from './adjustments.js';

export interface AdminDeps {
  db: Db;
  payments: PaymentService;
  /** The fleet's day for reconciliation dates. */
  usageTimeZone: string;
  /** Largest adjustment (either sign, mL) customer_service may make. */
  correctionCapMl: number;
}

const AccountIdParam = z.string().regex(/^[A-Z0-9]{4,16}$/);

const Adjustment = z.object({
  account_id: AccountIdParam,
  amount_ml: z
    .number()
    .int()
    .min(-1_000_000_000)
    .max(1_000_000_000)
    .refine((value) => value !== 0, 'must not be zero'),
  reason: z.string().min(3).max(200),
});

/**
 * Operator endpoints under `/console/api/` (the console's guard: a session, and the route's
 * roles); every change is written to the audit log under the signed-in operator's name.
 */
export const adminRoutes: FastifyPluginAsyncZod<AdminDeps> = async (app, deps) => {
  const tags = ['operations'];
  app.get(
    '/negative-balances',
    { config: { roles: ['customer_service', 'finance'] }, schema: { tags, summary: 'Customers below zero' } },
    async () => ({ customers: await negativeBalances(deps.db) }),
  );

  app.get(
    '/kiosk-volume-flags',
    { config: { roles: ['field', 'finance'] }, schema: { tags, summary: 'Kiosks with an abnormal daily volume' } },
    async () => ({ flags: await kioskVolumeFlags(deps.db) }),
  );

  app.post(
    '/customers/:accountId/unlock',
    {
      config: { roles: ['customer_service'] },
      schema: {
        tags,
        summary: 'Clear a PIN lockout at every kiosk',
        params: z.object({ accountId: AccountIdParam }),
        body: z.object({ reason: z.string().min(3).max(200) }),
      },
    },
    async (request, reply) => {
      const { accountId } = request.params;
      const operator = signedInOperator(request);
      const customer = await deps.db.transaction(async (tx) => {
        await lockCustomerChanges(tx);
        if (!(await clearLockout(tx, accountId))) return undefined;
        await audit(tx, operator.username, 'customer.unlock', accountId, { reason: request.body.reason });
        return findCustomer(tx, accountId);
      });
      if (!customer) return reply.code(404).send({ code: 'UNKNOWN_ACCOUNT', message: `no customer ${accountId}` });
      return toOperatorRecord(customer);
    },
  );

  app.post(
    '/kiosks',
    {
      config: { roles: [] },
      schema: {
        tags,
        summary: 'Provision a kiosk (answers its secret, once)',
        body: z.object({ kiosk_id: KioskId, name: z.string().max(80).optional() }),
      },
    },
    async (request, reply) => {
      const operator = signedInOperator(request);
      const credential = await deps.db.transaction(async (tx) => {
        const created = await createKiosk(tx, {
          kioskId: request.body.kiosk_id,
          ...(request.body.name ? { name: request.body.name } : {}),
        });
        await audit(tx, operator.username, 'kiosk.create', created.kioskId, {});
        return created;
      });
      return reply.code(201).send({ kiosk_id: credential.kioskId, secret: credential.secret });
    },
  );

  app.patch(
    '/customers/:accountId',
    {
      config: { roles: ['customer_service'] },
      schema: {
        tags,
        summary: "Change a customer's status, daily limit, allowed kiosks or expiry",
        params: z.object({ accountId: AccountIdParam }),
        body: z.object({
          status: z.enum(CUSTOMER_STATUSES).optional(),
          daily_limit_ml: z.number().int().min(0).nullable().optional(),
          allowed_kiosks: z.array(KioskId).max(1000).nullable().optional(),
          expires_at: z.number().int().min(0).nullable().optional(),
        }),
      },
    },
    async (request, reply) => {
      const operator = signedInOperator(request);
      const fields = request.body;
      const customer = await deps.db.transaction(async (tx) => {
        const updated = await updateProfile(tx, request.params.accountId, {
          ...(fields.status !== undefined ? { status: fields.status } : {}),
          ...(fields.daily_limit_ml !== undefined ? { dailyLimitMl: fields.daily_limit_ml } : {}),
          ...(fields.allowed_kiosks !== undefined ? { allowedKiosks: fields.allowed_kiosks } : {}),
          ...(fields.expires_at !== undefined ? { expiresAt: fields.expires_at } : {}),
        });
        if (updated) await audit(tx, operator.username, 'customer.update', updated.account_id, fields);
        return updated;
      });
      if (!customer)
        return reply.code(404).send({ code: 'UNKNOWN_ACCOUNT', message: `no customer ${request.params.accountId}` });
      return toOperatorRecord(customer);
    },
  );

  app.post(
    '/adjustments',
    {
      config: { roles: ['customer_service'] },
      schema: { tags, summary: 'Correct a balance with an adjustment ledger event', body: Adjustment },
    },
    async (request, reply) => {
      const { account_id: accountId, amount_ml: amountMl, reason } = request.body;
      const signedIn = signedInOperator(request);
      const operator = signedIn.username;
      if (signedIn.role !== 'admin' && Math.abs(amountMl) > deps.correctionCapMl)
        throw new CloudError('CORRECTION_OVER_CAP', `corrections above ${deps.correctionCapMl} mL need an admin`);
      if (!(await findCustomer(deps.db, accountId)))
        return reply.code(404).send({ code: 'UNKNOWN_ACCOUNT', message: `no customer ${accountId}` });
      const { eventId, balance } = await recordAdjustment(deps.db, { accountId, amountMl, reason, operator });
      return reply.code(201).send({ event_id: eventId, ...balance });
    },
  );

  // Finance's daily check of our ledger against the providers'; credits what a provider took and we did not.
  app.post(
    '/payments/reconcile',
    {
      config: { roles: ['finance'] },
      schema: {
        tags,
        summary: "Reconcile a day's payments with the providers (JSON or CSV)",
        querystring: z.object({ format: z.enum(['json', 'csv']).default('json') }),
        body: z.object({ date: z.iso.date(), provider: z.enum(PROVIDER_NAMES).optional() }),
      },
    },
    async (request, reply) => {
      const result = await reconcile(deps.db, deps.payments, {
        date: request.body.date,
        ...(request.body.provider ? { provider: request.body.provider } : {}),
        timeZone: deps.usageTimeZone,
        operator: signedInOperator(request).username,
      });
      const csv = request.query.format === 'csv' || request.headers.accept?.includes('text/csv');
      return csv ? reply.type('text/csv; charset=utf-8').send(reconciliationCsv(result)) : result;
    },
  );
};
