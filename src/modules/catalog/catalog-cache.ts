import { cacheChannel, CoherentCache } from '../../cache/coherent-cache.ts';
import { afterCommit, type Database, type Db } from '../../db/database.ts';
import type { PubSub } from '../../events/pubsub.ts';
import type { Money } from '../billing/money.ts';
import * as repo from './catalog.repo.ts';

/**
 * Services, countries and prices as customers see them, held in memory: every request reads
 * them (each GET /prices, each purchase's price) and they change only when staff or a job change
 * the catalog. Every such change goes through the catalog module's services, which announce it
 * after commit on `catalogChannel`; each instance then drops its copy and reads the whole catalog
 * again at the next request (a few small tables, one read per change).
 */

/** Channel of catalog changes; any message means "read the catalog again". */
export const catalogChannel = 'catalog';

/**
 * A safety net, not the coherence mechanism: a change announced where this instance cannot hear
 * it (an operator CLI run against PostgreSQL without REDIS_URL) shows within this long.
 */
export const catalogMaxAgeMs = 5_000;

export interface CatalogSnapshot {
  /** Services on sale, by code (the database's order, as the list always was). */
  services: readonly { code: string; name: string }[];
  /** Countries on sale, by id. */
  countries: readonly { id: number; name: string; iso: string; dialPrefix: string }[];
  /** Prices of pairs whose service and country are both on sale, by service then country. */
  prices: readonly { serviceCode: string; countryId: number; price: Money }[];
  /** `service:country` → price, for the pairs of `prices`. */
  salePrice: ReadonlyMap<string, Money>;
  /** `service:country:operator` → that operator's price. */
  operatorPrice: ReadonlyMap<string, Money>;
  /** `country:operator` → whether the operator is on sale (absent: not a known operator). */
  operatorEnabled: ReadonlyMap<string, boolean>;
  serviceOnSale: ReadonlySet<string>;
  countryOnSale: ReadonlySet<number>;
}

export interface CatalogCache {
  snapshot(): Promise<CatalogSnapshot>;
  /** The snapshot when memory holds it (no promise), or undefined: then `snapshot()`. */
  snapshotHeld(): CatalogSnapshot | undefined;
  /**
   * The catalog changes in `tx`: once it commits, this instance drops its copy and every other
   * instance is told (the transaction's caller waits for the message to be on its way, so the
   * request that made the change answers only after every instance will read the new catalog).
   */
  changedIn(tx: Db): void;
  /** Same, for a change already committed (seeding writes outside a transaction). */
  changed(): Promise<void>;
  /** How many times this instance read the catalog from the database (tests, metrics). */
  loads(): number;
}

const pairKey = (serviceCode: string, countryId: number) => `${serviceCode}:${countryId}`;

async function loadSnapshot(db: Db): Promise<CatalogSnapshot> {
  const [services, countries, prices, operatorPrices, operators] = await Promise.all([
    repo.listAllServices(db),
    repo.listAllCountries(db),
    repo.listAllPrices(db),
    repo.listOperatorPrices(db),
    repo.listAllOperators(db),
  ]);
  const serviceOnSale = new Set(services.filter((s) => s.enabled).map((s) => s.code));
  const countryOnSale = new Set(countries.filter((c) => c.enabled).map((c) => c.id));
  const onSale = prices
    .filter((p) => serviceOnSale.has(p.serviceCode) && countryOnSale.has(p.countryId))
    .map(({ serviceCode, countryId, price }) => Object.freeze({ serviceCode, countryId, price }));
  // Frozen: every request shares these objects, so a caller that edited one would edit them for all.
  return {
    services: Object.freeze(services.filter((s) => s.enabled).map(({ code, name }) => Object.freeze({ code, name }))),
    countries: Object.freeze(
      countries.filter((c) => c.enabled).map(({ id, name, iso, dialPrefix }) => Object.freeze({ id, name, iso, dialPrefix })),
    ),
    prices: Object.freeze(onSale),
    salePrice: new Map(onSale.map((p) => [pairKey(p.serviceCode, p.countryId), p.price])),
    operatorPrice: new Map(operatorPrices.map((op) => [`${pairKey(op.serviceCode, op.countryId)}:${op.operator}`, op.price])),
    operatorEnabled: new Map(operators.map((op) => [`${op.countryId}:${op.code}`, op.enabled])),
    serviceOnSale,
    countryOnSale,
  };
}

export function createCatalogCache(deps: { database: Database; pubsub: PubSub }): CatalogCache {
  const { database, pubsub } = deps;
  // One entry: the whole catalog. Any change drops it (changes are rare; a finer key buys nothing).
  const channel = cacheChannel(pubsub, catalogChannel, () => cache.clear());
  const cache = new CoherentCache<'catalog', CatalogSnapshot>({ maxEntries: 1, maxAgeMs: catalogMaxAgeMs, delivery: channel.delivery });
  let loads = 0;
  // One announcement per transaction, however many rows it changed.
  const announced = new WeakSet<object>();

  async function announce(): Promise<void> {
    // Dropped here first: our own copy of the message may come back from Redis after this
    // request has answered, and the next request on this instance must see the change.
    cache.clear();
    await pubsub.publish(catalogChannel, JSON.stringify({ publishedAt: Date.now() })).catch(() => {});
  }

  return {
    snapshotHeld: () => cache.getHeld('catalog'),
    snapshot: () =>
      cache.get('catalog', () => {
        loads++;
        return loadSnapshot(database.db);
      }),
    changedIn(tx) {
      if (announced.has(tx)) return;
      announced.add(tx);
      // After commit only: a change that rolls back must not be announced, and a read between
      // the announcement and the commit would store the old catalog again.
      afterCommit(tx, announce);
    },
    changed: announce,
    loads: () => loads,
  };
}
