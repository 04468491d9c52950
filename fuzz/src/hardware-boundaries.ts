import { once } from 'node:events';
import { createServer, type Server, type Socket } from 'node:net';
import { Duplex, PassThrough } from 'node:stream';
import fc from 'fast-check';
import { pino } from 'pino';
import { resolveHardwareConfig } from '@tusafishe/gateway/boundaries';
import { HardwareError } from '@tusafishe/gateway/boundaries';
import { SensorPoller } from '@tusafishe/gateway/boundaries';
import { AtModem } from '@tusafishe/gateway/boundaries';
import {
  parseMessageReference,
  parseOperator,
  parseRegistration,
  parseSignal,
  parseSimState,
} from '@tusafishe/gateway/boundaries';
import { text } from './inputs.js';
import { crash, fail, newTally, type Boundary } from './tally.js';

/** Lines a SIM7670 (or line noise) might send while a command waits. */
const atLine = fc.oneof(
  fc
    .tuple(
      fc.constantFrom(
        '+CSQ:',
        '+CREG:',
        '+CEREG:',
        '+COPS:',
        '+CPIN:',
        '+CMGS:',
        '+CME ERROR:',
        '+CMS ERROR:',
        '+CMTI:',
        'RING',
        '> ',
      ),
      fc.string({ maxLength: 24 }),
    )
    .map(([prefix, rest]) => `${prefix} ${rest}`),
  fc.stringMatching(/^\+C[A-Z]{2,4}: [0-9,"A-Za-z ]{0,20}$/),
  text,
  fc.string({ unit: 'binary', maxLength: 40 }),
);

const finalResult = fc.constantFrom('OK', 'ERROR', '+CME ERROR: 10', '+CMS ERROR: 500', 'NO CARRIER', 'OK');

/** Every parser a command's lines go through: each answers or throws a HardwareError. */
const PARSERS: ((lines: string[]) => unknown)[] = [
  parseSignal,
  (lines) => parseRegistration(lines, '+CREG:'),
  (lines) => parseRegistration(lines, '+CEREG:'),
  parseOperator,
  parseSimState,
  parseMessageReference,
];

const atModemLines: Boundary = {
  names: ['at-modem'],
  async run(runs, seed) {
    const tally = newTally('at-modem');
    const fromModem = new PassThrough();
    const toModem = new PassThrough();
    toModem.resume();
    const port = Duplex.from({ readable: fromModem, writable: toModem });
    const modem = new AtModem(port);
    const expectOf = fc.constantFrom('+CSQ:', '+CREG:', '+CEREG:', '+COPS:', '+CPIN:', '+CMGS:');
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          expect: expectOf,
          lines: fc.array(atLine, { maxLength: 6 }),
          end: finalResult,
          lineEnd: fc.constantFrom('\r\n', '\n', '\r'),
        }),
        async (input) => {
          tally.inputs += 1;
          const answer = modem.command(`AT${input.expect.slice(1, -1)}?`, { expect: input.expect, timeoutMs: 2000 });
          fromModem.write(Buffer.from([...input.lines, input.end].join(input.lineEnd) + input.lineEnd, 'latin1'));
          try {
            const lines = await answer;
            for (const parse of PARSERS) {
              try {
                parse(lines);
              } catch (error) {
                if (!(error instanceof HardwareError)) fail(tally, `parser threw ${String(error)}`, input);
              }
            }
          } catch (error) {
            if (!(error instanceof HardwareError)) crash(tally, error, input);
            else if (error.code === 'MODEM_TIMEOUT') fail(tally, 'a command with a final result code timed out', input);
          }
        },
      ),
      { numRuns: runs, seed, endOnFailure: true },
    );
    modem.close();
    return [tally];
  },
};

/** One Modbus TCP answer: a right one with any value, an exception, a wrong-length or wrong-id frame, noise. */
const modbusAnswer = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({ kind: fc.constant('value' as const), value: fc.integer({ min: 0, max: 0xffff }) }),
  },
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant('exception' as const), code: fc.integer({ min: 0, max: 255 }) }),
  },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('pdu' as const), pdu: fc.uint8Array({ maxLength: 12 }) }) },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('header' as const),
      bytes: fc.uint8Array({ minLength: 1, maxLength: 20 }),
    }),
  },
);
type ModbusAnswer = typeof modbusAnswer extends fc.Arbitrary<infer T> ? T : never;

function frame(request: Buffer, answer: ModbusAnswer): Buffer {
  const transaction = request.subarray(0, 2);
  const unit = request[6] ?? 1;
  const fn = request[7] ?? 3;
  const mbap = (pdu: Buffer, length = pdu.length + 1): Buffer => {
    const header = Buffer.alloc(7);
    transaction.copy(header, 0);
    header.writeUInt16BE(length, 4);
    header[6] = unit;
    return Buffer.concat([header, pdu]);
  };
  switch (answer.kind) {
    case 'value':
      return mbap(Buffer.from([fn, 2, answer.value >> 8, answer.value & 0xff]));
    case 'exception':
      return mbap(Buffer.from([fn | 0x80, answer.code]));
    case 'pdu':
      return mbap(Buffer.from(answer.pdu));
    case 'header':
      return Buffer.from(answer.bytes);
  }
}

const modbusFrames: Boundary = {
  names: ['modbus'],
  async run(runs, seed) {
    const tally = newTally('modbus');
    const answers = fc.sample(modbusAnswer, { numRuns: runs, seed });
    let next = 0;
    const sockets = new Set<Socket>();
    const server: Server = createServer((socket) => {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      socket.on('error', () => undefined);
      socket.on('data', (request) => {
        const answer = answers[next++ % answers.length]!;
        tally.inputs += 1;
        socket.write(frame(request, answer));
      });
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const address = server.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    const config = resolveHardwareConfig({
      mode: 'hardware',
      modbus: { transport: 'tcp', host: '127.0.0.1', port, timeoutMs: 50, retries: 0, pollIntervalMs: 1000 },
    });
    const poller = new SensorPoller(config.modbus, config.sensors, pino({ level: 'silent' }));
    try {
      while (tally.inputs < runs) {
        const before = tally.inputs;
        const readings = await poller.pollOnce();
        for (const reading of readings) {
          if (reading.status === 'ok' && !Number.isFinite(reading.value))
            fail(tally, 'a reading that is not a number', reading);
        }
        if (tally.inputs === before && readings.every((r) => r.status === 'silent')) {
        }
      }
    } catch (error) {
      crash(tally, error, 'poll');
    } finally {
      await poller.close();
      for (const socket of sockets) socket.destroy();
      server.close();
    }
    return [tally];
  },
};

export function hardwareBoundaries(): Boundary[] {
  return [atModemLines, modbusFrames];
}
