import { customerName } from '../customers/customer-name.js';
import type { Customer, Language } from '../customers/customers.js';
import { formatLitres } from '../payments/tariff.js';
import type { PurchaseLimits, PurchaseResult } from '../payments/purchase.js';

/** The actions SMS commands need; kept apart so the command logic reads on its own. */
export interface SmsActions {
  register(name: string): Promise<{ accountId: string; alreadyRegistered: boolean }>;
  buy(customer: Customer, amountMajor: number): Promise<PurchaseResult>;
  limits: PurchaseLimits;
  ussdCode: string;
}

type Reply = Record<Language, string>;
const say = (reply: Reply, language: Language): string => reply[language];

/** Keywords in either language; the message's first word picks the command. */
const KEYWORDS: Record<string, 'REGISTER' | 'BALANCE' | 'STATUS' | 'BUY' | 'HELP'> = {
  REGISTER: 'REGISTER',
  SAJILI: 'REGISTER',
  BALANCE: 'BALANCE',
  SALIO: 'BALANCE',
  STATUS: 'STATUS',
  HALI: 'STATUS',
  BUY: 'BUY',
  NUNUA: 'BUY',
  HELP: 'HELP',
  MSAADA: 'HELP',
};

/**
 * Answers one inbound SMS. Never asks for, accepts or repeats a PIN: a message carrying digits
 * where a name belongs gets a warning, and no reply quotes what the customer sent.
 */
export async function answerSms(customer: Customer | undefined, message: string, actions: SmsActions): Promise<string> {
  const language: Language = customer?.language ?? 'en';
  const [first = '', ...rest] = message.trim().split(/\s+/);
  const command = KEYWORDS[first.toUpperCase()];
  const argument = rest.join(' ');
  const help = (lang: Language): string =>
    say(
      {
        en: `Tusafishe: REGISTER <name>, BALANCE, STATUS, BUY <amount>, HELP. Set your PIN only by dialling ${actions.ussdCode}.`,
        sw: `Tusafishe: SAJILI <jina>, SALIO, HALI, NUNUA <kiasi>, MSAADA. Weka PIN kwa kupiga ${actions.ussdCode} tu.`,
      },
      lang,
    );
  const notRegistered = say(
    {
      en: `You are not registered. Send REGISTER <your name> or dial ${actions.ussdCode}.`,
      sw: `Hujasajiliwa. Tuma SAJILI <jina lako> au piga ${actions.ussdCode}.`,
    },
    language,
  );
  if (/\d{4}/.test(message) && command !== 'BUY') {
    return say(
      {
        en: `Never send your PIN by SMS. Set or change it only by dialling ${actions.ussdCode}.`,
        sw: `Usitume PIN kwa SMS. Iweke au ibadilishe kwa kupiga ${actions.ussdCode} tu.`,
      },
      language,
    );
  }

  switch (command) {
    case 'REGISTER': {
      const lang: Language = first.toUpperCase() === 'SAJILI' ? 'sw' : language;
      if (customer)
        return say(
          {
            en: `You are already registered. Account ${customer.account_id}.`,
            sw: `Umeshasajiliwa. Akaunti ${customer.account_id}.`,
          },
          lang,
        );
      const name = customerName(argument);
      if (!name)
        return say(
          {
            en: 'Send REGISTER followed by your name, e.g. REGISTER Jane Achieng.',
            sw: 'Tuma SAJILI na jina lako, mfano SAJILI Jane Achieng.',
          },
          lang,
        );
      const result = await actions.register(name);
      return say(
        {
          en: `Welcome! Your account is ${result.accountId}. Dial ${actions.ussdCode} to set your kiosk PIN.`,
          sw: `Karibu! Akaunti yako ni ${result.accountId}. Piga ${actions.ussdCode} kuweka PIN ya kioski.`,
        },
        lang,
      );
    }
    case 'BALANCE':
      if (!customer) return notRegistered;
      return say(
        {
          en: `Balance: ${formatLitres(customer.balance_ml)}. Account ${customer.account_id}.`,
          sw: `Salio: ${formatLitres(customer.balance_ml)}. Akaunti ${customer.account_id}.`,
        },
        language,
      );
    case 'STATUS': {
      if (!customer) return notRegistered;
      const state = customer.status === 'inactive' && !customer.pin_hash ? 'no PIN yet' : customer.status;
      const pinHint = customer.pin_hash ? '' : ` Dial ${actions.ussdCode} to set your PIN.`;
      return say(
        {
          en: `Account ${customer.account_id} (${customer.name}): ${state}, balance ${formatLitres(customer.balance_ml)}.${pinHint}`,
          sw: `Akaunti ${customer.account_id} (${customer.name}): ${state}, salio ${formatLitres(customer.balance_ml)}.${pinHint}`,
        },
        language,
      );
    }
    case 'BUY': {
      if (!customer) return notRegistered;
      const { currency, minMajor, maxMajor } = actions.limits;
      const amount = /^[0-9]{1,9}$/.test(argument) ? Number(argument) : NaN;
      if (!(amount >= minMajor && amount <= maxMajor)) {
        return say(
          {
            en: `Send BUY <amount>, from ${minMajor} to ${maxMajor} ${currency}.`,
            sw: `Tuma NUNUA <kiasi>, kati ya ${minMajor} na ${maxMajor} ${currency}.`,
          },
          language,
        );
      }
      const result = await actions.buy(customer, amount);
      if (result.ok) {
        return say(
          {
            en: `Approve the ${result.provider} prompt for ${currency} ${amount} on your phone.`,
            sw: `Idhinisha ombi la ${result.provider} la ${currency} ${amount} kwenye simu yako.`,
          },
          language,
        );
      }
      return result.reason === 'noProvider'
        ? say(
            {
              en: 'Mobile money on your network is not supported yet.',
              sw: 'Pesa ya simu ya mtandao wako bado haitumiki.',
            },
            language,
          )
        : say(
            {
              en: 'Payment could not be started. Please try again later.',
              sw: 'Malipo hayakuanza. Jaribu tena baadaye.',
            },
            language,
          );
    }
    case 'HELP':
      return help(first.toUpperCase() === 'MSAADA' ? 'sw' : language);
    default:
      return say(
        { en: `Sorry, we did not understand. ${help('en')}`, sw: `Samahani, hatukuelewa. ${help('sw')}` },
        language,
      );
  }
}
