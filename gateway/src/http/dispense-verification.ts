import { timingSafeEqual, createHash } from 'node:crypto';
import { DispenseMillilitres, KioskId, newId, PhoneInput, Pin, type DenialCode } from '@tusafishe/protocol';
import { hashSecret, verifySecret } from '@tusafishe/protocol/secret-hash';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import * as z from 'zod/mini';
import type { DispenseFlow } from '../dispense/dispense-flow.js';
import { GatewayError } from '../errors.js';
import { AddressBudget, normaliseAddress } from '@tusafishe/protocol/address-budget';

/** The body the old kiosk clients send (seed system), unchanged. */
const DispenseVerificationBody = z.object({
  kiosk_id: KioskId,
  /** The customer's phone number in any form the keypad produces. */
  user_id: PhoneInput,
  pin: Pin,
  volume_ml: DispenseMillilitres,
});

/**
 * Who may call the endpoint. Absent: it is not served at all (the production default).
 * `open` serves anyone (the demo); otherwise a caller must come from an allowed address
 * or present the client secret as `Authorization: Bearer <secret>`.
 */
export interface LegacyVerificationAccess {
  open?: boolean;
  allow?: readonly string[];
  secret?: string;
}

export interface LegacyVerificationOptions {
  dispenseFlow: DispenseFlow;
  kioskId: string;
  access: LegacyVerificationAccess;
  /** Failed verifications allowed per client address per window before 429. */
  failureBudget: { max: number; windowMs: number };
}

/**
 * Denials that would tell a caller whether a number is registered. Unauthenticated
 * callers get one answer for all of them; dispensers, which log in, keep the precise reason.
 */
const CREDENTIAL_DENIALS: ReadonlySet<DenialCode> = new Set([
  'UNKNOWN_CUSTOMER',
  'ACCOUNT_INACTIVE',
  'ACCOUNT_EXPIRED',
  'LOCKED_OUT',
  'WRONG_PIN',
]);
/** Denials decided before any PIN was hashed, so they would answer measurably faster. */
const DECIDED_BEFORE_PIN: ReadonlySet<DenialCode> = new Set([
  'UNKNOWN_CUSTOMER',
  'ACCOUNT_INACTIVE',
  'ACCOUNT_EXPIRED',
  'LOCKED_OUT',
]);
export const UNIFORM_DENIAL = { approved: false, reason: 'INVALID_CREDENTIALS', message: 'Wrong number or PIN' };

const digest = (value: string) => createHash('sha256').update(value).digest();

function admits(access: LegacyVerificationAccess, request: FastifyRequest): boolean {
  if (access.open) return true;
  const allowed = new Set((access.allow ?? []).map(normaliseAddress));
  if (allowed.has(normaliseAddress(request.ip))) return true;
  const presented = /^Bearer (.+)$/.exec(request.headers.authorization ?? '')?.[1];
  return (
    access.secret !== undefined && presented !== undefined && timingSafeEqual(digest(presented), digest(access.secret))
  );
}

/**
 * `POST /dispense-verification`, for kiosks still on the old client. They report
 * nothing after an approval, so an approval is recorded as a dispense of
 * `volume_ml` at once, in the same transaction.
 */
export function registerDispenseVerification(app: FastifyInstance, options: LegacyVerificationOptions): void {
  const { dispenseFlow, kioskId, access } = options;
  const failures = new AddressBudget(options.failureBudget);
  // Hashed against when no PIN was, so an unknown number costs the same time as a wrong PIN.
  const decoyHash = hashSecret(newId());
  const refuse = (request: FastifyRequest, code: 'FORBIDDEN' | 'RATE_LIMITED'): never => {
    request.log.warn({ remote: request.ip, code }, 'dispense verification refused');
    throw new GatewayError(code);
  };

  app
    .withTypeProvider<ZodTypeProvider>()
    .post('/dispense-verification', { schema: { body: DispenseVerificationBody } }, async (request) => {
      if (!admits(access, request)) refuse(request, 'FORBIDDEN');
      if (!failures.allows(request.ip)) refuse(request, 'RATE_LIMITED');
      const body = request.body;
      if (body.kiosk_id !== kioskId) {
        throw new GatewayError('WRONG_KIOSK', kioskId, {
          fields: ['kiosk_id'],
        });
      }
      const { response, ack, customer } = await dispenseFlow.authoriseAndRecord({
        request_id: newId(),
        phone: body.user_id,
        pin: body.pin,
        requested_ml: body.volume_ml,
      });
      if (!response.approved) {
        if (!CREDENTIAL_DENIALS.has(response.reason)) return response;
        if (DECIDED_BEFORE_PIN.has(response.reason)) await verifySecret(body.pin, await decoyHash);
        failures.spend(request.ip);
        return UNIFORM_DENIAL;
      }
      if (!ack || !customer) throw new Error('approval without its dispense event');
      return {
        approved: true,
        reason: 'verified',
        session_id: response.session_id,
        event_id: ack.event_id,
        dispensed_ml: ack.recorded_ml,
        balance_ml: ack.balance_ml,
        user_data: { account_id: customer.account_id, name: customer.name, phone: customer.phone },
      };
    });
}
