import type { Aedes, AuthenticateError, Client } from 'aedes';
import { DISPENSER_ID_PATTERN, DISPENSER_PUBLISHES, DISPENSER_SUBSCRIBES, dispenserTopic } from '@tusafishe/protocol';
import { verifySecret } from '@tusafishe/protocol/secret-hash';
import { GatewayError } from '../errors.js';
import type { AddressBudget } from '@tusafishe/protocol/address-budget';
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

export type SecretCheck = (secret: string, encodedHash: string) => Promise<boolean>;

/**
 * Dispensers log in with their id as username and client id, and their secret as password,
 * checked by `verify` (the broker's `logins.verify`, which bounds how many hash at once).
 */
export function dispenserAuthenticator(store: Store, verify: SecretCheck = verifySecret): BrokerAuthenticator {
  return async ({ clientId, username, password }) => {
    if (!DISPENSER_ID_PATTERN.test(username)) return null;
    const dispenser = store.dispensers.get(username);
    if (!dispenser) return null;
    if (clientId !== username) return { refused: 'client id must equal the dispenser id' };
    const matches = await verify(password, dispenser.secret_hash).catch((error: unknown) => {
      if (error instanceof GatewayError && error.code === 'BROKER_BUSY') throw error;
      return false;
    });
    return matches ? dispenserPrincipal(dispenser.dispenser_id) : { refused: 'wrong secret' };
  };
}

function authError(message: string, returnCode: AuthenticateError['returnCode']): AuthenticateError {
  return Object.assign(new Error(message), { returnCode });
}

const SERVER_UNAVAILABLE = 3;
const BAD_USERNAME_OR_PASSWORD = 4;

/** How the broker tells the authorizer where a client comes from and that it logged in. */
export interface AuthorizerHooks {
  addressOf(client: Client): string;
  failedLogins: AddressBudget;
  onLoggedIn(client: Client): void;
}

/**
 * The broker's access control: authenticators in order of registration (dispensers
 * first; the UI adds technicians), then a per-topic check of every publish and subscribe.
 */
export class BrokerAuthorizer {
  private readonly authenticators: BrokerAuthenticator[] = [];
  private readonly principals = new WeakMap<Client, BrokerPrincipal>();

  constructor(
    private readonly logger: Logger,
    private readonly hooks: AuthorizerHooks,
  ) {}

  add(authenticator: BrokerAuthenticator): void {
    this.authenticators.push(authenticator);
  }

  attach(aedes: Aedes): void {
    aedes.authenticate = (client, username, password, done) => {
      const address = this.hooks.addressOf(client);
      const refuse = (reason: string, code: AuthenticateError['returnCode']) => {
        this.logger.warn({ client_id: client.id, username, remote: address, reason }, 'broker login refused');
        done(authError(reason, code), false);
      };
      // An address that keeps failing is refused before anything is hashed.
      if (!this.hooks.failedLogins.allows(address)) return refuse('too many refused logins from this address', 5);
      this.authenticate(client, username, password).then(
        (principal) => {
          this.principals.set(client, principal);
          this.hooks.onLoggedIn(client);
          done(null, true);
        },
        (error: Error) => {
          const busy = error instanceof GatewayError && error.code === 'BROKER_BUSY';
          if (!busy) this.hooks.failedLogins.spend(address);
          refuse(error.message, busy ? SERVER_UNAVAILABLE : BAD_USERNAME_OR_PASSWORD);
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
