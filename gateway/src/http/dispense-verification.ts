import { DispenseMillilitres, KioskId, newId, PhoneInput, Pin } from '@tusafishe/protocol';
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import * as z from 'zod/mini';
import type { DispenseSessions } from '../dispense/dispense-sessions.js';
import { GatewayError } from '../errors.js';

/** The body the old kiosk clients send (seed system), unchanged. */
export const DispenseVerificationBody = z.object({
  kiosk_id: KioskId,
  /** The customer's phone number in any form the keypad produces. */
  user_id: PhoneInput,
  pin: Pin,
  volume_ml: DispenseMillilitres,
});

/**
 * `POST /dispense-verification`, for kiosks still on the old client. They report
 * nothing after an approval, so an approval is recorded as a dispense of
 * `volume_ml` at once, in the same transaction.
 */
export function registerDispenseVerification(app: FastifyInstance, sessions: DispenseSessions, kioskId: string): void {
  app
    .withTypeProvider<ZodTypeProvider>()
    .post('/dispense-verification', { schema: { body: DispenseVerificationBody } }, async (request) => {
      const body = request.body;
      if (body.kiosk_id !== kioskId) {
        throw new GatewayError('WRONG_KIOSK', `kiosk_id: this gateway serves kiosk ${kioskId}`, {
          fields: ['kiosk_id'],
        });
      }
      const { response, ack, customer } = await sessions.authoriseAndRecord({
        request_id: newId(),
        phone: body.user_id,
        pin: body.pin,
        requested_ml: body.volume_ml,
      });
      if (!response.approved) return response;
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
