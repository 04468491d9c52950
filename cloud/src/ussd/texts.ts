import type { Language } from '../customers/customers.js';

/** Every USSD screen in English and Swahili; each rendered screen must fit 160 characters. */
const TEXTS = {
  chooseLanguage: {
    en: 'Welcome to Tusafishe / Karibu\n1. English\n2. Kiswahili',
    sw: 'Welcome to Tusafishe / Karibu\n1. English\n2. Kiswahili',
  },
  invalidChoice: { en: 'Invalid choice.', sw: 'Chaguo si sahihi.' },
  askName: { en: 'Enter your full name:', sw: 'Weka jina lako kamili:' },
  invalidName: { en: 'Name must be 2-40 letters.', sw: 'Jina liwe herufi 2-40.' },
  askPin: { en: 'Choose a 4-digit PIN for the kiosk keypad:', sw: 'Chagua PIN ya tarakimu 4 kwa kioski:' },
  invalidPin: { en: 'PIN must be 4 digits, not all the same.', sw: 'PIN iwe tarakimu 4, zisizofanana zote.' },
  confirmPin: { en: 'Enter the PIN again:', sw: 'Weka PIN tena:' },
  pinMismatch: { en: 'PINs did not match.', sw: 'PIN hazilingani.' },
  registered: {
    en: 'Welcome {name}! Your account is {account}. Use your phone number and PIN at any Tusafishe kiosk.',
    sw: 'Karibu {name}! Akaunti yako ni {account}. Tumia namba ya simu na PIN kwenye kioski cha Tusafishe.',
  },
  alreadyRegistered: {
    en: 'This number is already registered ({account}).',
    sw: 'Namba hii imeshasajiliwa ({account}).',
  },
  mainMenu: {
    en: 'Tusafishe {account}\n1. Balance\n2. Buy water\n3. {pinAction}\n4. Kiswahili',
    sw: 'Tusafishe {account}\n1. Salio\n2. Nunua maji\n3. {pinAction}\n4. English',
  },
  changePinAction: { en: 'Change PIN', sw: 'Badili PIN' },
  setPinAction: { en: 'Set PIN', sw: 'Weka PIN' },
  balance: { en: 'Balance: {litres}. Account {account}.', sw: 'Salio: {litres}. Akaunti {account}.' },
  askAmount: { en: 'Amount in {currency} ({min}-{max}):', sw: 'Kiasi kwa {currency} ({min}-{max}):' },
  invalidAmount: { en: 'Enter a whole number from {min} to {max}.', sw: 'Weka namba kamili kati ya {min} na {max}.' },
  confirmBuy: {
    en: 'Pay {currency} {amount} for {litres} of water?\n1. Confirm\n2. Cancel',
    sw: 'Lipa {currency} {amount} kwa maji {litres}?\n1. Thibitisha\n2. Ghairi',
  },
  confirmBuyWallets: {
    en: 'Pay {currency} {amount} for {litres} of water?\n1. Confirm ({wallet})\n2. Cancel\n3. Pay with {other}',
    sw: 'Lipa {currency} {amount} kwa maji {litres}?\n1. Thibitisha ({wallet})\n2. Ghairi\n3. Lipa kwa {other}',
  },
  paymentStarted: {
    en: 'Approve the {provider} prompt on your phone. We will SMS you when the water credit is added.',
    sw: 'Idhinisha ombi la {provider} kwenye simu yako. Tutakutumia SMS salio likiongezwa.',
  },
  paymentFailed: {
    en: 'Payment could not be started. Please try again later.',
    sw: 'Malipo hayakuanza. Tafadhali jaribu tena baadaye.',
  },
  noProvider: {
    en: 'Mobile money on your network is not supported yet.',
    sw: 'Pesa ya simu ya mtandao wako bado haitumiki.',
  },
  cancelled: { en: 'Cancelled. Nothing was charged.', sw: 'Imeghairiwa. Hakuna malipo.' },
  askOldPin: { en: 'Enter your current PIN:', sw: 'Weka PIN yako ya sasa:' },
  wrongPin: { en: 'Wrong PIN.', sw: 'PIN si sahihi.' },
  askOldPinOrCode: {
    en: 'Enter your current PIN, or the 6-digit reset code we sent by SMS:',
    sw: 'Weka PIN yako ya sasa, au namba ya tarakimu 6 tuliyokutumia kwa SMS:',
  },
  wrongCode: { en: 'Wrong or expired code.', sw: 'Namba si sahihi au imeisha muda.' },
  codeExpired: {
    en: 'That code is no longer valid. Ask Tusafishe for a new one.',
    sw: 'Namba hiyo haitumiki tena. Omba mpya kutoka Tusafishe.',
  },
  tooManyWrongPins: { en: 'Too many wrong PINs. Try again later.', sw: 'Umekosea PIN mara nyingi. Jaribu baadaye.' },
  askNewPin: { en: 'Enter a new 4-digit PIN:', sw: 'Weka PIN mpya ya tarakimu 4:' },
  pinChanged: {
    en: 'Your PIN is set. Use it at any Tusafishe kiosk.',
    sw: 'PIN yako imewekwa. Itumie kwenye kioski chochote cha Tusafishe.',
  },
  languageChanged: { en: 'Language set to English.', sw: 'Lugha imewekwa Kiswahili.' },
  accountSuspended: {
    en: 'Your account is suspended. Please contact Tusafishe.',
    sw: 'Akaunti yako imesimamishwa. Wasiliana na Tusafishe.',
  },
  tryLater: { en: 'Service busy. Please try again shortly.', sw: 'Huduma ina shughuli. Jaribu tena baadaye.' },
} as const satisfies Record<string, Record<Language, string>>;

export type TextKey = keyof typeof TEXTS;

export function text(key: TextKey, language: Language, values: Record<string, string | number> = {}): string {
  return TEXTS[key][language].replace(/\{(\w+)\}/g, (_match, name: string) => String(values[name] ?? ''));
}
