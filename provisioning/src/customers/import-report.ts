import { writeFile } from 'node:fs/promises';
import type { SkipReason } from './appwrite-customer.js';
import type { ImportOutcome } from './customer-import.js';

/** One document's fate; never holds the PIN. */
export interface ReportRow {
  document_id: string;
  outcome: ImportOutcome['kind'];
  phone?: string;
  account_id?: string;
  /** Why a new account id was drawn. */
  account_id_note?: string;
  opening_balance_ml?: number;
  reason?: SkipReason;
  message?: string;
}

export interface ImportSummary {
  dry_run: boolean;
  read: number;
  imported: number;
  already_imported: number;
  skipped: number;
  skipped_by_reason: Partial<Record<SkipReason, number>>;
  new_account_ids: number;
  opening_balance_ml: number;
}

/** Tallies an import run: a line per exception as it happens, a summary at the end, the rows as JSON. */
export class ImportReport {
  readonly rows: ReportRow[] = [];
  private readonly summary: ImportSummary;

  constructor(dryRun: boolean) {
    this.summary = {
      dry_run: dryRun,
      read: 0,
      imported: 0,
      already_imported: 0,
      skipped: 0,
      skipped_by_reason: {},
      new_account_ids: 0,
      opening_balance_ml: 0,
    };
  }

  /** Records a document's outcome; returns the console line worth showing, if any. */
  record(documentId: string, phone: string | undefined, outcome: ImportOutcome): string | undefined {
    const s = this.summary;
    s.read += 1;
    const row: ReportRow = { document_id: documentId, outcome: outcome.kind, ...(phone ? { phone } : {}) };
    this.rows.push(row);
    switch (outcome.kind) {
      case 'skipped':
        s.skipped += 1;
        s.skipped_by_reason[outcome.reason] = (s.skipped_by_reason[outcome.reason] ?? 0) + 1;
        Object.assign(row, { reason: outcome.reason, message: outcome.message });
        return `skipped   ${documentId}  ${outcome.reason}: ${outcome.message}`;
      case 'already_imported':
        s.already_imported += 1;
        row.account_id = outcome.accountId;
        return undefined;
      case 'imported':
        s.imported += 1;
        s.opening_balance_ml += outcome.creditsMl;
        Object.assign(row, { account_id: outcome.accountId, opening_balance_ml: outcome.creditsMl });
        if (outcome.accountIdNote === undefined) return undefined;
        s.new_account_ids += 1;
        row.account_id_note = outcome.accountIdNote;
        return `new id    ${documentId}  ${phone} → ${outcome.accountId} (${outcome.accountIdNote})`;
    }
  }

  summaryText(): string {
    const s = this.summary;
    const reasons = Object.entries(s.skipped_by_reason).map(([reason, count]) => `    ${reason}: ${count}`);
    return [
      `${s.dry_run ? 'Dry run, nothing changed. Would have imported' : 'Imported'} ${s.imported} of ${s.read} documents read`,
      `  already imported: ${s.already_imported}`,
      `  new account ids: ${s.new_account_ids}`,
      `  opening balances: ${s.opening_balance_ml} mL`,
      `  skipped: ${s.skipped}`,
      ...reasons,
      '',
    ].join('\n');
  }

  async writeJson(path: string): Promise<void> {
    await writeFile(path, `${JSON.stringify({ summary: this.summary, documents: this.rows }, null, 2)}\n`, {
      mode: 0o600,
    });
  }
}
