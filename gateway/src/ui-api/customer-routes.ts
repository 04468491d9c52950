import type { CountryCode } from '@tusafishe/protocol/phone';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { Store } from '../store/store.js';
import { CustomerParams, CustomerQuery, CustomerView, ErrorBody, UnlockBody } from './api-schemas.js';
import { customerView, lookUpCustomer } from './customer-queries.js';
import { recordAudit } from './technician-audit.js';
import { technicianGuard } from './technician-guard.js';

export interface CustomerRoutesOptions {
  store: Store;
  timezone: string;
  phoneRegion: CountryCode;
}

export const customerRoutes: FastifyPluginAsyncZod<CustomerRoutesOptions> = async (
  app,
  { store, timezone, phoneRegion },
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
    async (request) => customerView(store, lookUpCustomer(store, request.query.q, phoneRegion), timezone),
  );

  app.post(
    '/api/customers/:accountId/unlock',
    {
      schema: {
        summary: "Clear the kiosk's PIN lockout of a customer; the reason is audited",
        tags: ['customers'],
        params: CustomerParams,
        body: UnlockBody,
        response: { 200: CustomerView, 401: ErrorBody, 404: ErrorBody },
      },
    },
    async (request) => {
      const { accountId } = request.params;
      const customer = lookUpCustomer(store, accountId, phoneRegion);
      store.transaction(() => {
        store.pinFailures.reset(accountId);
        recordAudit(db, {
          technicianId: request.technician?.technicianId ?? null,
          action: 'customer_unlock',
          target: accountId,
          reason: request.body.reason,
        });
      });
      return customerView(store, customer, timezone);
    },
  );
};
