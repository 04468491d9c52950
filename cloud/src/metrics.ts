import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** One registry per cloud instance, so several instances can run in one process (tests). */
export class CloudMetrics {
  readonly registry = new Registry();
  readonly httpDuration = new Histogram({
    name: 'tusafishe_http_request_duration_seconds',
    help: 'HTTP request duration by route and status',
    labelNames: ['route', 'method', 'status'],
    buckets: [0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.25, 0.5, 1, 5, 30],
    registers: [this.registry],
  });
  readonly ussdScreens = new Counter({
    name: 'tusafishe_ussd_screens_total',
    help: 'USSD screens served',
    labelNames: ['kind'],
    registers: [this.registry],
  });
  readonly smsInbound = new Counter({
    name: 'tusafishe_sms_inbound_total',
    help: 'Inbound SMS by outcome',
    labelNames: ['outcome'],
    registers: [this.registry],
  });
  readonly eventsAcked = new Counter({
    name: 'tusafishe_ledger_events_acked_total',
    help: 'Kiosk events acknowledged (new or already held)',
    registers: [this.registry],
  });
  readonly eventsRejected = new Counter({
    name: 'tusafishe_ledger_events_rejected_total',
    help: 'Kiosk events rejected',
    labelNames: ['code'],
    registers: [this.registry],
  });
  readonly kioskVolumeFlags = new Counter({
    name: 'tusafishe_kiosk_volume_flags_total',
    help: 'Kiosks flagged for dispensing more on one day than the alert threshold',
    registers: [this.registry],
  });
  readonly payments = new Counter({
    name: 'tusafishe_payments_total',
    help: 'Payments by provider and final status',
    labelNames: ['provider', 'status'],
    registers: [this.registry],
  });
  readonly changeFeedQueries = new Counter({
    name: 'tusafishe_change_feed_queries_total',
    help: "Database queries of the kiosks' change feed: tail (one read per change, for every kiosk), behind (a kiosk further back than the tail), cursor (checking a cursor), horizon (finding the versions no running change can still commit below)",
    labelNames: ['query'],
    registers: [this.registry],
  });
  readonly changeFeedPagesBuilt = new Counter({
    name: 'tusafishe_change_feed_pages_built_total',
    help: "Pull answers the kiosks' change feed built; kiosks asking for the same page share one (fewer than the pulls answered)",
    registers: [this.registry],
  });
  readonly changeFeedBytesSent = new Counter({
    name: 'tusafishe_change_feed_bytes_sent_total',
    help: "Bytes of change-feed pages sent to kiosks, by encoding (gzip or identity): the kiosks' mobile data for other kiosks' changes",
    labelNames: ['encoding'],
    registers: [this.registry],
  });
  readonly exclusiveJobRuns = new Counter({
    name: 'tusafishe_exclusive_job_runs_total',
    help: 'Ticks of jobs that run on one instance at a time: ran here, skipped (another instance holds the job), failed',
    labelNames: ['job', 'outcome'],
    registers: [this.registry],
  });
  readonly negativeBalances: Gauge;

  constructor(countNegativeBalances: () => Promise<number>) {
    collectDefaultMetrics({ register: this.registry });
    this.negativeBalances = new Gauge({
      name: 'tusafishe_negative_balances',
      help: 'Customers whose merged balance is below zero (offline overspend to recover)',
      registers: [this.registry],
      async collect() {
        this.set(await countNegativeBalances());
      },
    });
  }
}
