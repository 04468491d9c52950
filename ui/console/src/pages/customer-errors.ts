import { explainError } from '../console-api.js';

/** What an agent should read for the customer-service API's error codes (the API's own message follows). */
const EXPLAINED: Record<string, string> = {
  CORRECTION_OVER_CAP: 'Refused: this correction is over your cap. Ask an admin to make it.',
  ALREADY_REVERSED: 'Refused: this dispense has already been reversed.',
  UNKNOWN_EVENT: 'Refused: no such dispense on this account.',
  UNKNOWN_ACCOUNT: 'No customer with this account id.',
  WRONG_CODE: 'Wrong or expired code: ask the customer to read it again, or send a new one.',
  ALREADY_REGISTERED: 'Refused: that number already belongs to another account.',
  INVALID_CONFIG: 'Refused: not a phone number the kiosks accept.',
  ROLE_FORBIDDEN: 'Your role may not do this.',
  INVALID_CSV: 'Not a customers file the import reads.',
  FST_ERR_VALIDATION: 'Check the form.',
};

/** A failed call as one readable line: what it means for the agent, then the API's own words. */
export const describeError = (error: unknown): string => explainError(error, EXPLAINED);
