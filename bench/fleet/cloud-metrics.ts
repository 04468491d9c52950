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

export async function sampleCloud(instanceUrl: string): Promise<CloudSample> {
  const text = await (await fetch(`${instanceUrl}/metrics`)).text();
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
  before: CloudSample[],
  after: CloudSample[],
  withinS: number,
): { count: number; withinPct: number | null; p99AtMostMs: number | null } {
  const window = new Map<number, number>();
  after.forEach((sample, i) => {
    for (const [le, n] of sample.pushBuckets)
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
export function feedQueriesPerS(before: CloudSample[], after: CloudSample[], seconds: number): Record<string, number> {
  const rates: Record<string, number> = {};
  after.forEach((sample, i) => {
    for (const [query, n] of sample.feedQueries)
      rates[query] = (rates[query] ?? 0) + (n - (before[i]!.feedQueries.get(query) ?? 0)) / seconds;
  });
  return Object.fromEntries(Object.entries(rates).map(([query, rate]) => [query, Math.round(rate * 10) / 10]));
}
