import * as z from 'zod';
import { defineCommand } from '../command-line.js';
import { ProvisioningError } from '../provisioning-error.js';

/** The console route that reconciles: the cloud holds the providers' credentials, so it asks them. */
const RECONCILE_PATH = '/console/api/payments/reconcile';
const SESSION_PATH = '/console/api/session';

const Reconciliation = z.object({
  date: z.string(),
  checked: z.number(),
  mismatches: z.array(
    z.looseObject({
      payment_id: z.string(),
      provider: z.string(),
      account_id: z.string(),
      amount_minor: z.number(),
      currency: z.string(),
      kind: z.string(),
      resolution: z.string(),
    }),
  ),
});

/** A JSON request to the cloud; a refusal or no answer is the command's failure. */
async function call(url: string, init: RequestInit & { headers?: Record<string, string> }): Promise<Response> {
  let response: Response;
  try {
    response = await fetch(url, { ...init, headers: { 'content-type': 'application/json', ...init.headers } });
  } catch (error) {
    throw new ProvisioningError('CLOUD_UNREACHABLE', `cannot reach ${url}: ${(error as Error).message}`);
  }
  if (!response.ok)
    throw new ProvisioningError('CLOUD_REFUSED', `the cloud answered ${response.status}: ${await response.text()}`);
  return response;
}

export const paymentsReconcile = defineCommand({
  name: 'payments reconcile',
  summary:
    "Checks one day's payments against what each provider says now, lists the mismatches and credits once what a provider took and we did not.",
  positionals: [],
  options: {
    date: { type: 'string', value: 'YYYY-MM-DD', description: "the day (in the cloud's USAGE_TIMEZONE)" },
    provider: { type: 'string', value: 'mtn|airtel|mpesa', description: 'one provider (default: all)' },
    operator: {
      type: 'string',
      value: 'name',
      env: 'OPERATOR_USERNAME',
      description: 'the console operator (finance or admin) it signs in as; the audit log names them',
    },
    csv: { type: 'boolean', description: 'print the mismatches as CSV' },
    'cloud-url': { type: 'string', value: 'url', env: 'CLOUD_URL', description: "the cloud's URL" },
  },
  secretEnv: ['OPERATOR_PASSWORD'],
  notes:
    'example: OPERATOR_PASSWORD=… npm run provision -- payments reconcile --operator amina --date 2026-11-29 --cloud-url https://cloud.example --csv > 2026-11-29.csv',
  schema: z.object({
    date: z.iso.date(),
    provider: z.enum(['mtn', 'airtel', 'mpesa']).optional(),
    operator: z.string().min(1).max(64),
    csv: z.boolean().default(false),
    'cloud-url': z.url({ protocol: /^https?$/ }),
    OPERATOR_PASSWORD: z.string().min(1),
  }),
  async run(input, io) {
    const base = input['cloud-url'].replace(/\/$/, '');
    const signIn = await call(`${base}${SESSION_PATH}`, {
      method: 'POST',
      body: JSON.stringify({ username: input.operator, password: input.OPERATOR_PASSWORD }),
    });
    const cookie = /tusafishe_console=[^;]+/.exec(signIn.headers.get('set-cookie') ?? '')?.[0] ?? '';
    const response = await call(`${base}${RECONCILE_PATH}${input.csv ? '?format=csv' : ''}`, {
      method: 'POST',
      headers: { cookie },
      body: JSON.stringify({ date: input.date, ...(input.provider ? { provider: input.provider } : {}) }),
      // Every payment of the day is asked about: a busy day takes a while.
      signal: AbortSignal.timeout(600_000),
    });
    const body = await response.text();
    await call(`${base}${SESSION_PATH}`, { method: 'DELETE', headers: { cookie }, body: '{}' }).catch(() => undefined);
    if (input.csv) {
      io.out(body);
      return;
    }
    const result = Reconciliation.parse(JSON.parse(body));
    io.out(`${result.date}: ${result.checked} payments checked, ${result.mismatches.length} mismatches\n`);
    for (const m of result.mismatches) {
      io.out(
        `  ${m.kind.padEnd(24)} ${m.provider.padEnd(6)} ${m.payment_id} ${m.account_id} ${m.currency} ${m.amount_minor} (minor)${m.resolution === 'credited' ? ' → credited now' : ''}\n`,
      );
    }
  },
});
