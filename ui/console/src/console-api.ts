import type { ConsoleMe } from '@tusafishe/cloud/console-api';
import { apiRequester } from '../../src/shared/api-request.js';

/** Fired on `window` when the cloud says the session is gone, so the console shows its sign-in form. */
export const SIGNED_OUT_EVENT = 'console-signed-out';

/** Calls `/console/api/…` (JSON; a 401 signs the console out). A page adds its calls as an object like `sessionApi`. */
const consoleRequest = apiRequester({ sessionPath: '/console/api/session', signedOutEvent: SIGNED_OUT_EVENT });

export const sessionApi = {
  me: () => consoleRequest<ConsoleMe>('GET', '/console/api/session'),
  signIn: (username: string, password: string) =>
    consoleRequest<ConsoleMe>('POST', '/console/api/session', { username, password }),
  signOut: () => consoleRequest<{ signed_out: true }>('DELETE', '/console/api/session'),
};
