import type { DenialCode } from '@tusafishe/protocol';

export interface InterlockContext {
  /** null for the seed-compatible HTTP endpoint, which has no dispenser. */
  dispenserId: string | null;
}

/**
 * A condition that stops every dispense while it holds (tank low, UV lamp fault,
 * water quality alarm). Returns the denial to give, or null when water may flow.
 */
export type DispenseInterlock = (context: InterlockContext) => DenialCode | null;

/** Interlocks registered by hardware monitors; consulted before any customer check. */
export class Interlocks {
  private readonly registered = new Set<DispenseInterlock>();

  /** Registers an interlock; the returned function removes it again. */
  add(interlock: DispenseInterlock): () => void {
    this.registered.add(interlock);
    return () => this.registered.delete(interlock);
  }

  /** First denial any interlock gives, or null. */
  check(context: InterlockContext): DenialCode | null {
    for (const interlock of this.registered) {
      const denial = interlock(context);
      if (denial) return denial;
    }
    return null;
  }
}
