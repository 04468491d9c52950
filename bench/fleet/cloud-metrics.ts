/**
 * What each cloud instance says of itself on /metrics, sampled at both ends of the window: how long
 * it took to answer pushes (from the request's arrival to its answer, so without the load
 * generator's own queueing) and its event loop's delay (prom-client resets it at every scrape).
 */
import { SYNC_PATHS } from '@tusafishe/protocol';

export interface CloudSample {
  /** Push answers by upper bound in seconds (cumulative, every status). */
  pushBuckets: Map<number, number>;
  loopP99S: number;
  /** The change feed's database queries so far, by kind (tail, behind, cursor, horizon). */
  feedQueries: Map<string, number>;
}

const SAMPLE = /^(\w+)\{([^}]*)\} (\S+)$/;

function labelsOf(text: string): Record<string, string> {
  return Object.fromEntries([...text.matchAll(/(\w+)="([^"]*)"/g)].map((match) => [match[1]!, match[2]!]));
}

/** Tries before a sample is given up (an overloaded cloud, 5,000 kiosks connecting): its figures are then unknown. */
const SAMPLE_TRIES = 3;

export async function sampleCloud(instanceUrl: string): Promise<CloudSample | undefined> {
  for (let attempt = 1; attempt <= SAMPLE_TRIES; attempt++) {
    try {
      const response = await fetch(`${instanceUrl}/metrics`, { signal: AbortSignal.timeout(30_000) });
      return parseSample(await response.text());
    } catch (error) {
      process.stderr.write(`[fleet] ${instanceUrl}/metrics: ${(error as Error).message} (try ${attempt})\n`);
    }
  }
  return undefined;
}

function parseSample(text: string): CloudSample {
  const pushBuckets = new Map<number, number>();
  const feedQueries = new Map<string, number>();
  let loopP99S = 0;
  for (const line of text.split('\n')) {
    if (line.startsWith('nodejs_eventloop_lag_p99_seconds ')) loopP99S = Number(line.split(' ')[1]);
    const [, name, labelText, value] = SAMPLE.exec(line) ?? [];
    if (name === 'tusafishe_change_feed_queries_total') {
      const query = labelsOf(labelText!)['query']!;
      feedQueries.set(query, (feedQueries.get(query) ?? 0) + Number(value));
    }
    if (name !== 'tusafishe_http_request_duration_seconds_bucket') continue;
    const labels = labelsOf(labelText!);
    if (labels['route'] !== SYNC_PATHS.events || labels['method'] !== 'POST') continue;
    const le = labels['le'] === '+Inf' ? Number.POSITIVE_INFINITY : Number(labels['le']);
    pushBuckets.set(le, (pushBuckets.get(le) ?? 0) + Number(value));
  }
  return { pushBuckets, loopP99S, feedQueries };
}

/** The window's pushes as every instance answered them: the share within `withinS`, and the bucket p99 falls in. */
export function serverPushes(
  before: (CloudSample | undefined)[],
  after: (CloudSample | undefined)[],
  withinS: number,
): { count: number; withinPct: number | null; p99AtMostMs: number | null } {
  if (before.includes(undefined) || after.includes(undefined)) return { count: 0, withinPct: null, p99AtMostMs: null };
  const window = new Map<number, number>();
  after.forEach((sample, i) => {
    for (const [le, n] of sample!.pushBuckets)
      window.set(le, (window.get(le) ?? 0) + n - (before[i]!.pushBuckets.get(le) ?? 0));
  });
  const count = window.get(Number.POSITIVE_INFINITY) ?? 0;
  if (count === 0) return { count, withinPct: null, p99AtMostMs: null };
  const bounds = [...window.keys()].sort((a, b) => a - b);
  const p99 = bounds.find((le) => window.get(le)! >= count * 0.99)!;
  return {
    count,
    withinPct: Math.round(((window.get(withinS) ?? 0) / count) * 1000) / 10,
    p99AtMostMs: Number.isFinite(p99) ? p99 * 1000 : null,
  };
}

/** The change feed's database queries a second over the window, by kind, summed over the instances. */
export function feedQueriesPerS(
  before: (CloudSample | undefined)[],
  after: (CloudSample | undefined)[],
  seconds: number,
): Record<string, number> | null {
  if (before.includes(undefined) || after.includes(undefined)) return null;
  const rates: Record<string, number> = {};
  after.forEach((sample, i) => {
    for (const [query, n] of sample!.feedQueries)
      rates[query] = (rates[query] ?? 0) + (n - (before[i]!.feedQueries.get(query) ?? 0)) / seconds;
  });
  return Object.fromEntries(Object.entries(rates).map(([query, rate]) => [query, Math.round(rate * 10) / 10]));
}
