import * as z from 'zod';
import { OPERATOR_ROLES } from './roles.js';

/**
 * Shapes of the console API's sessions and operators. The server validates with them and the
 * console app imports the inferred types (type-only, so no zod reaches the browser bundle)
 * through `@tusafishe/cloud/console-api`.
 */
export const ErrorBody = z.object({ code: z.string(), message: z.string() });

const OperatorRoleSchema = z.enum(OPERATOR_ROLES);

export const SignInBody = z.object({
  username: z.string().trim().min(1).max(64),
  password: z.string().min(1).max(200),
});
export const Me = z.object({ username: z.string(), role: OperatorRoleSchema });
export const SignedOut = z.object({ signed_out: z.literal(true) });
/** Changing one's own password: the current one proves it is the operator, not a left-open session. */
export const PasswordChangeBody = z.object({
  current_password: z.string().min(1).max(200),
  new_password: z.string().min(1).max(200),
});
