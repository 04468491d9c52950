import { describe, expect, it } from 'vitest';
import { secretToken } from './testing.js';

describe('secretToken', () => {
  it('finds a leaked PIN but not the same digits inside a timestamp, an id or a hash', () => {
    expect('{"time":1796019898766,"id":"0193a5b0-9876-7000"}').not.toMatch(secretToken('9876'));
    expect('$scrypt$ln=10,r=8,p=1$ab9876Q$x').not.toMatch(secretToken('9876'));
    expect('{"pin":"9876"}').toMatch(secretToken('9876'));
    expect('wrong pin 9876 for').toMatch(secretToken('9876'));
    expect('/ussd?token=hook-secret-in-url&x').toMatch(secretToken('hook-secret-in-url'));
  });
});
