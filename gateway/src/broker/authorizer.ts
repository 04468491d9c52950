import type { Aedes, AuthenticateError, Client } from 'aedes';
import { DISPENSER_ID_PATTERN, DISPENSER_PUBLISHES, DISPENSER_SUBSCRIBES, dispenserTopic } from '@tusafishe/protocol';
import { verifySecret } from '@tusafishe/protocol/secret-hash';
import type { Logger } from 'pino';
import type { Store } from '../store/store.js';

/** Who an authenticated broker client is and what it may touch. */
export interface BrokerPrincipal {
  kind: string;
  id: string;
  mayPublish(topic: string): boolean;
  maySubscribe(filter: string): boolean;
}

interface BrokerCredentials {
  clientId: string;
  username: string;
  password: string;
}

/**
 * Recognises one kind of client. Returns its principal, `{ refused }` when the
 * credentials are this kind's but wrong, or null to let the next authenticator try.
 */
export type BrokerAuthenticator = (
  credentials: BrokerCredentials,
) => Promise<BrokerPrincipal | { refused: string } | null>;

/** A dispenser may touch only its own topic tree, and only the leaves of its role. */
function dispenserPrincipal(dispenserId: string): BrokerPrincipal {
  const publishes = new Set<string>(DISPENSER_PUBLISHES.map((leaf) => dispenserTopic(dispenserId, leaf)));
  const subscribes = new Set<string>(DISPENSER_SUBSCRIBES.map((leaf) => dispenserTopic(dispenserId, leaf)));
  return {
    kind: 'dispenser',
    id: dispenserId,
    mayPublish: (topic) => publishes.has(topic),
    maySubscribe: (filter) => subscribes.has(filter),
  };
}

/** Dispensers log in with their id as username and client id, and their secret as password. */
export function dispenserAuthenticator(store: Store): BrokerAuthenticator {
  return async ({ clientId, username, password }) => {
    if (!DISPENSER_ID_PATTERN.test(username)) return null;
    const dispenser = store.dispensers.get(username);
    if (!dispenser) return null;
    if (clientId !== username) return { refused: 'client id must equal the dispenser id' };
    const matches = await verifySecret(password, dispenser.secret_hash).catch(() => false);
    return matches ? dispenserPrincipal(dispenser.dispenser_id) : { refused: 'wrong secret' };
  };
}

function authError(message: string, returnCode: AuthenticateError['returnCode']): AuthenticateError {
  return Object.assign(new Error(message), { returnCode });
}

const BAD_USERNAME_OR_PASSWORD = 4;

/**
 * The broker's access control: authenticators in order of registration (dispensers
 * first; the UI adds technicians), then a per-topic check of every publish and subscribe.
 */
export class BrokerAuthorizer {
  private readonly authenticators: BrokerAuthenticator[] = [];
  private readonly principals = new WeakMap<Client, BrokerPrincipal>();

  constructor(private readonly logger: Logger) {}

  add(authenticator: BrokerAuthenticator): void {
    this.authenticators.push(authenticator);
  }

  attach(aedes: Aedes): void {
    aedes.authenticate = (client, username, password, done) => {
      this.authenticate(client, username, password).then(
        (principal) => {
          this.principals.set(client, principal);
          done(null, true);
        },
        (error: Error) => {
          this.logger.warn({ client_id: client.id, username, reason: error.message }, 'broker login refused');
          done(authError(error.message, BAD_USERNAME_OR_PASSWORD), false);
        },
      );
    };
    aedes.authorizePublish = (client, packet, done) => {
      const principal = client && this.principals.get(client);
      if (!client || principal?.mayPublish(packet.topic)) return done(null);
      this.logger.warn({ client_id: client.id, topic: packet.topic }, 'broker publish refused');
      done(new Error(`publish to ${packet.topic} not allowed`));
    };
    aedes.authorizeSubscribe = (client, subscription, done) => {
      const principal = this.principals.get(client);
      if (principal?.maySubscribe(subscription.topic)) return done(null, subscription);
      this.logger.warn({ client_id: client.id, topic: subscription.topic }, 'broker subscribe refused');
      // A null subscription answers the SUBSCRIBE with a failure code and keeps the client connected.
      done(null, null);
    };
  }

  private async authenticate(
    client: Client,
    username: string | undefined,
    password: Buffer | undefined,
  ): Promise<BrokerPrincipal> {
    if (!username || !password) throw new Error('username and password required');
    const credentials = { clientId: client.id, username, password: password.toString('utf8') };
    for (const authenticator of this.authenticators) {
      const result = await authenticator(credentials);
      if (result === null) continue;
      if ('refused' in result) throw new Error(result.refused);
      return result;
    }
    throw new Error('unknown user');
  }
}
