import { openCloudDatabase } from './src/store/open-database.js';
const db = await openCloudDatabase({ databaseUrl: process.env.TEST_DATABASE_URL, databaseSchema: process.argv[2] });
await db.close();
