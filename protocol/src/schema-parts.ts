import * as z from 'zod/mini';
import { FIRMWARE_COUNTER_MAX } from './firmware-signature.js';

/** Building blocks every message schema shares. */
export const Id = z.uuid();
export const Millilitres = z.int().check(z.minimum(0), z.maximum(1_000_000_000));
/** A single dispense is bounded: no dispenser sells more than 100 L at once. */
export const DispenseMillilitres = z.int().check(z.minimum(1), z.maximum(100_000));
export const EpochMs = z.int().check(z.minimum(0));
export const DispenserId = z.string().check(z.regex(/^[A-Za-z0-9_-]{1,32}$/));
export const KioskId = z.string().check(z.regex(/^[A-Za-z0-9_-]{1,32}$/));
/** What the customer typed on the keypad; the gateway normalises it to E.164. */
export const PhoneInput = z.string().check(z.regex(/^\+?[0-9 ]{6,20}$/));
export const E164 = z.string().check(z.regex(/^\+[1-9][0-9]{6,14}$/));
export const Pin = z.string().check(z.regex(/^[0-9]{4,6}$/));
export const AccountId = z.string().check(z.regex(/^[A-Z0-9]{4,16}$/));
/** A release's anti-rollback counter (firmware-signature.ts). */
export const FirmwareCounter = z.int().check(z.minimum(0), z.maximum(FIRMWARE_COUNTER_MAX));
