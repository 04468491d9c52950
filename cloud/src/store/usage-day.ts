/**
 * The fleet's usage day — the calendar day in `USAGE_TIMEZONE` that daily limits, a kiosk's daily
 * volume, the volume-anomaly rule and the console's "today" all count in — as one SQL subquery,
 * so that every statement agrees on where a day starts and ends (also across a DST change).
 * Use it as a row source: `WITH today AS (${usageDaySql('$2')}) …`. Its one row has
 * `day` ('YYYY-MM-DD'), `start_ms` and `end_ms` (epoch ms, the end exclusive, comparable with
 * `occurred_at`) and `start_at` (timestamptz).
 *
 * @param zone SQL of the IANA zone name, e.g. a placeholder `$2`.
 * @param at SQL of the instant whose day it is; now() by default.
 */
export function usageDaySql(zone: string, at = 'now()'): string {
  const tz = `(${zone})::text`;
  return `SELECT to_char(local, 'YYYY-MM-DD') AS day,
                 (extract(epoch FROM date_trunc('day', local) AT TIME ZONE ${tz}) * 1000)::bigint AS start_ms,
                 (extract(epoch FROM (date_trunc('day', local) + interval '1 day') AT TIME ZONE ${tz}) * 1000)::bigint AS end_ms,
                 date_trunc('day', local) AT TIME ZONE ${tz} AS start_at
            FROM (SELECT (${at}) AT TIME ZONE ${tz} AS local) usage_now`;
}
