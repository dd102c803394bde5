import { afterCommit, commitSent, type Db } from '../db/database.ts';
import type { LedgerEntryKind } from '../modules/billing/billing.tables.ts';

/** What happened to an activation; the payload every listener (webhooks, live pushes, long-poll) gets. */
export interface ActivationEvent {
  type: 'activation.created' | 'activation.sms_received' | 'activation.completed' | 'activation.cancelled' | 'activation.expired' | 'activation.reported';
  activationId: number;
  companyId: number;
  accountId: number;
  status: string;
  at: Date;
  /**
   * On the `sms_received` event of the SMS that brought the activation its first code: when
   * that SMS was received (metrics: SMS arrival → code latency is `at` minus this).
   */
  codeSmsReceivedAt?: Date;
}

/** A company's balance after a change (webhooks use it for `balance.low`). */
export interface BalanceEvent {
  type: 'balance.changed';
  companyId: number;
  balance: number;
  /** The ledger entry that changed it (metrics count purchases and refunds from these); amount in 1/10000 USD, signed. */
  entry: { kind: LedgerEntryKind; amount: number };
  at: Date;
}

/** What happened to a rental (issue 11): webhooks and the rentals long-poll listen. */
export interface RentalEvent {
  type: 'rental.created' | 'rental.message_received' | 'rental.extended' | 'rental.finished' | 'rental.cancelled' | 'rental.expired';
  rentalId: number;
  companyId: number;
  accountId: number;
  status: string;
  at: Date;
  /** On `rental.message_received`: the SMS that arrived (its id in the rental's messages). */
  messageId?: number;
}

export type DomainEvent = ActivationEvent | BalanceEvent | RentalEvent;

type TransactionListener = (tx: Db, event: DomainEvent) => Promise<void>;
/**
 * Told before a change what its event will be (type and company): true when the listener is sure
 * it will write nothing in the transaction for it (what it knows from memory says so).
 */
type WritesNothingFor = (event: Pick<DomainEvent, 'type' | 'companyId'>) => boolean;
/** May return a promise (a publish to other instances): the transaction's caller waits for it, briefly. */
type CommitListener = (event: DomainEvent) => void | Promise<void>;

/**
 * The seam between the modules that change state and those that react to it. A service records
 * an event inside the transaction that made the change. `onTransaction` listeners run right
 * there (a durable outbox writes its row in that transaction, so an event is never lost nor
 * sent for a change that rolled back); `onCommitted` listeners run once it has committed (live
 * pushes, which must not show what may still roll back).
 */
export interface DomainEvents {
  /** `writesNothingFor`: see writesNothingFor below; without it the listener may always write. */
  onTransaction(listener: TransactionListener, writesNothingFor?: WritesNothingFor): void;
  onCommitted(listener: CommitListener): void;
  record(tx: Db, event: DomainEvent): Promise<void>;
  /**
   * True when no transaction listener will write anything for this event, so the statement that
   * makes the change may be its transaction's last (lastStatementOf: its COMMIT goes out with it).
   * Recording the event in a transaction whose COMMIT went out runs no transaction listener: each
   * of them said, just before, that it had nothing to write.
   */
  writesNothingFor(event: Pick<DomainEvent, 'type' | 'companyId'>): boolean;
}

export function createDomainEvents(): DomainEvents {
  const transactionListeners: { listener: TransactionListener; writesNothingFor?: WritesNothingFor }[] = [];
  const commitListeners: CommitListener[] = [];
  return {
    onTransaction: (listener, writesNothingFor) => void transactionListeners.push({ listener, writesNothingFor }),
    onCommitted: (listener) => void commitListeners.push(listener),
    writesNothingFor: (event) => transactionListeners.every(({ writesNothingFor }) => writesNothingFor?.(event) === true),
    async record(tx, event) {
      if (!commitSent(tx)) for (const { listener } of transactionListeners) await listener(tx, event);
      if (commitListeners.length === 0) return;
      afterCommit(tx, async () => {
        const pending: Promise<void>[] = [];
        for (const listener of commitListeners) {
          try {
            const outcome = listener(event);
            if (outcome) pending.push(outcome.catch(() => {}));
          } catch {
            // One broken live listener must not keep the event from the others.
          }
        }
        await Promise.all(pending);
      });
    },
  };
}
