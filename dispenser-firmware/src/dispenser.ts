import {
  denialText,
  firmwareSigningText,
  newId,
  tokenDigitsValid,
  type AuthApproved,
  type AuthRequest,
  type AuthResponse,
  type CommandResult,
  type DispenserCommand,
  type DispenserConfig,
  type SessionAnswer,
  type SessionEndReason,
  type TokenRequest,
  type TokenResponse,
} from '@tusafishe/protocol';
import type { FirmwareImage, Hal, Key, TimerHandle } from './hal.js';
import { DigitEntry, presetIndex } from './keypad-entry.js';
import { FlowRun } from './flow-run.js';
import { deliveredMillilitres, pulsesFor } from './flow-calibration.js';
import { GatewayLink, type Inbound } from './gateway-link.js';
import { SessionStore, type InFlightSession } from './session-store.js';
import {
  DEFAULT_TIMINGS,
  FIRMWARE_COUNTER,
  type DispenserIdentity,
  type FirmwareTimings,
} from './firmware-settings.js';
import * as lcd from './lcd-screens.js';

type State =
  | { kind: 'offline' }
  | { kind: 'disabled' }
  | { kind: 'idle' }
  | { kind: 'phone'; entry: DigitEntry }
  | { kind: 'pin'; phone: string; entry: DigitEntry }
  | { kind: 'volume'; phone: string; pin: string; entry: DigitEntry }
  | { kind: 'authorising'; request: AuthRequest }
  | { kind: 'token-phone'; entry: DigitEntry }
  | { kind: 'token'; phone: string; entry: DigitEntry }
  | { kind: 'redeeming'; request: TokenRequest }
  | { kind: 'denied' }
  | { kind: 'dispensing'; flight: InFlightSession }
  | { kind: 'done'; sessionId: string; reason: SessionEndReason; deliveredMl: number }
  | { kind: 'service' }
  | { kind: 'updating' };

export type DispenserStateName = State['kind'];

/** Flash key of the anti-rollback counter: the highest release counter this dispenser installed. */
const ROLLBACK_KEY = 'rollback';

/** E.164 allows at most 15 digits; the gateway normalises whatever form was typed. */
const PHONE_DIGITS = { min: 6, max: 15 };
const PIN_DIGITS = { min: 4, max: 6 };
const TOKEN_DIGITS = 15;

/**
 * The dispenser: keypad and LCD dialogue, the dispense with its safety rules, and the
 * gateway conversation. Every way the valve can open goes through a FlowRun, and every
 * HAL callback runs guarded: an unexpected error closes the valve.
 */
export class Dispenser {
  readonly #hal: Hal;
  readonly #timings: FirmwareTimings;
  readonly #store: SessionStore;
  readonly #link: GatewayLink;
  readonly #bootAt: number;
  #state: State = { kind: 'offline' };
  #config: DispenserConfig | undefined;
  #run: FlowRun | undefined;
  #screenTimer: TimerHandle;
  #authTimer: TimerHandle;
  #timers: TimerHandle[] = [];
  /** An approval that arrives after the customer was told "no answer" is released at once. */
  #abandonedRequestId: string | undefined;
  /** The last command; its result once there is one (a repeat while it runs is ignored). */
  #lastCommand: { id: string; result?: CommandResult } | undefined;

  constructor(hal: Hal, identity: DispenserIdentity, timings: Partial<FirmwareTimings> = {}) {
    this.#hal = hal;
    this.#timings = { ...DEFAULT_TIMINGS, ...timings };
    this.#store = new SessionStore(hal.storage);
    this.#link = new GatewayLink(hal.mqtt, identity, hal.firmware.running(), this.#timings.keepaliveSeconds);
    this.#bootAt = hal.clock.now();
  }

  get state(): DispenserStateName {
    return this.#state.kind;
  }

  /** True while the MQTT session to the gateway's broker is up. */
  get connected(): boolean {
    return this.#link.up;
  }

  get config(): DispenserConfig | undefined {
    return this.#config;
  }

  start(): void {
    const { clock, flow, keypad, valve } = this.#hal;
    valve.close();
    this.#store.recoverFlight(clock.now());
    this.#config = this.#store.loadConfig();
    keypad.onKey((key) => this.#guard(() => this.#press(key)));
    flow.onPulse((count) => this.#guard(() => this.#run?.pulse(count)));
    this.#link.start({
      onUp: () => this.#guard(() => this.#linkUp()),
      onDown: () => this.#guard(() => this.#linkDown()),
      onMessage: (inbound) => this.#guard(() => this.#receive(inbound)),
      onInvalid: () => this.#store.count({ errors: 1 }),
    });
    this.#timers.push(
      clock.every(this.#timings.heartbeatMs, () => this.#guard(() => this.#heartbeat())),
      clock.every(this.#timings.completeRetryMs, () => this.#guard(() => this.#sendPending())),
    );
    this.#settle();
  }

  /** Orderly shutdown: the valve closes, the session is reported (as power_loss: the dispenser is going down), the gateway hears "offline". */
  stop(): void {
    this.#run?.stop('power_loss');
    const { clock } = this.#hal;
    for (const timer of [...this.#timers, this.#screenTimer, this.#authTimer]) clock.cancel(timer);
    this.#link.stop();
  }

  #guard(action: () => void): void {
    try {
      action();
    } catch {
      this.#hal.valve.close();
      this.#run?.stop('error');
      this.#store.count({ errors: 1 });
      this.#enter({ kind: 'denied' }, lcd.deniedScreen('Dispenser fault'), this.#timings.messageMs);
    }
  }

  #enter(state: State, screen: lcd.Screen, timeoutMs?: number): void {
    const { clock, lcd: display } = this.#hal;
    clock.cancel(this.#screenTimer);
    this.#screenTimer = undefined;
    this.#state = state;
    display.show(screen);
    if (timeoutMs !== undefined) this.#screenTimer = clock.after(timeoutMs, () => this.#guard(() => this.#settle()));
  }

  /** The resting state for the present link and config. */
  #settle(): void {
    if (!this.#link.up || !this.#config) this.#enter({ kind: 'offline' }, lcd.unreachableScreen());
    else if (!this.#config.enabled) this.#enter({ kind: 'disabled' }, lcd.disabledScreen());
    else this.#enter({ kind: 'idle' }, lcd.idleScreen());
  }

  #press(key: Key): void {
    const state = this.#state;
    const entryTimeout = this.#timings.entryTimeoutMs;
    switch (state.kind) {
      case 'idle': {
        const entry = new DigitEntry(PHONE_DIGITS.min, PHONE_DIGITS.max);
        if (key === 'A') return this.#enter({ kind: 'token-phone', entry }, lcd.tokenPhoneScreen(''), entryTimeout);
        if (entry.press(key) === 'edited')
          this.#enter({ kind: 'phone', entry }, lcd.phoneScreen(entry.value), entryTimeout);
        return;
      }
      case 'phone':
        return this.#edit(
          state.entry,
          key,
          () => {
            const entry = new DigitEntry(PIN_DIGITS.min, PIN_DIGITS.max);
            this.#enter({ kind: 'pin', phone: state.entry.value, entry }, lcd.pinScreen(0), entryTimeout);
          },
          () => lcd.phoneScreen(state.entry.value),
        );
      case 'pin':
        return this.#edit(
          state.entry,
          key,
          () => {
            const entry = new DigitEntry(1, String(this.#maxLitres()).length);
            const next = { kind: 'volume', phone: state.phone, pin: state.entry.value, entry } as const;
            this.#enter(next, lcd.volumeScreen(this.#presets(), ''), entryTimeout);
          },
          () => lcd.pinScreen(state.entry.value.length),
        );
      case 'volume': {
        const preset = presetIndex(key);
        if (preset !== undefined) {
          const ml = this.#presets()[preset];
          if (ml !== undefined) this.#authorise(state.phone, state.pin, ml);
          return;
        }
        return this.#edit(
          state.entry,
          key,
          () => {
            const litres = Number(state.entry.value);
            if (litres >= 1 && litres <= this.#maxLitres())
              return this.#authorise(state.phone, state.pin, litres * 1000);
            this.#hal.lcd.show(lcd.volumeScreen(this.#presets(), state.entry.value, this.#config?.max_ml ?? 0));
          },
          () => lcd.volumeScreen(this.#presets(), state.entry.value),
        );
      }
      case 'token-phone':
        return this.#edit(
          state.entry,
          key,
          () => {
            const entry = new DigitEntry(TOKEN_DIGITS, TOKEN_DIGITS);
            this.#enter({ kind: 'token', phone: state.entry.value, entry }, lcd.tokenScreen(''), entryTimeout);
          },
          () => lcd.tokenPhoneScreen(state.entry.value),
        );
      case 'token':
        return this.#edit(
          state.entry,
          key,
          () => {
            // A typo is caught here, by the check digit: it never reaches the gateway's lockout count.
            if (tokenDigitsValid(state.entry.value)) return this.#redeem(state.phone, state.entry.value);
            this.#hal.lcd.show(lcd.tokenScreen(state.entry.value, true));
          },
          () => lcd.tokenScreen(state.entry.value),
        );
      case 'dispensing':
        if (key === '*') this.#run?.stop('cancelled');
        return;
      case 'denied':
      case 'done':
        return this.#settle();
      default:
        return;
    }
  }

  /** One key on a digit field: redraw, submit, or cancel back to idle. */
  #edit(entry: DigitEntry, key: Key, submit: () => void, redraw: () => lcd.Screen): void {
    switch (entry.press(key)) {
      case 'edited':
        return this.#enter(this.#state, redraw(), this.#timings.entryTimeoutMs);
      case 'submit':
        return submit();
      case 'cancel':
        return this.#settle();
      case 'ignored':
        return;
    }
  }

  #presets(): readonly number[] {
    return this.#config?.presets_ml ?? [];
  }

  #maxLitres(): number {
    return Math.floor((this.#config?.max_ml ?? 0) / 1000);
  }

  #newId(): string {
    return newId({ random: this.#hal.system.randomBytes(16), msecs: this.#hal.clock.now() });
  }

  #authorise(phone: string, pin: string, requestedMl: number): void {
    const { clock } = this.#hal;
    const since = clock.now();
    const request: AuthRequest = { request_id: this.#newId(), phone, pin, requested_ml: requestedMl, sent_at: since };
    this.#enter({ kind: 'authorising', request }, lcd.authorisingScreen(requestedMl));
    this.#link.send('auth/request', request);
    // The gateway answers a repeated request (same id) identically, so repeating is safe.
    this.#authTimer = clock.every(this.#timings.authRetryMs, () =>
      this.#guard(() => {
        if (clock.now() - since < this.#timings.authTimeoutMs) return this.#link.send('auth/request', request);
        this.#abandonAuthorisation();
        this.#enter({ kind: 'denied' }, lcd.noAnswerScreen(), this.#timings.messageMs);
      }),
    );
  }

  /** Sends a typed token; repeated like an authorisation until answered (the gateway answers a repeat alike). */
  #redeem(phone: string, token: string): void {
    const { clock } = this.#hal;
    const since = clock.now();
    const request: TokenRequest = { request_id: this.#newId(), phone, token };
    this.#enter({ kind: 'redeeming', request }, lcd.redeemingScreen());
    this.#link.send('token/request', request);
    this.#authTimer = clock.every(this.#timings.authRetryMs, () =>
      this.#guard(() => {
        if (clock.now() - since < this.#timings.authTimeoutMs) return this.#link.send('token/request', request);
        this.#abandonAuthorisation();
        this.#enter({ kind: 'denied' }, lcd.noAnswerScreen(), this.#timings.messageMs);
      }),
    );
  }

  #tokenAnswered(response: TokenResponse): void {
    const state = this.#state;
    if (state.kind !== 'redeeming' || response.request_id !== state.request.request_id) return;
    this.#hal.clock.cancel(this.#authTimer);
    this.#authTimer = undefined;
    const screen = lcd.tokenResultScreen(
      response.message,
      response.credit_ml,
      response.balance_ml,
      response.attempts_left,
    );
    this.#enter({ kind: 'denied' }, screen, this.#timings.messageMs);
  }

  #abandonAuthorisation(): void {
    this.#hal.clock.cancel(this.#authTimer);
    this.#authTimer = undefined;
    if (this.#state.kind === 'authorising') this.#abandonedRequestId = this.#state.request.request_id;
  }

  #receive(inbound: Inbound): void {
    switch (inbound.leaf) {
      case 'auth/response':
        return this.#answer(inbound.message);
      case 'session/ack':
        return this.#acknowledged(inbound.message);
      case 'config':
        return this.#configure(inbound.message);
      case 'command':
        return this.#command(inbound.message);
      case 'token/response':
        return this.#tokenAnswered(inbound.message);
    }
  }

  #answer(response: AuthResponse): void {
    const state = this.#state;
    if (state.kind !== 'authorising' || response.request_id !== state.request.request_id) {
      if (response.approved && response.request_id === this.#abandonedRequestId) this.#releaseHold(response);
      return;
    }
    this.#hal.clock.cancel(this.#authTimer);
    this.#authTimer = undefined;
    if (response.approved) return this.#dispense(response);
    const message = response.message || denialText(response.reason);
    this.#enter({ kind: 'denied' }, lcd.deniedScreen(message, response.attempts_left), this.#timings.messageMs);
  }

  /** Nothing flowed for this approval: report 0 mL so the gateway releases its hold now, not at expiry. */
  #releaseHold(approval: AuthApproved): void {
    this.#abandonedRequestId = undefined;
    const completion = {
      session_id: approval.session_id,
      request_id: approval.request_id,
      delivered_ml: 0,
      pulses: 0,
      end_reason: 'cancelled',
      ended_at: this.#hal.clock.now(),
    } as const;
    this.#store.addPending(completion);
    this.#link.send('session/complete', completion);
  }

  #dispense(approval: AuthApproved): void {
    const { clock, lcd: display } = this.#hal;
    const config = this.#config!;
    const flight: InFlightSession = {
      session_id: approval.session_id,
      request_id: approval.request_id,
      approved_ml: approval.approved_ml,
      pulses_per_litre: config.pulses_per_litre,
      started_at: clock.now(),
    };
    // Persisted before the valve opens: after a power cut the session is reported, never lost.
    this.#store.beginFlight(flight);
    const show = (pulses: number) =>
      display.show(
        lcd.dispensingScreen(
          deliveredMillilitres(pulses, flight.pulses_per_litre, flight.approved_ml),
          flight.approved_ml,
        ),
      );
    this.#run = new FlowRun(this.#hal, {
      targetPulses: pulsesFor(flight.approved_ml, flight.pulses_per_litre),
      noFlowTimeoutMs: config.no_flow_timeout_ms,
      tickMs: this.#timings.flowTickMs,
      onTick: (pulses) => {
        this.#store.recordPulses(pulses);
        const delivered = deliveredMillilitres(pulses, flight.pulses_per_litre, flight.approved_ml);
        this.#link.send('session/progress', { session_id: flight.session_id, delivered_ml: delivered, pulses });
        show(pulses);
      },
      onEnd: (pulses, reason) => this.#finish(flight, pulses, reason),
    });
    this.#enter({ kind: 'dispensing', flight }, lcd.dispensingScreen(0, flight.approved_ml));
    this.#run.start();
  }

  #finish(flight: InFlightSession, pulses: number, reason: SessionEndReason): void {
    this.#run = undefined;
    const deliveredMl = deliveredMillilitres(pulses, flight.pulses_per_litre, flight.approved_ml);
    const completion = {
      session_id: flight.session_id,
      request_id: flight.request_id,
      delivered_ml: deliveredMl,
      pulses,
      end_reason: reason,
      ended_at: this.#hal.clock.now(),
    };
    this.#store.finishFlight(completion);
    this.#store.count({ dispenses: 1, delivered_ml: deliveredMl, errors: reason === 'error' ? 1 : 0 });
    this.#link.send('session/complete', completion);
    const state = { kind: 'done', sessionId: flight.session_id, reason, deliveredMl } as const;
    this.#enter(state, lcd.doneScreen(reason, deliveredMl, undefined), this.#timings.messageMs);
  }

  #acknowledged(ack: SessionAnswer): void {
    if ('refused' in ack) return void this.#store.refuse(ack.session_id);
    this.#store.acknowledge(ack.session_id);
    const state = this.#state;
    if (state.kind === 'done' && state.sessionId === ack.session_id) {
      this.#hal.lcd.show(lcd.doneScreen(state.reason, state.deliveredMl, ack.balance_ml));
    }
  }

  #configure(config: DispenserConfig): void {
    this.#config = config;
    this.#store.saveConfig(config);
    const kind = this.#state.kind;
    if (kind === 'offline' || kind === 'idle' || kind === 'disabled') this.#settle();
  }

  #command(command: DispenserCommand): void {
    const last = this.#lastCommand;
    if (last?.id === command.command_id) return void (last.result && this.#link.send('command/result', last.result));
    const current: { id: string; result?: CommandResult } = { id: command.command_id };
    this.#lastCommand = current;
    const reply = (result: Omit<CommandResult, 'command_id'>) => {
      current.result = { command_id: command.command_id, ...result };
      this.#link.send('command/result', current.result);
    };
    switch (command.type) {
      case 'valve_test':
        return this.#valveTest(command.duration_ms, reply);
      case 'reboot':
        return this.#restartSoon(reply, 'rebooting');
      case 'ota':
        return this.#update(command, reply);
    }
  }

  #restartSoon(reply: (result: Omit<CommandResult, 'command_id'>) => void, message: string): void {
    reply({ ok: true, message });
    this.#hal.clock.after(500, () => this.#hal.system.restart());
  }

  /**
   * Only with no customer at the keypad, and only a release-signed image whose anti-rollback
   * counter is not below this dispenser's; the valve stays closed until the new image boots.
   */
  #update(image: FirmwareImage, reply: (result: Omit<CommandResult, 'command_id'>) => void): void {
    const kind = this.#state.kind;
    if (kind !== 'idle' && kind !== 'disabled') return reply({ ok: false, message: `busy (${kind})` });
    const { counter, signature } = image;
    const floor = Math.max(FIRMWARE_COUNTER, Number(this.#hal.storage.get(ROLLBACK_KEY)) || 0);
    let refusal: string | undefined;
    if (counter === undefined || !signature) refusal = 'not signed';
    else if (!this.#hal.firmware.verify(firmwareSigningText({ ...image, counter }), signature))
      refusal = 'bad signature';
    else if (counter < floor) refusal = `counter ${counter} is below ${floor}`;
    if (refusal) return reply({ ok: false, message: `image refused: ${refusal}` });
    this.#hal.valve.close();
    this.#enter({ kind: 'updating' }, lcd.updatingScreen(image.version));
    this.#heartbeat();
    this.#hal.firmware.install(image, (error) =>
      this.#guard(() => {
        if (error) {
          reply({ ok: false, message: error });
          return this.#settle();
        }
        // Raised before the reboot: from now on no image below this counter is installed.
        this.#hal.storage.set(ROLLBACK_KEY, String(Math.max(floor, counter!)));
        this.#restartSoon(reply, `installed ${image.version}`);
      }),
    );
  }

  /** Opens the valve for a technician; only when no customer is using the dispenser. */
  #valveTest(durationMs: number, reply: (result: Omit<CommandResult, 'command_id'>) => void): void {
    const kind = this.#state.kind;
    if (kind !== 'idle' && kind !== 'disabled') return reply({ ok: false, message: `busy (${kind})` });
    const { clock } = this.#hal;
    const pulsesPerLitre = this.#config?.pulses_per_litre ?? 1;
    const measured = (pulses: number) => deliveredMillilitres(pulses, pulsesPerLitre, Number.MAX_SAFE_INTEGER);
    const run = new FlowRun(this.#hal, {
      noFlowTimeoutMs: durationMs,
      tickMs: this.#timings.flowTickMs,
      onTick: (pulses) => this.#hal.lcd.show(lcd.valveTestScreen(measured(pulses))),
      onEnd: (pulses, reason) => {
        clock.cancel(timer);
        this.#run = undefined;
        const ok = reason === 'target_reached' || reason === 'no_flow';
        reply({ ok, message: `valve test ended: ${reason}`, delivered_ml: measured(pulses), pulses });
        this.#settle();
      },
    });
    const timer = clock.after(durationMs, () => this.#guard(() => run.stop('target_reached')));
    this.#run = run;
    this.#enter({ kind: 'service' }, lcd.valveTestScreen(0));
    run.start();
  }

  #linkUp(): void {
    this.#sendPending();
    this.#heartbeat();
    if (this.#state.kind === 'offline') this.#settle();
  }

  /** Gateway lost: the valve closes at once and no new dispense can begin. */
  #linkDown(): void {
    this.#run?.stop('gateway_lost');
    const kind = this.#state.kind;
    // Result screens' timers settle into the offline screen; an update ends by itself.
    if (kind === 'done' || kind === 'denied' || kind === 'updating') return;
    this.#abandonAuthorisation();
    this.#settle();
  }

  #sendPending(): void {
    for (const completion of this.#store.pending()) this.#link.send('session/complete', completion);
  }

  #heartbeat(): void {
    const { system, clock } = this.#hal;
    const counters = this.#store.counters();
    this.#link.send('heartbeat', {
      firmware: this.#link.firmware,
      uptime_s: Math.max(0, Math.floor((clock.now() - this.#bootAt) / 1000)),
      rssi_dbm: Math.min(0, Math.max(-127, Math.round(system.rssiDbm()))),
      free_heap: Math.max(0, system.freeHeap()),
      ...counters,
      state: this.#state.kind,
    });
  }
}
