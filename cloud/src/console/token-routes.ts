import * as z from 'zod';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { audit } from '../admin/adjustments.js';
import { rotateTokenKey, tokensOf, voidToken } from '../customers/keypad-tokens.js';
import { lockCustomerChanges } from '../ledger/ledger.js';
import type { Db } from '../store/db.js';
import { signedInOperator } from './console-guard.js';

const AccountIdParam = z.string().regex(/^[A-Z0-9]{4,16}$/);
const Reason = z.object({ reason: z.string().min(3).max(200) });

/**
 * A customer's keypad tokens for operators (ARCHITECTURE §5a): where and when each was redeemed,
 * voiding one, rotating the key. Never the digits or the key. Every change is audited.
 */
export const tokenRoutes: FastifyPluginAsyncZod<{ db: Db }> = async (app, { db }) => {
  const tags = ['customers'];
  app.get(
    '/customers/:accountId/tokens',
    {
      config: { roles: ['customer_service', 'finance'] },
      schema: {
        tags,
        summary: "A customer's keypad tokens, newest first",
        params: z.object({ accountId: AccountIdParam }),
      },
    },
    async (request) => ({ tokens: await tokensOf(db, request.params.accountId) }),
  );

  app.post(
    '/customers/:accountId/tokens/:counter/void',
    {
      config: { roles: ['customer_service'] },
      schema: {
        tags,
        summary: 'Void a keypad token: kiosks refuse it once they sync; its credit stays on the account',
        params: z.object({
          accountId: AccountIdParam,
          counter: z.coerce
            .number()
            .int()
            .min(1)
            .max(2 ** 32 - 1),
        }),
        body: Reason,
      },
    },
    async (request, reply) => {
      const { accountId, counter } = request.params;
      const operator = signedInOperator(request);
      const voided = await db.transaction(async (tx) => {
        await lockCustomerChanges(tx);
        if (!(await voidToken(tx, accountId, counter, operator.username))) return false;
        await audit(tx, operator.username, 'token.void', accountId, { counter, reason: request.body.reason });
        return true;
      });
      if (!voided)
        return reply.code(404).send({ code: 'UNKNOWN_TOKEN', message: `no live token ${counter} for ${accountId}` });
      return { account_id: accountId, counter, voided: true };
    },
  );

  app.post(
    '/customers/:accountId/token-key/rotate',
    {
      config: { roles: [] },
      schema: {
        tags,
        summary: 'A new token key (one suspected leaked): unredeemed tokens stop working at kiosks once they sync',
        params: z.object({ accountId: AccountIdParam }),
        body: Reason,
      },
    },
    async (request, reply) => {
      const { accountId } = request.params;
      const operator = signedInOperator(request);
      const rotated = await db.transaction(async (tx) => {
        await lockCustomerChanges(tx);
        if (!(await rotateTokenKey(tx, accountId))) return false;
        await audit(tx, operator.username, 'token.rotate_key', accountId, { reason: request.body.reason });
        return true;
      });
      if (!rotated) return reply.code(404).send({ code: 'UNKNOWN_ACCOUNT', message: `no customer ${accountId}` });
      return { account_id: accountId, rotated: true };
    },
  );
};
