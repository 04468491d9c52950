import * as z from 'zod';
import type { Models } from 'node-appwrite';
import type { CountryCode } from '@tusafishe/protocol/phone';
import { writeFile } from 'node:fs/promises';
import { hashSecret } from '@tusafishe/protocol/secret-hash';
import {
  claim,
  importCandidate,
  importedBefore,
  ImportReport,
  newRunClaims,
  type Db,
  type ImportOutcome,
  type RunClaims,
} from '@tusafishe/cloud/provisioning';
import { defineCommand, type CommandIo } from '../command-line.js';
import {
  CLOUD_TARGET_ENV,
  CloudTargetInput,
  CloudTargetOptions,
  describeCloudTarget,
  openCloudTarget,
} from '../stores/cloud-database.js';
import { appwriteDocumentPages, type AppwriteCollection } from './appwrite-documents.js';
import { openingBalanceEventId, toCandidate, type CandidateResult, type DocumentOrigin } from './appwrite-customer.js';

const IMPORT_REASON = 'import from Appwrite';
const IMPORT_OPERATOR = 'provisioning';

export const customersImportAppwrite = defineCommand({
  name: 'customers import-appwrite',
  summary:
    'Imports the old Appwrite customers collection into the cloud: phones to E.164, PINs hashed, old account ids kept when they can be, credits as one opening-balance adjustment each. Re-running imports nothing twice.',
  positionals: [],
  options: {
    endpoint: {
      type: 'string',
      value: 'url',
      env: 'APPWRITE_ENDPOINT',
      description: 'Appwrite API endpoint, e.g. https://appwrite.example/v1',
    },
    project: { type: 'string', value: 'id', env: 'APPWRITE_PROJECT', description: 'Appwrite project id' },
    database: { type: 'string', value: 'id', env: 'APPWRITE_DATABASE', description: 'Appwrite database id' },
    collection: { type: 'string', value: 'id', description: 'collection id', default: 'customers' },
    region: {
      type: 'string',
      value: 'CC',
      description: 'country whose local forms (0700…) the phones use',
      default: 'KE',
    },
    'dry-run': { type: 'boolean', description: 'check every document and show what would happen; change nothing' },
    report: {
      type: 'string',
      value: 'file',
      description: "write every document's outcome (no PINs) and the summary as JSON",
    },
    'page-size': { type: 'string', value: 'n', description: 'documents per Appwrite request', default: '100' },
    ...CloudTargetOptions,
  },
  secretEnv: ['APPWRITE_API_KEY', ...CLOUD_TARGET_ENV],
  notes: `The API key (scope documents.read) is read from APPWRITE_API_KEY only, so it stays out of shell history.
example: APPWRITE_API_KEY=… DATABASE_URL=postgres://… npm run provision -- customers import-appwrite \\
  --endpoint https://appwrite.example/v1 --project 689107c288885e90c039 --database 6864aed388d20c69a461 \\
  --collection customers --region UG --dry-run --report import.json`,
  schema: z.object({
    endpoint: z.url({ protocol: /^https?$/ }),
    project: z.string().min(1).max(64),
    database: z.string().min(1).max(64),
    collection: z.string().min(1).max(64).default('customers'),
    region: z
      .string()
      .regex(/^[A-Z]{2}$/, 'a two-letter country code such as KE or UG')
      .default('KE'),
    'dry-run': z.boolean().default(false),
    report: z.string().min(1).optional(),
    'page-size': z.coerce.number().int().min(1).max(1000).default(100),
    APPWRITE_API_KEY: z
      .string({ error: 'set APPWRITE_API_KEY to a server API key (never pass it as an argument)' })
      .min(1),
    ...CloudTargetInput,
  }),
  async run(input, io) {
    const source: AppwriteCollection = {
      endpoint: input.endpoint,
      project: input.project,
      database: input.database,
      collection: input.collection,
      apiKey: input.APPWRITE_API_KEY,
    };
    const db = await openCloudTarget(input);
    const report = new ImportReport(input['dry-run']);
    try {
      io.out(
        `${input['dry-run'] ? 'Dry run: checking' : 'Importing'} ${source.database}/${source.collection} from ${source.endpoint} into ${describeCloudTarget(input)}\n`,
      );
      const claims = newRunClaims();
      for await (const page of appwriteDocumentPages(source, input['page-size'])) {
        await importPage(db, page, {
          origin: source,
          region: input.region as CountryCode,
          dryRun: input['dry-run'],
          claims,
          report,
          io,
        });
      }
    } finally {
      await db.close();
      // Also after a failure part-way: what was done so far is reported.
      io.out(report.summaryText('documents'));
      if (input.report) await writeReport(input.report, report);
    }
  },
});

interface PageContext {
  origin: DocumentOrigin;
  region: CountryCode;
  dryRun: boolean;
  claims: RunClaims;
  report: ImportReport;
  io: CommandIo;
}

/** Validates a page, hashes the PINs of documents not imported before (in parallel), then imports one customer per transaction. */
async function importPage(db: Db, page: readonly Models.DefaultDocument[], context: PageContext): Promise<void> {
  const results = page.map((document) => ({
    documentId: String(document.$id),
    result: toCandidate(document, context.region),
  }));
  const candidates = results.flatMap(({ result }) => (result.ok ? [result.candidate] : []));
  const before = await importedBefore(
    db,
    new Map(candidates.map((c) => [c.sourceId, openingBalanceEventId(context.origin, c.sourceId)])),
  );
  const hashes = new Map(
    await Promise.all(
      candidates
        .filter((c) => !before.has(c.sourceId))
        .map(async (c) => [c.sourceId, await hashSecret(c.pin)] as const),
    ),
  );
  for (const { documentId, result } of results) {
    const outcome = await outcomeOf(db, result, before, hashes, context);
    const line = context.report.record(documentId, result.ok ? result.candidate.phone : undefined, outcome);
    if (line) context.io.out(`${line}\n`);
  }
}

async function outcomeOf(
  db: Db,
  result: CandidateResult,
  before: ReadonlyMap<string, string>,
  hashes: ReadonlyMap<string, string>,
  context: PageContext,
): Promise<ImportOutcome> {
  if (!result.ok) return { kind: 'skipped', reason: result.reason, message: result.message };
  const { candidate } = result;
  const accountId = before.get(candidate.sourceId);
  if (accountId !== undefined) {
    const outcome: ImportOutcome = { kind: 'already_imported', accountId };
    claim(context.claims, candidate, outcome);
    return outcome;
  }
  return importCandidate(db, candidate, {
    eventId: openingBalanceEventId(context.origin, candidate.sourceId),
    pinHash: hashes.get(candidate.sourceId)!,
    operator: IMPORT_OPERATOR,
    details: { reason: IMPORT_REASON, appwrite_document_id: candidate.sourceId },
    dryRun: context.dryRun,
    claims: context.claims,
  });
}

/** The summary and every document's outcome as JSON (mode 0600: phones and account ids, never PINs). */
async function writeReport(path: string, report: ImportReport): Promise<void> {
  const documents = report.rows.map(({ source, ...row }) => ({ document_id: source, ...row }));
  await writeFile(path, `${JSON.stringify({ summary: report.summary, documents }, null, 2)}\n`, { mode: 0o600 });
}
