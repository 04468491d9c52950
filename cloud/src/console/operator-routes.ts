import * as z from 'zod';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { audit } from '../admin/adjustments.js';
import { CloudError } from '../errors.js';
import type { Db } from '../store/db.js';
import { signedInOperator } from './console-guard.js';
import { createOperator, listOperators, resetOperatorPassword, setOperatorDisabled } from './operator-accounts.js';
import { OPERATOR_ROLES } from './roles.js';

const tags = ['operators'];
const Username = z
  .string()
  .trim()
  .regex(/^[a-z0-9][a-z0-9._-]{0,63}$/i, 'letters, digits, ".", "_" or "-", at most 64');
const Password = z.string().min(1).max(200);
export const OperatorView = z.object({
  username: z.string(),
  role: z.enum(OPERATOR_ROLES),
  disabled: z.boolean(),
  locked_until: z.number().int().nullable(),
  created_at: z.number().int(),
  last_sign_in_at: z
    .number()
    .int()
    .nullable()
    .describe('Last successful console sign-in (ms since epoch); null: never'),
});

/** §1 Operators page (admin only): list, add, disable or enable, reset a password; each audited. */
export const operatorRoutes: FastifyPluginAsyncZod<{ db: Db }> = async (app, { db }) => {
  const list = async () => ({
    operators: (await listOperators(db)).map((o) => ({
      username: o.username,
      role: o.role,
      disabled: o.disabled,
      locked_until: o.lockedUntil,
      created_at: o.createdAt,
      last_sign_in_at: o.lastSignInAt,
    })),
  });
  const Answer = z.object({ operators: z.array(OperatorView) });

  app.get(
    '/operators',
    { config: { roles: [] }, schema: { tags, summary: 'Console accounts', response: { 200: Answer } } },
    list,
  );

  app.post(
    '/operators',
    {
      config: { roles: [] },
      schema: {
        tags,
        summary: 'Add an operator',
        body: z.object({ username: Username, role: z.enum(OPERATOR_ROLES), password: Password }),
        response: { 201: Answer },
      },
    },
    async (request, reply) => {
      const { username, role, password } = request.body;
      await createOperator(db, { username, role, password });
      await audit(db, signedInOperator(request).username, 'operator.add', username, { role });
      return reply.code(201).send(await list());
    },
  );

  app.post(
    '/operators/:username/disabled',
    {
      config: { roles: [] },
      schema: {
        tags,
        summary: 'Disable (ending their sessions) or enable an operator',
        params: z.object({ username: Username }),
        body: z.object({ disabled: z.boolean() }),
        response: { 200: Answer },
      },
    },
    async (request) => {
      const me = signedInOperator(request);
      // An admin disabling themselves would lock the console's last door behind them.
      if (request.body.disabled && request.params.username === me.username)
        throw new CloudError('OWN_ACCOUNT', 'you cannot disable your own account');
      await setOperatorDisabled(db, request.params.username, request.body.disabled);
      await audit(
        db,
        me.username,
        request.body.disabled ? 'operator.disable' : 'operator.enable',
        request.params.username,
        {},
      );
      return list();
    },
  );

  app.post(
    '/operators/:username/password',
    {
      config: { roles: [] },
      schema: {
        tags,
        summary: "Set an operator's new password (ends their sessions, clears a lockout)",
        params: z.object({ username: Username }),
        body: z.object({ password: Password }),
        response: { 200: Answer },
      },
    },
    async (request) => {
      await resetOperatorPassword(db, request.params.username, request.body.password);
      await audit(db, signedInOperator(request).username, 'operator.password_reset', request.params.username, {});
      return list();
    },
  );
};
