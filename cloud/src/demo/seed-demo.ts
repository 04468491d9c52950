import { DEMO_CUSTOMERS } from '@tusafishe/protocol';
import { hashSecret } from '@tusafishe/protocol/secret-hash';
import { recordAdjustment } from '../admin/adjustments.js';
import { createCustomer, findCustomerByPhone } from '../customers/customers.js';
import { CloudError } from '../errors.js';
import { createKiosk } from '../kiosks/kiosks.js';
import { ensureOperator } from '../console/operator-accounts.js';
import type { OperatorRole } from '../console/roles.js';
import type { Db } from '../store/db.js';

interface DemoCustomer {
  phone: string;
  name: string;
  pin: string;
  balanceMl: number;
  accountId?: string;
  status?: 'active' | 'inactive';
}

/**
 * Customers a developer can use at the simulated kiosk keypad and on USSD: the shared
 * demo customers the gateway also seeds (same account ids, so its first pull changes
 * nothing it shows), and Ugandan numbers on each mobile-money network.
 */
const CLOUD_DEMO_CUSTOMERS: DemoCustomer[] = [
  ...DEMO_CUSTOMERS.map((c) => ({
    phone: c.phone,
    name: c.name,
    pin: c.pin,
    balanceMl: c.balance_ml,
    accountId: c.account_id,
    status: c.status,
  })),
  { phone: '+256772000001', name: 'Peter Okello', pin: '2580', balanceMl: 20_000 },
  { phone: '+256752000002', name: 'Sarah Auma', pin: '3691', balanceMl: 0 },
];

/** The console's demo operators, one per role; development only (DEMO_SEED is refused in production). */
export const DEMO_OPERATORS: readonly { username: string; role: OperatorRole }[] = [
  { username: 'admin', role: 'admin' },
  { username: 'support', role: 'customer_service' },
  { username: 'finance', role: 'finance' },
  { username: 'field', role: 'field' },
];
export const DEMO_OPERATOR_PASSWORD = 'tusafishe-demo';

export interface DemoSeed {
  kioskId: string;
  customers: (DemoCustomer & { accountId: string })[];
}

/**
 * Development data: the demo operators, a kiosk whose gateway credential is `kioskSecret` (so a gateway configured
 * with it syncs across restarts) and the demo customers with their starting credit. Idempotent.
 */
export async function seedDemo(db: Db, options: { kioskId: string; kioskSecret: string }): Promise<DemoSeed> {
  await createKiosk(db, { kioskId: options.kioskId, name: 'Demo kiosk', secret: options.kioskSecret }).catch(
    async (error: unknown) => {
      if (!(error instanceof CloudError && error.code === 'KIOSK_EXISTS')) throw error;
      await db.query('UPDATE kiosks SET credential_hash = $2 WHERE kiosk_id = $1', [
        options.kioskId,
        await hashSecret(options.kioskSecret),
      ]);
    },
  );
  const customers: DemoSeed['customers'] = [];
  for (const demo of CLOUD_DEMO_CUSTOMERS) {
    let customer = await findCustomerByPhone(db, demo.phone);
    if (!customer) {
      customer = await createCustomer(db, {
        phone: demo.phone,
        name: demo.name,
        pin: demo.pin,
        accountId: demo.accountId,
        status: demo.status,
      });
      if (demo.balanceMl > 0)
        await recordAdjustment(db, {
          accountId: customer.account_id,
          amountMl: demo.balanceMl,
          reason: 'demo credit',
          operator: 'seed',
        });
    }
    customers.push({ ...demo, accountId: customer.account_id });
  }
  for (const operator of DEMO_OPERATORS) await ensureOperator(db, { ...operator, password: DEMO_OPERATOR_PASSWORD });
  return { kioskId: options.kioskId, customers };
}
