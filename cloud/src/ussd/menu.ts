import { customerName } from '../customers/customer-name.js';
import type { Customer, Language } from '../customers/customers.js';
import { tokenInstructions } from '../customers/token-instructions.js';
import { formatLitres } from '../payments/tariff.js';
import type { ProviderName } from '../payments/provider.js';
import type { PurchaseLimits, PurchaseResult, Wallet } from '../payments/purchase.js';
import { isCode } from '../console/customer-codes.js';
import { text, type TextKey } from './texts.js';

export interface Screen {
  end: boolean;
  text: string;
}

/** What the menu needs from the rest of the cloud; the menu itself keeps no state. */
export interface UssdActions {
  register(input: {
    name: string;
    pin: string;
    language: Language;
  }): Promise<{ accountId: string; alreadyRegistered: boolean }>;
  /**
   * Checks the customer's current PIN. `typedNow`: the session's newest input (earlier ones are
   * replayed on every request and must not count again). 'locked': the account is locked out.
   */
  verifyPin(customer: Customer, pin: string, typedNow: boolean): Promise<'ok' | 'wrong' | 'locked'>;
  setPin(customer: Customer, pin: string): Promise<void>;
  /** An operator started a PIN reset: the PIN menu takes the SMS code instead of the old PIN. */
  pinResetPending: boolean;
  /** Checks a reset code; a wrong one newly typed (`typedNow`) counts toward spending it. */
  checkResetCode(customer: Customer, code: string, typedNow: boolean): Promise<boolean>;
  /** Sets the PIN with the code (spending it, clearing a lockout); false when the code is no longer good. */
  setPinWithCode(customer: Customer, pin: string, code: string): Promise<boolean>;
  setLanguage(customer: Customer, language: Language): Promise<void>;
  /** The customer's newest keypad token no kiosk has redeemed, for a kiosk that is offline. */
  lastToken(customer: Customer): Promise<string | undefined>;
  /** Starts a mobile-money collection with a wallet (default: the preferred one). */
  buy(customer: Customer, amountMajor: number, wallet?: ProviderName): Promise<PurchaseResult>;
  /** Litres `amountMajor` buys, e.g. "20 L". */
  quote(customer: Customer, amountMajor: number): Promise<string>;
  limits: PurchaseLimits;
  /** Wallets this phone may pay with, preferred first (a second one is offered on the confirm screen). */
  wallets: Wallet[];
}

const MAX_PIN_TRIES = 3;
const isPin = (input: string): boolean => /^[0-9]{4}$/.test(input) && !/^(\d)\1{3}$/.test(input);

const con = (body: string): Screen => ({ end: false, text: body });
const end = (body: string): Screen => ({ end: true, text: body });
const again = (
  error: TextKey,
  prompt: TextKey,
  language: Language,
  values: Record<string, string | number> = {},
): Screen => con(`${text(error, language, values)}\n${text(prompt, language, values)}`);

/**
 * Africa's Talking sends every input of the session joined by `*`; the menu replays them from
 * the first screen on each request, so any cloud instance can answer any request and no
 * session state is stored. Side effects happen only on the final input of a flow.
 */
export async function ussdScreen(
  customer: Customer | undefined,
  inputs: readonly string[],
  actions: UssdActions,
): Promise<Screen> {
  return customer ? registeredFlow(customer, inputs, actions) : registrationFlow(inputs, actions);
}

async function registrationFlow(inputs: readonly string[], actions: UssdActions): Promise<Screen> {
  let step: 'language' | 'name' | 'pin' | 'confirm' = 'language';
  let language: Language = 'en';
  let name = '';
  let pin = '';
  let error: TextKey | undefined;
  for (const [index, input] of inputs.entries()) {
    const last = index === inputs.length - 1;
    error = undefined;
    if (step === 'language') {
      if (input === '1' || input === '2') [language, step] = [input === '1' ? 'en' : 'sw', 'name'];
      else error = 'invalidChoice';
    } else if (step === 'name') {
      const typed = customerName(input);
      if (typed) [name, step] = [typed, 'pin'];
      else error = 'invalidName';
    } else if (step === 'pin') {
      if (isPin(input)) [pin, step] = [input, 'confirm'];
      else error = 'invalidPin';
    } else if (input !== pin) {
      [step, error] = ['pin', 'pinMismatch'];
    } else if (last) {
      const result = await actions.register({ name, pin, language });
      return end(
        text(result.alreadyRegistered ? 'alreadyRegistered' : 'registered', language, {
          name,
          account: result.accountId,
        }),
      );
    }
  }
  const prompt: TextKey = { language: 'chooseLanguage', name: 'askName', pin: 'askPin', confirm: 'confirmPin' }[
    step
  ] as TextKey;
  return error ? again(error, prompt, language) : con(text(prompt, language));
}

async function registeredFlow(customer: Customer, inputs: readonly string[], actions: UssdActions): Promise<Screen> {
  const language = customer.language;
  if (customer.status === 'suspended') return end(text('accountSuspended', language));
  const [choice, ...rest] = inputs;
  const menu = (): Screen =>
    con(
      text('mainMenu', language, {
        account: customer.account_id,
        pinAction: text(customer.pin_hash ? 'changePinAction' : 'setPinAction', language),
      }),
    );
  switch (choice) {
    case undefined:
      return menu();
    case '1': {
      const balance = text('balance', language, {
        litres: formatLitres(customer.balance_ml),
        account: customer.account_id,
      });
      const token = await actions.lastToken(customer);
      return end(token ? `${balance}\n${tokenInstructions(token, language)}` : balance);
    }
    case '2':
      return buyFlow(customer, rest, actions);
    case '3':
      return pinFlow(customer, rest, actions);
    case '4': {
      const other: Language = language === 'en' ? 'sw' : 'en';
      await actions.setLanguage(customer, other);
      return end(text('languageChanged', other));
    }
    default:
      return con(`${text('invalidChoice', language)}\n${menu().text}`);
  }
}

async function buyFlow(customer: Customer, inputs: readonly string[], actions: UssdActions): Promise<Screen> {
  const language = customer.language;
  const { currency, minMajor, maxMajor } = actions.limits;
  const bounds = { currency, min: minMajor, max: maxMajor };
  let amount: number | undefined;
  let error: TextKey | undefined;
  const [preferred, other] = actions.wallets;
  for (const [index, input] of inputs.entries()) {
    error = undefined;
    if (amount === undefined) {
      const value = /^[0-9]{1,9}$/.test(input) ? Number(input) : NaN;
      if (value >= minMajor && value <= maxMajor) amount = value;
      else error = 'invalidAmount';
    } else if (input === '2') {
      return end(text('cancelled', language));
    } else if ((input === '1' || (input === '3' && other)) && index === inputs.length - 1) {
      const result = await actions.buy(customer, amount, input === '3' ? other!.name : actions.wallets[0]?.name);
      return end(
        result.ok ? text('paymentStarted', language, { provider: result.provider }) : text(result.reason, language),
      );
    } else {
      error = 'invalidChoice';
    }
  }
  if (amount === undefined)
    return error ? again(error, 'askAmount', language, bounds) : con(text('askAmount', language, bounds));
  const values = { currency, amount, litres: await actions.quote(customer, amount) };
  const confirm =
    preferred && other
      ? text('confirmBuyWallets', language, { ...values, wallet: preferred.label, other: other.label })
      : text('confirmBuy', language, values);
  return con(error ? `${text(error, language)}\n${confirm}` : confirm);
}

async function pinFlow(customer: Customer, inputs: readonly string[], actions: UssdActions): Promise<Screen> {
  const language = customer.language;
  let step: 'old' | 'new' | 'confirm' = customer.pin_hash ? 'old' : 'new';
  let wrongTries = 0;
  let pin = '';
  let code: string | undefined;
  let error: TextKey | undefined;
  for (const [index, input] of inputs.entries()) {
    error = undefined;
    if (step === 'old' && actions.pinResetPending && isCode(input)) {
      // A reset code stands in for the old PIN, lockout or not (the customer forgot it).
      if (await actions.checkResetCode(customer, input, index === inputs.length - 1)) [code, step] = [input, 'new'];
      else error = 'wrongCode';
    } else if (step === 'old') {
      const verdict = await actions.verifyPin(customer, input, index === inputs.length - 1);
      if (verdict === 'ok') step = 'new';
      else if (verdict === 'locked' || (wrongTries += 1) >= MAX_PIN_TRIES)
        return end(text('tooManyWrongPins', language));
      else error = 'wrongPin';
    } else if (step === 'new') {
      if (isPin(input)) [pin, step] = [input, 'confirm'];
      else error = 'invalidPin';
    } else if (input !== pin) {
      [step, error] = ['new', 'pinMismatch'];
    } else if (index === inputs.length - 1) {
      if (code !== undefined)
        return end(text((await actions.setPinWithCode(customer, pin, code)) ? 'pinChanged' : 'codeExpired', language));
      await actions.setPin(customer, pin);
      return end(text('pinChanged', language));
    }
  }
  const old: TextKey = actions.pinResetPending ? 'askOldPinOrCode' : 'askOldPin';
  const prompt: TextKey = { old, new: 'askNewPin', confirm: 'confirmPin' }[step] as TextKey;
  return error ? again(error, prompt, language) : con(text(prompt, language));
}
