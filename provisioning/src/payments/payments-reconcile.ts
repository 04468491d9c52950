import * as z from 'zod';
import { defineCommand } from '../command-line.js';
import { ProvisioningError } from '../provisioning-error.js';

/** The operator route that reconciles: the cloud holds the providers' credentials, so it asks them. */
const RECONCILE_PATH = '/admin/payments/reconcile';

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

export const paymentsReconcile = defineCommand({
  name: 'payments reconcile',
  summary:
    "Checks one day's payments against what each provider says now, lists the mismatches and credits once what a provider took and we did not.",
  positionals: [],
  options: {
    date: { type: 'string', value: 'YYYY-MM-DD', description: "the day (in the cloud's USAGE_TIMEZONE)" },
    provider: { type: 'string', value: 'mtn|airtel|mpesa', description: 'one provider (default: all)' },
    operator: { type: 'string', value: 'name', env: 'USER', description: 'who runs it, for the audit log' },
    csv: { type: 'boolean', description: 'print the mismatches as CSV' },
    'cloud-url': { type: 'string', value: 'url', env: 'CLOUD_URL', description: "the cloud's URL" },
  },
  secretEnv: ['ADMIN_TOKEN'],
  notes:
    'example: ADMIN_TOKEN=… npm run provision -- payments reconcile --date 2026-11-29 --cloud-url https://cloud.example --csv > 2026-11-29.csv',
  schema: z.object({
    date: z.iso.date(),
    provider: z.enum(['mtn', 'airtel', 'mpesa']).optional(),
    operator: z.string().min(1).max(80),
    csv: z.boolean().default(false),
    'cloud-url': z.url({ protocol: /^https?$/ }),
    ADMIN_TOKEN: z.string().min(16),
  }),
  async run(input, io) {
    const url = `${input['cloud-url'].replace(/\/$/, '')}${RECONCILE_PATH}${input.csv ? '?format=csv' : ''}`;
    let response: Response;
    try {
      response = await fetch(url, {
        method: 'POST',
        headers: { authorization: `Bearer ${input.ADMIN_TOKEN}`, 'content-type': 'application/json' },
        body: JSON.stringify({
          date: input.date,
          operator: input.operator,
          ...(input.provider ? { provider: input.provider } : {}),
        }),
        // Every payment of the day is asked about: a busy day takes a while.
        signal: AbortSignal.timeout(600_000),
      });
    } catch (error) {
      throw new ProvisioningError('CLOUD_UNREACHABLE', `cannot reach ${url}: ${(error as Error).message}`);
    }
    const body = await response.text();
    if (!response.ok) throw new ProvisioningError('CLOUD_REFUSED', `the cloud answered ${response.status}: ${body}`);
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
