import { randomUUID } from 'node:crypto';
import Fastify, { type FastifyInstance } from 'fastify';
import formbody from '@fastify/formbody';

type SimulatedStatus = 'PENDING' | 'SUCCESSFUL' | 'FAILED';

export interface SimulatedPayment {
  reference: string;
  msisdn: string;
  amount: string;
  currency: string;
  status: SimulatedStatus;
  transactionId: string | undefined;
  createdAt: number;
  /** Callbacks sent so far (a replay adds one). */
  callbacksSent: number;
}

/** How the simulator delivers the callback when a payment is decided. */
type CallbackMode = 'send' | 'lose';

export interface SimulatorOptions {
  host?: string;
  /** 0 (default) picks a free port. */
  port?: number;
  /** Decide each new payment at once, as if the customer approved or declined on the phone. */
  autoDecide?: 'approve' | 'decline';
}

/** Faults a test or developer can switch on: what a real provider does on a bad day. */
interface SimulatorFaults {
  /** Record new payment requests, then never answer them (the caller times out after we took it). */
  hangAfterAccept: boolean;
  /** Answer new payment requests 500 without recording them (so status queries say "not found"). */
  failRequests: boolean;
}

export interface RunningSimulator {
  url: string;
  payments: Map<string, SimulatedPayment>;
  faults: SimulatorFaults;
  /** Status queries answered, per reference (tests count who asked). */
  statusQueries: Map<string, number>;
  /** Approves or declines a pending payment, as the customer would on the phone. */
  decide(reference: string, approve: boolean, callback?: CallbackMode): Promise<SimulatedPayment>;
  /** Sends the callback for a decided payment again. */
  replayCallback(reference: string): Promise<void>;
  close(): Promise<void>;
}

export interface ProviderBehaviour {
  title: string;
  /** Registers the provider's documented endpoints; `create` records a new pending payment. */
  routes(
    app: FastifyInstance,
    book: {
      create(
        payment: Omit<SimulatedPayment, 'status' | 'transactionId' | 'createdAt' | 'callbacksSent'>,
      ): SimulatedPayment;
      get(reference: string): SimulatedPayment | undefined;
      faults: SimulatorFaults;
      /** Resolves when the simulator closes: how a hung answer ends. */
      hang(): Promise<void>;
      /** Counts a status query for `reference`. */
      queried(reference: string): void;
    },
  ): void;
  sendCallback(payment: SimulatedPayment): Promise<void>;
  /** The provider's transaction id for an approved payment (MoMo's digits, an M-Pesa receipt). */
  newTransactionId?(): string;
  /** More of the developer page (forms for what the provider's own menu does). */
  pageExtra?: string;
}

const escapeHtml = (value: string): string => value.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function page(title: string, payments: SimulatedPayment[], extra = ''): string {
  const rows = payments
    .map((p) => {
      const actions =
        p.status === 'PENDING'
          ? ['approve', 'decline']
              .map(
                (verb) =>
                  `<form method="post" action="/simulator/payments/${p.reference}/${verb}"><button>${verb}</button></form>`,
              )
              .join('') +
            `<form method="post" action="/simulator/payments/${p.reference}/approve?callback=lose"><button>approve, lose callback</button></form>`
          : `<form method="post" action="/simulator/payments/${p.reference}/callback"><button>replay callback</button></form>`;
      return `<tr><td>${escapeHtml(p.reference)}</td><td>${escapeHtml(p.msisdn)}</td><td>${escapeHtml(`${p.currency} ${p.amount}`)}</td><td>${p.status}</td><td>${p.callbacksSent}</td><td>${actions}</td></tr>`;
    })
    .join('');
  return `<!doctype html><meta charset="utf-8"><title>${escapeHtml(title)}</title>
<style>body{font:14px sans-serif;margin:2em}td,th{padding:4px 8px;border-bottom:1px solid #ccc}form{display:inline;margin-right:4px}</style>
<h1>${escapeHtml(title)}</h1><p>Pending payments wait for you, as for a customer's phone prompt. <a href="/simulator">refresh</a></p>
<table><tr><th>reference</th><th>phone</th><th>amount</th><th>status</th><th>callbacks</th><th></th></tr>${rows}</table>${extra}`;
}

/**
 * A local stand-in for a mobile-money provider: the provider's documented API on loopback,
 * plus a developer control surface (GET /simulator page, POST /simulator/payments/:ref/approve|decline
 * with ?callback=send|lose, POST /simulator/payments/:ref/callback to replay, GET /simulator/payments).
 */
export async function startSimulator(
  behaviour: ProviderBehaviour,
  options: SimulatorOptions,
): Promise<RunningSimulator> {
  const payments = new Map<string, SimulatedPayment>();
  const faults: SimulatorFaults = { hangAfterAccept: false, failRequests: false };
  const statusQueries = new Map<string, number>();
  let release: () => void = () => undefined;
  const closed = new Promise<void>((resolve) => {
    release = resolve;
  });
  const app = Fastify({ logger: false, forceCloseConnections: true });
  await app.register(formbody);

  const deliver = async (payment: SimulatedPayment): Promise<void> => {
    payment.callbacksSent += 1;
    await behaviour.sendCallback(payment).catch(() => undefined);
  };
  const decide = async (
    reference: string,
    approve: boolean,
    callback: CallbackMode = 'send',
  ): Promise<SimulatedPayment> => {
    const payment = payments.get(reference);
    if (!payment) throw new Error(`no simulated payment ${reference}`);
    if (payment.status === 'PENDING') {
      payment.status = approve ? 'SUCCESSFUL' : 'FAILED';
      payment.transactionId = approve
        ? (behaviour.newTransactionId?.() ??
          String(Date.now()) + String(Math.floor(Math.random() * 1e6)).padStart(6, '0'))
        : undefined;
      if (callback === 'send') await deliver(payment);
    }
    return payment;
  };

  behaviour.routes(app, {
    create(input) {
      const payment: SimulatedPayment = {
        ...input,
        status: 'PENDING',
        transactionId: undefined,
        createdAt: Date.now(),
        callbacksSent: 0,
      };
      payments.set(payment.reference, payment);
      if (options.autoDecide) setImmediate(() => void decide(payment.reference, options.autoDecide === 'approve'));
      return payment;
    },
    get: (reference) => payments.get(reference),
    faults,
    hang: () => closed,
    queried: (reference) => statusQueries.set(reference, (statusQueries.get(reference) ?? 0) + 1),
  });

  const afterAction = (accept: string | undefined): boolean => Boolean(accept?.includes('text/html'));
  app.get('/simulator', async (_request, reply) =>
    reply.type('text/html').send(page(behaviour.title, [...payments.values()].reverse(), behaviour.pageExtra)),
  );
  app.get('/simulator/payments', async () => [...payments.values()]);
  app.post<{ Params: { reference: string; verb: string }; Querystring: { callback?: string } }>(
    '/simulator/payments/:reference/:verb',
    async (request, reply) => {
      const { reference, verb } = request.params;
      if (!payments.has(reference)) return reply.code(404).send({ error: 'unknown payment' });
      if (verb === 'callback') await replayCallback(reference);
      else if (verb === 'approve' || verb === 'decline')
        await decide(reference, verb === 'approve', request.query.callback === 'lose' ? 'lose' : 'send');
      else return reply.code(404).send({ error: 'unknown action' });
      return afterAction(request.headers.accept) ? reply.redirect('/simulator', 303) : payments.get(reference);
    },
  );

  async function replayCallback(reference: string): Promise<void> {
    const payment = payments.get(reference);
    if (payment && payment.status !== 'PENDING') await deliver(payment);
  }

  await app.listen({ host: options.host ?? '127.0.0.1', port: options.port ?? 0 });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `http://${options.host ?? '127.0.0.1'}:${port}`,
    payments,
    faults,
    statusQueries,
    decide,
    replayCallback,
    async close() {
      release();
      await app.close();
    },
  };
}

export const newToken = (): string => randomUUID().replace(/-/g, '');
