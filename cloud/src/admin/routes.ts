import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import * as z from 'zod';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { CUSTOMER_STATUSES, KioskId } from '@tusafishe/protocol';
import { findCustomer, toCustomerRecord, updateProfile } from '../customers/customers.js';
import { clearLockout, lockCustomerChanges, negativeBalances } from '../ledger/ledger.js';
import { kioskVolumeFlags } from '../kiosk-api/kiosk-volume.js';
import { createKiosk } from '../kiosks/kiosks.js';
import { secretMatcher } from '../http/secret-match.js';
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
  /** Undefined: admin routes answer 404 (not configured). */
  adminToken: string | undefined;
}

function requireAdmin(token: string | undefined) {
  const matches = token ? secretMatcher(token) : undefined;
  return async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    const offered = /^Bearer (.+)$/.exec(request.headers.authorization ?? '')?.[1];
    if (matches?.(offered)) return;
    await reply.code(matches ? 401 : 404).send({ code: 'ADMIN_UNAUTHORISED', message: 'admin token required' });
  };
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
  operator: z.string().min(1).max(80),
});

/** Operator endpoints (Bearer ADMIN_TOKEN); every change is written to the audit log. */
export async function adminRoutes(app: FastifyInstance, deps: AdminDeps): Promise<void> {
  const typed = app.withTypeProvider<ZodTypeProvider>();
  // Authenticated on request, before the body is parsed or validated.
  const onRequest = requireAdmin(deps.adminToken);

  typed.get('/admin/negative-balances', { onRequest }, async () => ({ customers: await negativeBalances(deps.db) }));

  typed.get('/admin/kiosk-volume-flags', { onRequest }, async () => ({ flags: await kioskVolumeFlags(deps.db) }));

  typed.post(
    '/admin/customers/:accountId/unlock',
    {
      onRequest,
      schema: {
        params: z.object({ accountId: AccountIdParam }),
        body: z.object({ reason: z.string().min(3).max(200), operator: z.string().min(1).max(80) }),
      },
    },
    async (request, reply) => {
      const { accountId } = request.params;
      const customer = await deps.db.transaction(async (tx) => {
        await lockCustomerChanges(tx);
        if (!(await clearLockout(tx, accountId))) return undefined;
        await audit(tx, request.body.operator, 'customer.unlock', accountId, { reason: request.body.reason });
        return findCustomer(tx, accountId);
      });
      if (!customer) return reply.code(404).send({ code: 'UNKNOWN_ACCOUNT', message: `no customer ${accountId}` });
      return toCustomerRecord(customer);
    },
  );

  typed.post(
    '/admin/kiosks',
    {
      onRequest,
      schema: {
        body: z.object({ kiosk_id: KioskId, name: z.string().max(80).optional(), operator: z.string().min(1).max(80) }),
      },
    },
    async (request, reply) => {
      const credential = await deps.db.transaction(async (tx) => {
        const created = await createKiosk(tx, {
          kioskId: request.body.kiosk_id,
          ...(request.body.name ? { name: request.body.name } : {}),
        });
        await audit(tx, request.body.operator, 'kiosk.create', created.kioskId, {});
        return created;
      });
      return reply.code(201).send({ kiosk_id: credential.kioskId, secret: credential.secret });
    },
  );

  typed.patch(
    '/admin/customers/:accountId',
    {
      onRequest,
      schema: {
        params: z.object({ accountId: AccountIdParam }),
        body: z.object({
          status: z.enum(CUSTOMER_STATUSES).optional(),
          daily_limit_ml: z.number().int().min(0).nullable().optional(),
          allowed_kiosks: z.array(KioskId).max(1000).nullable().optional(),
          expires_at: z.number().int().min(0).nullable().optional(),
          operator: z.string().min(1).max(80),
        }),
      },
    },
    async (request, reply) => {
      const { operator, ...fields } = request.body;
      const customer = await deps.db.transaction(async (tx) => {
        const updated = await updateProfile(tx, request.params.accountId, {
          ...(fields.status !== undefined ? { status: fields.status } : {}),
          ...(fields.daily_limit_ml !== undefined ? { dailyLimitMl: fields.daily_limit_ml } : {}),
          ...(fields.allowed_kiosks !== undefined ? { allowedKiosks: fields.allowed_kiosks } : {}),
          ...(fields.expires_at !== undefined ? { expiresAt: fields.expires_at } : {}),
        });
        if (updated) await audit(tx, operator, 'customer.update', updated.account_id, fields);
        return updated;
      });
      if (!customer)
        return reply.code(404).send({ code: 'UNKNOWN_ACCOUNT', message: `no customer ${request.params.accountId}` });
      return toCustomerRecord(customer);
    },
  );

  typed.post('/admin/adjustments', { onRequest, schema: { body: Adjustment } }, async (request, reply) => {
    const { account_id: accountId, amount_ml: amountMl, reason, operator } = request.body;
    if (!(await findCustomer(deps.db, accountId)))
      return reply.code(404).send({ code: 'UNKNOWN_ACCOUNT', message: `no customer ${accountId}` });
    const { eventId, balance } = await recordAdjustment(deps.db, { accountId, amountMl, reason, operator });
    return reply.code(201).send({ event_id: eventId, ...balance });
  });

  // Finance's daily check of our ledger against the providers'; credits what a provider took and we did not.
  typed.post(
    '/admin/payments/reconcile',
    {
      onRequest,
      schema: {
        querystring: z.object({ format: z.enum(['json', 'csv']).default('json') }),
        body: z.object({
          date: z.iso.date(),
          provider: z.enum(PROVIDER_NAMES).optional(),
          operator: z.string().min(1).max(80),
        }),
      },
    },
    async (request, reply) => {
      const result = await reconcile(deps.db, deps.payments, {
        date: request.body.date,
        ...(request.body.provider ? { provider: request.body.provider } : {}),
        timeZone: deps.usageTimeZone,
        operator: request.body.operator,
      });
      const csv = request.query.format === 'csv' || request.headers.accept?.includes('text/csv');
      return csv ? reply.type('text/csv; charset=utf-8').send(reconciliationCsv(result)) : result;
    },
  );
}
