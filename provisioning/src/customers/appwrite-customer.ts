import * as z from 'zod';
import { v5 as uuidv5 } from 'uuid';
import { Pin } from '@tusafishe/protocol';
import type { CountryCode } from '@tusafishe/protocol/phone';
import { checkCustomerFields, type CustomerCandidate, type SkipReason } from '@tusafishe/cloud/provisioning';

/** A checked customer of the old Appwrite `customers` collection, with its plain PIN to hash. */
interface AppwriteCandidate extends CustomerCandidate {
  /** Plain PIN from the old system: hashed before it is stored, never printed. */
  pin: string;
}

export type CandidateResult =
  | { ok: true; candidate: AppwriteCandidate }
  | { ok: false; reason: SkipReason; message: string };

/** Where a document comes from, so documents of different collections never share an event id. */
export interface DocumentOrigin {
  project: string;
  database: string;
  collection: string;
}

/** Namespace of opening-balance event ids (UUIDv5): the same document always yields the same event id. */
const OPENING_BALANCE_NAMESPACE = '6f0b7c1e-3a52-5d8e-9c47-2b1e8f4d0a93';

export function openingBalanceEventId(origin: DocumentOrigin, documentId: string): string {
  return uuidv5(
    `appwrite:${origin.project}/${origin.database}/${origin.collection}/${documentId}`,
    OPENING_BALANCE_NAMESPACE,
  );
}

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

const skip = (reason: SkipReason, message: string): CandidateResult => ({ ok: false, reason, message });

/** Validates and maps one document (the field checks are the cloud's, shared with the console's CSV import); never echoes the PIN. */
export function toCandidate(document: unknown, region: CountryCode): CandidateResult {
  const parsed = AppwriteCustomerDocument.safeParse(document);
  if (!parsed.success) return skip('invalid_document', z.prettifyError(parsed.error).replace(/\n/g, '; '));
  const doc = parsed.data;

  const checked = checkCustomerFields(
    {
      phone: doc.phone_number,
      name: doc.full_name,
      credits: doc.credits_ml ?? doc.credits,
      accountId: doc.account_id,
    },
    region,
  );
  if (!checked.ok) return checked;

  if (doc.pin === null || doc.pin === undefined || String(doc.pin).trim() === '')
    return skip('missing_pin', 'no PIN: the customer must register again by USSD');
  // A PIN stored as a number has lost its leading zeros, so it is rejected like any other malformed one.
  const pin = String(doc.pin).trim();
  if (!Pin.safeParse(pin).success) return skip('invalid_pin', 'PIN is not 4–6 digits');

  const createdAt = new Date(doc.created_at ?? doc.$createdAt ?? Number.NaN);
  return {
    ok: true,
    candidate: {
      ...checked.fields,
      sourceId: doc.$id,
      sourceLabel: `document ${doc.$id}`,
      pin,
      // An inactive old account was switched off by an operator: suspended, so a PIN reset does not reopen it.
      status: doc.active === false ? 'suspended' : 'active',
      createdAt: Number.isNaN(createdAt.getTime()) ? undefined : createdAt,
    },
  };
}
