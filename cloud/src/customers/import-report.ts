import type { ImportOutcome, SkipReason } from './customer-import.js';

/** One source line's fate; never holds the PIN. */
export interface ImportReportRow {
  /** The source line's id: an Appwrite document id, a CSV line number. */
  source: string;
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

/** Tallies an import run: a line per exception as it happens, a summary at the end, every row. */
export class ImportReport {
  readonly rows: ImportReportRow[] = [];
  readonly summary: ImportSummary;

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

  /** Records a source line's outcome; returns the console line worth showing, if any. */
  record(source: string, phone: string | undefined, outcome: ImportOutcome): string | undefined {
    const s = this.summary;
    s.read += 1;
    const row: ImportReportRow = { source, outcome: outcome.kind, ...(phone ? { phone } : {}) };
    this.rows.push(row);
    switch (outcome.kind) {
      case 'skipped':
        s.skipped += 1;
        s.skipped_by_reason[outcome.reason] = (s.skipped_by_reason[outcome.reason] ?? 0) + 1;
        Object.assign(row, { reason: outcome.reason, message: outcome.message });
        return `skipped   ${source}  ${outcome.reason}: ${outcome.message}`;
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
        return `new id    ${source}  ${phone} → ${outcome.accountId} (${outcome.accountIdNote})`;
    }
  }

  summaryText(unit: string): string {
    const s = this.summary;
    const reasons = Object.entries(s.skipped_by_reason).map(([reason, count]) => `    ${reason}: ${count}`);
    return [
      `${s.dry_run ? 'Dry run, nothing changed. Would have imported' : 'Imported'} ${s.imported} of ${s.read} ${unit} read`,
      `  already imported: ${s.already_imported}`,
      `  new account ids: ${s.new_account_ids}`,
      `  opening balances: ${s.opening_balance_ml} mL`,
      `  skipped: ${s.skipped}`,
      ...reasons,
      '',
    ].join('\n');
  }
}
