/**
 * The fleet's top-ups, as customers make them: a USSD session on the cloud (main menu → buy →
 * amount → confirm, one form-encoded POST per screen, as Africa's Talking sends them), then the
 * customer approves the MTN MoMo prompt — the simulator decides and sends its callback. The
 * moment of approval is "payment confirmed"; each top-up credits a fresh account.
 */
import type { startMtnMomoSimulator } from '@tusafishe/cloud/mtn-simulator';
import { phoneOf } from './database.js';
import { request } from './http.js';

/** Decided payments are dropped from the simulator's book after this long (the bench runs for minutes). */
const FORGET_AFTER_MS = 60_000;
const SCREENS = ['', '2', '2*1000', '2*1000*1'];

export class TopUps {
  started = 0;
  confirmed = 0;
  errors = 0;
  readonly errorSamples: string[] = [];
  private next: number;
  private timer: NodeJS.Timeout | undefined;
  private readonly inFlight = new Set<Promise<void>>();
  private readonly decided: { reference: string; at: number }[] = [];

  constructor(
    private readonly cloudUrl: string,
    private readonly simulator: Awaited<ReturnType<typeof startMtnMomoSimulator>>,
    firstIndex: number,
    private readonly lastIndex: number,
    private readonly onConfirmed: (index: number, at: number) => void,
  ) {
    this.next = firstIndex;
  }

  /** Starts `perSecond` top-ups a second, evenly spaced, until stop(). */
  start(perSecond: number): void {
    const spacingMs = 1000 / perSecond;
    const origin = performance.now();
    let made = 0;
    const tick = (): void => {
      const due = Math.floor((performance.now() - origin) / spacingMs) + 1;
      while (made < due) {
        made += 1;
        const run = this.one().finally(() => this.inFlight.delete(run));
        this.inFlight.add(run);
      }
      this.timer = setTimeout(tick, Math.max(1, spacingMs - ((performance.now() - origin) % spacingMs)));
    };
    tick();
  }

  /** Stops making top-ups and waits for the ones under way. */
  async stop(): Promise<void> {
    clearTimeout(this.timer);
    await Promise.all(this.inFlight);
  }

  private error(what: string): void {
    this.errors += 1;
    if (this.errorSamples.length < 10) this.errorSamples.push(what);
  }

  private async one(): Promise<void> {
    if (this.next > this.lastIndex) return this.error('top-up accounts exhausted');
    const index = this.next++;
    this.started += 1;
    const phone = phoneOf(index, true);
    try {
      for (const [step, text] of SCREENS.entries()) {
        const form = new URLSearchParams({
          sessionId: `fleet-${index}`,
          serviceCode: '*123#',
          phoneNumber: phone,
          networkCode: '64110',
          text,
        }).toString();
        const answer = await request(`${this.cloudUrl}/ussd`, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: form,
          timeoutMs: 30_000,
        });
        const expected = step === SCREENS.length - 1 ? 'END ' : 'CON ';
        const screen = answer.body.toString();
        if (answer.status !== 200 || !screen.startsWith(expected))
          return this.error(`ussd "${text}": ${answer.status} ${screen.slice(0, 80)}`);
      }
      const payment = this.pendingFor(phone.slice(1));
      if (!payment) return this.error(`no MoMo prompt for ${phone}`);
      const at = Date.now();
      this.onConfirmed(index, at);
      await this.simulator.decide(payment, true);
      this.confirmed += 1;
      this.forget(payment, at);
    } catch (error) {
      this.error(`top-up ${phone}: ${(error as Error).message}`);
    }
  }

  private pendingFor(msisdn: string): string | undefined {
    for (const payment of this.simulator.payments.values())
      if (payment.status === 'PENDING' && payment.msisdn === msisdn) return payment.reference;
    return undefined;
  }

  /** Keeps the simulator's book small; the cloud has long finished with a payment by then. */
  private forget(reference: string, at: number): void {
    this.decided.push({ reference, at });
    while (this.decided[0] && this.decided[0].at < at - FORGET_AFTER_MS)
      this.simulator.payments.delete(this.decided.shift()!.reference);
  }
}
