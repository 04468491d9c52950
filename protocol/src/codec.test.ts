import { describe, expect, it } from 'vitest';
import { decodeMessage } from './codec.js';
import { AuthRequest } from './dispenser-reports.js';
import { AuthResponse, DispenserCommand } from './messages.js';
import { dispenserTopic, MAX_PAYLOAD_BYTES, parseDispenserTopic } from './topics.js';
import { newId } from './ids.js';

describe('message codec', () => {
  const request = { request_id: newId(), phone: '0700000102', pin: '1234', requested_ml: 5000 };

  it('accepts a well-formed authorisation request', () => {
    expect(decodeMessage(AuthRequest, JSON.stringify(request))).toEqual({ ok: true, value: request });
  });

  it('names the field that is wrong', () => {
    const result = decodeMessage(AuthRequest, JSON.stringify({ ...request, requested_ml: 0 }));
    expect(result).toMatchObject({ ok: false, code: 'INVALID_MESSAGE' });
    expect(!result.ok && result.error).toContain('requested_ml');
  });

  it('refuses non-JSON and oversized payloads without throwing', () => {
    expect(decodeMessage(AuthRequest, '{nope')).toMatchObject({ ok: false, code: 'INVALID_JSON' });
    expect(decodeMessage(AuthRequest, 'x'.repeat(MAX_PAYLOAD_BYTES + 1))).toMatchObject({
      ok: false,
      code: 'PAYLOAD_TOO_LARGE',
    });
  });

  it('tells approvals from denials by `approved`', () => {
    const denied = {
      request_id: newId(),
      approved: false,
      reason: 'WRONG_PIN',
      message: 'Wrong PIN',
      attempts_left: 3,
    };
    expect(decodeMessage(AuthResponse, JSON.stringify(denied))).toMatchObject({ ok: true });
    expect(decodeMessage(AuthResponse, JSON.stringify({ ...denied, reason: 'NOPE' }))).toMatchObject({ ok: false });
  });
});

describe('OTA command', () => {
  const ota = (url: string) =>
    JSON.stringify({ command_id: newId(), type: 'ota', version: 'v2', url, sha256: 'a'.repeat(64), size: 1 });

  it('checks the download URL without the URL global, which the dispenser runtime (XS) lacks', () => {
    const { URL } = globalThis;
    Reflect.deleteProperty(globalThis, 'URL');
    try {
      expect(decodeMessage(DispenserCommand, ota(`http://127.0.0.1:8080/firmware/${'b'.repeat(64)}.bin`)).ok).toBe(
        true,
      );
      expect(decodeMessage(DispenserCommand, ota('http://gateway.local/firmware/x.bin')).ok).toBe(true);
      for (const bad of ['ftp://gateway/x.bin', 'http://', 'gateway/x.bin', 'http://a b/x.bin'])
        expect(decodeMessage(DispenserCommand, ota(bad))).toMatchObject({ ok: false, code: 'INVALID_MESSAGE' });
    } finally {
      globalThis.URL = URL;
    }
  });
});

describe('topics', () => {
  it('round-trips a dispenser topic and rejects foreign ones', () => {
    expect(parseDispenserTopic(dispenserTopic('D1', 'auth/request'))).toEqual({
      dispenserId: 'D1',
      leaf: 'auth/request',
    });
    expect(parseDispenserTopic('tusafishe/v1/d/D1/anything')).toBeNull();
    expect(parseDispenserTopic('other/D1/auth/request')).toBeNull();
    expect(parseDispenserTopic('tusafishe/v1/d/+/auth/request')).toBeNull();
  });
});
