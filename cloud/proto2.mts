import { openCloudDatabase } from './src/store/open-database.js';
import { analyse } from './src/analytics/analytics.js';
const db = await openCloudDatabase({ databaseUrl: process.env.TEST_DATABASE_URL, databaseSchema: 'proto_ca' });
for (let i = 0; i < 3; i++) {
  const t = performance.now();
  const a = await analyse(db, { from: '2026-11-01', to: '2026-11-30', timeZone: 'Africa/Nairobi' });
  console.log(performance.now() - t, a.totals, a.top_customers.length);
}
const t = performance.now();
await analyse(db, { from: '2026-11-02', to: '2026-11-29', timeZone: 'Africa/Nairobi' });
console.log('partial', performance.now() - t);
await db.close();
