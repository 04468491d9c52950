import { newId } from '@tusafishe/protocol';
import type { CountryCode } from '@tusafishe/protocol/phone';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { DispenseFlow } from '../dispense/dispense-flow.js';
import type { Store } from '../store/store.js';
import { CustomerParams, CustomerQuery, CustomerView, ErrorBody, UnlockBody } from './api-schemas.js';
import { customerView, lookUpCustomer } from './customer-queries.js';
import { recordAudit } from './technician-audit.js';
import { technicianGuard } from './technician-guard.js';
import type { SyncSource } from './kiosk-port.js';

export interface CustomerRoutesOptions {
  store: Store;
  /** Asks the cloud for a balance this kiosk does not follow (`DispenseFlow.knowBalance`). */
  balances: Pick<DispenseFlow, 'knowBalance'>;
  timezone: string;
  phoneRegion: CountryCode;
  kioskId: string;
  /** Told to push at once, so the unlock reaches the cloud and the other kiosks quickly. */
  sync: SyncSource | undefined;
}

export const customerRoutes: FastifyPluginAsyncZod<CustomerRoutesOptions> = async (
  app,
  { store, balances, timezone, phoneRegion, kioskId, sync },
) => {
  const { db } = store;
  app.addHook('onRequest', technicianGuard(db));

  app.get(
    '/api/customers',
    {
      schema: {
        summary: 'Find a customer by phone (any form) or account id',
        tags: ['customers'],
        querystring: CustomerQuery,
        response: { 200: CustomerView, 400: ErrorBody, 401: ErrorBody, 404: ErrorBody },
      },
    },
    async (request) => {
      const found = lookUpCustomer(store, request.query.q, phoneRegion);
      const known = await balances.knowBalance(found);
      return customerView(store, store.customers.findByAccount(found.account_id) ?? found, timezone, known);
    },
  );

  app.post(
    '/api/customers/:accountId/unlock',
    {
      schema: {
        summary: "Clear a customer's PIN lockout here and, through the cloud, at every kiosk; the reason is audited",
        tags: ['customers'],
        params: CustomerParams,
        body: UnlockBody,
        response: { 200: CustomerView, 401: ErrorBody, 404: ErrorBody },
      },
    },
    async (request) => {
      const { accountId } = request.params;
      const customer = lookUpCustomer(store, accountId, phoneRegion);
      const technician = request.technician;
      store.transaction(() => {
        store.pinFailures.reset(accountId);
        store.customers.clearLockout(accountId);
        // The cloud clears its lockout on this event, and every gateway learns it from the record.
        store.ledger.append({
          event_id: newId(),
          type: 'pin_unlock',
          account_id: accountId,
          amount_ml: 0,
          kiosk_id: kioskId,
          source_id: newId(),
          occurred_at: Date.now(),
          details: { reason: request.body.reason, technician: technician?.username ?? null },
        });
        recordAudit(db, {
          technicianId: technician?.technicianId ?? null,
          action: 'customer_unlock',
          target: accountId,
          reason: request.body.reason,
        });
      });
      sync?.nudge?.();
      const known = await balances.knowBalance(customer);
      return customerView(store, store.customers.findByAccount(customer.account_id) ?? customer, timezone, known);
    },
  );
};
