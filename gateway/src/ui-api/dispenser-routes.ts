import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import {
  CalibrationBody,
  CalibrationResult,
  DispenserDetail,
  DispenserParams,
  ErrorBody,
  ValveTestBody,
  ValveTestResult,
} from './api-schemas.js';
import { dispenserDetail, findDispense } from './dispenser-queries.js';
import { calibratedPulsesPerLitre } from './flow-calibration.js';
import type { TechnicianGateway } from './kiosk-port.js';
import { runValveTest } from './valve-test.js';
import { recordAudit } from './technician-audit.js';
import { GatewayError } from '../errors.js';
import { technicianGuard } from './technician-guard.js';

export interface DispenserRoutesOptions {
  gateway: TechnicianGateway;
}

function unknownDispenser(dispenserId: string): GatewayError {
  return new GatewayError('UNKNOWN_DISPENSER', dispenserId);
}

export const dispenserRoutes: FastifyPluginAsyncZod<DispenserRoutesOptions> = async (app, { gateway }) => {
  const { store } = gateway;
  const { db } = store;
  app.addHook('onRequest', technicianGuard(db));

  app.get(
    '/api/dispensers/:dispenserId',
    {
      schema: {
        summary: 'Firmware, signal, counters and recent dispenses of one dispenser',
        tags: ['dispensers'],
        params: DispenserParams,
        response: { 200: DispenserDetail, 401: ErrorBody, 404: ErrorBody },
      },
    },
    async (request) =>
      dispenserDetail(store, request.params.dispenserId) ??
      Promise.reject(unknownDispenser(request.params.dispenserId)),
  );

  app.post(
    '/api/dispensers/:dispenserId/calibration',
    {
      schema: {
        summary: 'Save a new flow-meter factor from a reference dispense and the measured volume',
        tags: ['dispensers'],
        params: DispenserParams,
        body: CalibrationBody,
        response: { 200: CalibrationResult, 401: ErrorBody, 404: ErrorBody, 422: ErrorBody },
      },
    },
    async (request) => {
      const { dispenserId } = request.params;
      const { session_id, measured_ml } = request.body;
      const current = store.dispensers.get(dispenserId)?.config.pulses_per_litre;
      if (current === undefined) throw unknownDispenser(dispenserId);
      const dispense = findDispense(store, dispenserId, session_id);
      if (!dispense) throw new GatewayError('UNKNOWN_DISPENSE', session_id, dispenserId);
      const { pulses, pulsesPerLitre } = calibratedPulsesPerLitre(dispense, current, measured_ml);
      await gateway.setDispenserConfig(dispenserId, { pulses_per_litre: pulsesPerLitre });
      recordAudit(db, {
        technicianId: request.technician?.technicianId ?? null,
        action: 'calibration',
        target: dispenserId,
        details: {
          session_id,
          measured_ml,
          pulses,
          old_pulses_per_litre: current,
          new_pulses_per_litre: pulsesPerLitre,
        },
      });
      return {
        dispenser_id: dispenserId,
        old_pulses_per_litre: current,
        new_pulses_per_litre: pulsesPerLitre,
        pulses,
        measured_ml,
      };
    },
  );

  app.post(
    '/api/dispensers/:dispenserId/valve-test',
    {
      schema: {
        summary: 'Open the valve for a moment and report the flow it measured',
        tags: ['dispensers'],
        params: DispenserParams,
        body: ValveTestBody,
        response: { 200: ValveTestResult, 401: ErrorBody, 404: ErrorBody, 504: ErrorBody },
      },
    },
    async (request) => {
      const { dispenserId } = request.params;
      if (!store.dispensers.get(dispenserId)) throw unknownDispenser(dispenserId);
      const result = await runValveTest(gateway, dispenserId, request.body.duration_ms);
      recordAudit(db, {
        technicianId: request.technician?.technicianId ?? null,
        action: 'valve_test',
        target: dispenserId,
        details: {
          command_id: result.command_id,
          duration_ms: request.body.duration_ms,
          ok: result.ok,
          pulses: result.pulses,
        },
      });
      return {
        ok: result.ok,
        message: result.message ?? null,
        delivered_ml: result.delivered_ml ?? null,
        pulses: result.pulses ?? null,
      };
    },
  );
};
