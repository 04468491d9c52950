import type { CustomerRecord } from '@tusafishe/protocol';
import type { FeedChange } from '../customers/customers.js';
import { type BalanceFilter, isSent } from './feed-filter.js';

export interface TailPage {
  customers: CustomerRecord[];
  /** Each record as JSON, serialised once when it was read: pages are joined from these. */
  json: string[];
  hasMore: boolean;
  /**
   * Every change up to here was looked at: the last record's version with more to come, else the
   * page's end. A filtered page's cursor, so a kiosk sent nothing moves on (`ChangeFeed`).
   */
  through: number;
}

/**
 * The most recent customer changes in memory, by version: what `SELECT … WHERE version > $after
 * ORDER BY version` returns for any `after` from `floor` up, as of the last read at `head`.
 * A customer changed again keeps only its newest entry, as the table keeps only its newest row.
 */
export class CustomerTail {
  private versions: number[] = [];
  private changes: FeedChange[] = [];
  private json: string[] = [];
  /** account_id → its newest version held; an entry whose version differs is superseded. */
  private readonly newest = new Map<string, number>();
  /** Every change after `floor` and up to `head` is held (or superseded by a newer one held). */
  floor: number;
  head: number;

  constructor(
    private readonly capacity: number,
    start: number,
  ) {
    this.floor = start;
    this.head = start;
  }

  /** Changes read after `head`, oldest first. */
  append(changes: readonly FeedChange[]): void {
    for (const change of changes) {
      const { record } = change;
      if (record.version <= this.head) throw new Error(`change ${record.version} is not after ${this.head}`);
      this.versions.push(record.version);
      this.changes.push(change);
      this.json.push(JSON.stringify(record));
      this.newest.set(record.account_id, record.version);
      this.head = record.version;
    }
    // Trimmed in chunks, so appending stays O(1) amortised.
    if (this.versions.length > this.capacity * 1.5) this.trim();
  }

  covers(after: number): boolean {
    return after >= this.floor && after <= this.head;
  }

  /**
   * Up to `limit` current records changed after `after` and at most `upTo` (`covers(after)` must
   * hold), those `filter` sends only. A record superseded by a change above `upTo` is left out:
   * that change comes later.
   */
  page(after: number, limit: number, upTo = this.head, filter?: BalanceFilter): TailPage {
    const customers: CustomerRecord[] = [];
    const json: string[] = [];
    const take = (i: number): void => {
      customers.push(this.changes[i]!.record);
      json.push(this.json[i]!);
    };
    let i = this.firstAfter(after);
    for (; i < this.versions.length && this.versions[i]! <= upTo; i += 1) {
      if (!this.isCurrent(i) || !isSent(this.changes[i]!, after, filter)) continue;
      if (customers.length === limit) break;
      take(i);
    }
    const hasMore = i < this.versions.length && this.versions[i]! <= upTo;
    const through = hasMore ? customers.at(-1)!.version : Math.min(upTo, this.head);
    if (filter) for (const early of this.profilesBeyond(after, through)) take(early);
    return { customers, json, hasMore, through };
  }

  /**
   * Entries above `through` whose customer's profile changed after `after` and by `through`: the
   * page holds no record of theirs (their newest change is above it), and a cursor moved to
   * `through` would never send them that profile, to a kiosk that does not follow them. Sent
   * early, at their newest version: a replica keeps a customer's newest record.
   */
  private profilesBeyond(after: number, through: number): number[] {
    const early: number[] = [];
    for (let i = this.firstAfter(through); i < this.versions.length; i += 1) {
      const profile = this.changes[i]!.profileVersion;
      if (profile > after && profile <= through && this.isCurrent(i)) early.push(i);
    }
    return early;
  }

  private isCurrent(i: number): boolean {
    return this.newest.get(this.changes[i]!.record.account_id) === this.versions[i];
  }

  /** Index of the first entry with a version above `after` (binary search). */
  private firstAfter(after: number): number {
    let low = 0;
    let high = this.versions.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if (this.versions[mid]! <= after) low = mid + 1;
      else high = mid;
    }
    return low;
  }

  /** Drops superseded entries, then the oldest current ones beyond `capacity` (raising `floor`). */
  private trim(): void {
    const keep = this.versions.map((_, i) => i).filter((i) => this.isCurrent(i));
    const drop = Math.max(0, keep.length - this.capacity);
    for (const i of keep.slice(0, drop)) {
      this.newest.delete(this.changes[i]!.record.account_id);
      this.floor = this.versions[i]!;
    }
    const kept = keep.slice(drop);
    this.versions = kept.map((i) => this.versions[i]!);
    this.changes = kept.map((i) => this.changes[i]!);
    this.json = kept.map((i) => this.json[i]!);
  }
}
