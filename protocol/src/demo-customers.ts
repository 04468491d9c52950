/**
 * The demo customers `npm start` serves (README). One list for the gateway's
 * stand-alone seed and the cloud's, so a gateway keeps the same customers, account
 * ids and balances when its first pull from the cloud replaces its local seed.
 */
export interface DemoCustomer {
  phone: string;
  account_id: string;
  name: string;
  status: 'active' | 'inactive';
  pin: string;
  balance_ml: number;
}

export const DEMO_PIN = '1234';
export const DEMO_BALANCE_ML = 20_000;

/** `+254700000101` … `+254700000105` active, `+254700000106` inactive; PIN 1234, 20,000 mL each. */
export const DEMO_CUSTOMERS: readonly DemoCustomer[] = [101, 102, 103, 104, 105, 106].map((n) => ({
  phone: `+254700000${n}`,
  account_id: `TSF000${n}`,
  name: `Demo Customer ${n - 100}`,
  status: n === 106 ? 'inactive' : 'active',
  pin: DEMO_PIN,
  balance_ml: DEMO_BALANCE_ML,
}));
