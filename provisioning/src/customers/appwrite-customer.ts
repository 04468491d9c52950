import * as z from 'zod';
import { AccountId, Pin, ProtocolError, type CustomerStatus } from '@tusafishe/protocol';
import { normalisePhone, type CountryCode } from '@tusafishe/protocol/phone';

/** Why a document is not imported; stable codes for the report. */
export type SkipReason =
  | 'invalid_document'
  | 'invalid_phone'
  | 'missing_pin'
  | 'invalid_pin'
  | 'invalid_credits'
  | 'duplicate_phone';

/** A customer of the old Appwrite `customers` collection, as far as the import needs it. */
export interface CustomerCandidate {
  documentId: string;
  phone: string;
  name: string;
  /** Plain PIN from the old system: hashed before it is stored, never printed. */
  pin: string;
  status: CustomerStatus;
  /** The old account id when customers can keep typing it; else the cloud draws a new one. */
  wantedAccountId: string | undefined;
  /** Why the old account id cannot be kept (reported), when there was one. */
  accountIdProblem: string | undefined;
  creditsMl: number;
  createdAt: Date | undefined;
}

export type CandidateResult =
  | { ok: true; candidate: CustomerCandidate }
  | { ok: false; reason: SkipReason; message: string };

/** Fields are optional and loosely typed: the old system stored what its scripts sent. */
const AppwriteCustomerDocument = z.object({
  $id: z.string().min(1).max(64),
  $createdAt: z.string().optional(),
  phone_number: z.union([z.string(), z.number()]).nullish(),
  pin: z.union([z.string(), z.number()]).nullish(),
  active: z.boolean().nullish(),
  credits: z.unknown().optional(),
  credits_ml: z.unknown().optional(),
  account_id: z.string().nullish(),
  full_name: z.string().nullish(),
  created_at: z.string().nullish(),
});

// Limits of a ledger event's amount and the cloud's integer column.
const Credits = z.int().min(-1_000_000_000).max(1_000_000_000);
const NAME_MAX = 80;

const skip = (reason: SkipReason, message: string): CandidateResult => ({ ok: false, reason, message });

/** Validates and maps one document; never echoes the PIN in a message. */
export function toCandidate(document: unknown, region: CountryCode): CandidateResult {
  const parsed = AppwriteCustomerDocument.safeParse(document);
  if (!parsed.success) return skip('invalid_document', z.prettifyError(parsed.error).replace(/\n/g, '; '));
  const doc = parsed.data;

  if (doc.phone_number === null || doc.phone_number === undefined || doc.phone_number === '')
    return skip('invalid_phone', 'no phone_number');
  let phone: string;
  try {
    phone = normalisePhone(String(doc.phone_number), region);
  } catch (error) {
    if (error instanceof ProtocolError) return skip('invalid_phone', error.message);
    throw error;
  }

  if (doc.pin === null || doc.pin === undefined || String(doc.pin).trim() === '')
    return skip('missing_pin', 'no PIN: the customer must register again by USSD');
  // A PIN stored as a number has lost its leading zeros, so it is rejected like any other malformed one.
  const pin = String(doc.pin).trim();
  if (!Pin.safeParse(pin).success) return skip('invalid_pin', 'PIN is not 4–6 digits');

  const credits = Credits.safeParse(doc.credits_ml ?? doc.credits ?? 0);
  if (!credits.success) return skip('invalid_credits', 'credits_ml/credits is not a whole number of mL');

  const account = keepableAccountId(doc.account_id);
  const createdAt = new Date(doc.created_at ?? doc.$createdAt ?? Number.NaN);
  return {
    ok: true,
    candidate: {
      documentId: doc.$id,
      phone,
      name: (doc.full_name ?? '').trim().slice(0, NAME_MAX),
      pin,
      // An inactive old account was switched off by an operator: suspended, so a PIN reset does not reopen it.
      status: doc.active === false ? 'suspended' : 'active',
      wantedAccountId: account.id,
      accountIdProblem: account.problem,
      creditsMl: credits.data,
      createdAt: Number.isNaN(createdAt.getTime()) ? undefined : createdAt,
    },
  };
}

/** An old id is kept (upper-cased) when it is a valid account id on the wire; whether it is free is checked on import. */
function keepableAccountId(raw: string | null | undefined): { id: string | undefined; problem: string | undefined } {
  if (raw === null || raw === undefined || raw.trim() === '') return { id: undefined, problem: undefined };
  const id = raw.trim().toUpperCase();
  if (!AccountId.safeParse(id).success)
    return { id: undefined, problem: `old account id "${raw}" is not 4–16 letters and digits` };
  return { id, problem: undefined };
}
