import type { CustomerRecord, LedgerEvent } from '@tusafishe/protocol';
import { CustomerReplica, type CloudBalance } from './customers.js';
import { openDatabase, type Db } from './database.js';
import { Dispensers } from './dispensers.js';
import { FollowedCustomers } from './followed-customers.js';
import { GroupCommit, walSync } from './group-commit.js';
import { KioskState } from './kiosk-state.js';
import { Ledger } from './ledger.js';
import { PinFailures } from './pin-failures.js';
import { Holds } from './holds.js';
import { RefusedCompletions } from './refused-completions.js';
import { StorageGuard } from './storage-guard.js';
import { TokenRedemptions } from './token-redemptions.js';

/** The gateway's one SQLite file, with a repository per table group. */
export class Store {
  readonly customers: CustomerReplica;
  readonly followed: FollowedCustomers;
  readonly ledger: Ledger;
  readonly holds: Holds;
  readonly dispensers: Dispensers;
  readonly pinFailures: PinFailures;
  readonly kioskState: KioskState;
  readonly refusedCompletions: RefusedCompletions;
  readonly tokenRedemptions: TokenRedemptions;
  /** Disk full / fsync failure; null for a store opened without its data directory (read-only inspection). */
  readonly storage: StorageGuard | null;
  private readonly groupCommit: GroupCommit;

  constructor(
    readonly db: Db,
    dataDir?: string,
  ) {
    this.storage = dataDir === undefined ? null : new StorageGuard(db, dataDir);
    this.groupCommit = new GroupCommit(db, walSync(db), this.storage ?? undefined);
    this.customers = new CustomerReplica(db);
    this.followed = new FollowedCustomers(db);
    this.ledger = new Ledger(db);
    this.holds = new Holds(db);
    this.dispensers = new Dispensers(db);
    this.pinFailures = new PinFailures(db);
    this.kioskState = new KioskState(db);
    this.refusedCompletions = new RefusedCompletions(db);
    this.tokenRedemptions = new TokenRedemptions(db);
  }

  static open(dataDir: string): Store {
    return new Store(openDatabase(dataDir), dataDir);
  }

  /** Runs `work` in one SQLite transaction (committed to disk before it returns). */
  transaction<T>(work: () => T): T {
    return this.db.transaction(work)();
  }

  /**
   * Runs `work` atomically in the next group commit, shared with the other writes of this
   * event-loop turn; resolves once it is on disk. For the hot path (dispense flow).
   */
  write<T>(work: () => T): Promise<T> {
    return this.groupCommit.run(work);
  }

  /** Cloud balance + this kiosk's unacknowledged balance events − open holds (ARCHITECTURE §3). */
  availableBalanceMl(customer: Pick<CustomerRecord, 'account_id' | 'balance_ml'>, now: number): number {
    return (
      customer.balance_ml +
      this.ledger.unackedBalanceMl(customer.account_id) -
      this.holds.heldMlFor(customer.account_id, now)
    );
  }

  // --- Sync seams: the sync worker builds on these. ---

  /** Upserts a page of cloud customer records (by account_id, newer versions win). */
  applyCustomerRecords(records: readonly CustomerRecord[]): number {
    return this.customers.applyRecords(records);
  }

  /** Oldest unacknowledged ledger events, for a push batch. */
  unacknowledgedEvents(limit: number): LedgerEvent[] {
    return this.ledger.unacknowledged(limit);
  }

  /**
   * Marks pushed events acknowledged and applies the balances the cloud returned with
   * them, in one transaction, so no event counts twice or not at all in the available balance.
   */
  acknowledgeEvents(eventIds: readonly string[], balances: readonly CloudBalance[] = []): number {
    return this.transaction(() => {
      const changed = this.ledger.acknowledge(eventIds);
      this.customers.applyBalances(balances);
      return changed;
    });
  }

  setLastCloudContact(at: number): void {
    this.kioskState.setLastCloudContact(at);
  }

  lastCloudContact(): number | null {
    return this.kioskState.lastCloudContact();
  }

  close(): void {
    this.storage?.close();
    this.groupCommit.close();
    this.db.close();
  }
}

export type { CloudBalance };
