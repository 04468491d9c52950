import type { Database } from 'better-sqlite3';
import * as z from 'zod';
import { ensureTechnician, MIN_PASSWORD_LENGTH } from './technician-accounts.js';

/** First technician account from the environment (a balena device variable in the field). */
const TechnicianEnv = z
  .object({
    TECHNICIAN_USERNAME: z.string().trim().min(1).max(64).optional(),
    TECHNICIAN_PASSWORD: z.string().min(MIN_PASSWORD_LENGTH).max(200).optional(),
  })
  .refine((env) => (env.TECHNICIAN_USERNAME === undefined) === (env.TECHNICIAN_PASSWORD === undefined), {
    message: 'set TECHNICIAN_USERNAME and TECHNICIAN_PASSWORD together',
  });

/** Creates the configured technician once; later starts with the same variables change nothing. */
export async function provisionTechnicianFromEnv(db: Database, env: NodeJS.ProcessEnv): Promise<string | null> {
  const { TECHNICIAN_USERNAME: username, TECHNICIAN_PASSWORD: password } = TechnicianEnv.parse(env);
  if (username === undefined || password === undefined) return null;
  await ensureTechnician(db, username, password);
  return username;
}
