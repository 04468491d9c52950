import { describe, expect, it } from 'vitest';
import { parseMessageReference, parseOperator, parseRegistration, parseSignal, parseSimState } from './at-responses.js';

describe('SIM7670G answers', () => {
  it('turns +CSQ into dBm, with 99 as unknown', () => {
    expect(parseSignal(['+CSQ: 20,99'])).toEqual({ rssi: 20, dbm: -73 });
    expect(parseSignal(['+CSQ: 0,0']).dbm).toBe(-113);
    expect(parseSignal(['+CSQ: 31,0']).dbm).toBe(-51);
    expect(parseSignal(['+CSQ: 99,99']).dbm).toBeNull();
    expect(() => parseSignal(['+CSQ: 45,0'])).toThrow(/unexpected answer/);
  });

  it('reads registration, operator, SIM state and message reference', () => {
    expect(parseRegistration(['+CEREG: 0,5'], '+CEREG:')).toBe('roaming');
    expect(parseRegistration(['+CREG: 2,1,"1A2B","0C3D4E5",7'], '+CREG:')).toBe('home');
    expect(parseRegistration(['+CREG: 0,2'], '+CREG:')).toBe('searching');
    expect(parseOperator(['+COPS: 0,0,"Safaricom",7'])).toBe('Safaricom');
    expect(parseOperator(['+COPS: 0'])).toBeNull();
    expect(parseSimState(['+CPIN: SIM PIN'])).toBe('SIM PIN');
    expect(parseMessageReference(['+CMGS: 17'])).toBe(17);
    expect(() => parseOperator([])).toThrow(/\+COPS/);
  });
});
