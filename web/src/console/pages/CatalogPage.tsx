import { navigate, useLocation } from '../../router.tsx';
import { useAsync } from '../../use-async.ts';
import type { Catalog } from '../catalog-api.ts';
import { AsyncContent } from '../components/AsyncContent.tsx';
import { Tabs } from '../components/Tabs.tsx';
import { consoleGet } from '../console-api.ts';
import type { ConsolePageProps } from '../console-pages.tsx';
import { CatalogImport } from './catalog/CatalogImport.tsx';
import { CountriesTable, OperatorsTable, ServicesTable } from './catalog/CatalogEntries.tsx';
import { PricingGrid } from './catalog/PricingGrid.tsx';
import { RentalPrices } from './catalog/RentalPrices.tsx';

const tabs = [
  { id: 'pricing', label: 'Pricing' },
  { id: 'services', label: 'Services' },
  { id: 'countries', label: 'Countries' },
  { id: 'operators', label: 'Operators' },
  { id: 'rentals', label: 'Rental prices' },
  { id: 'import', label: 'Import' },
] as const;
type TabId = (typeof tabs)[number]['id'];

/** /console/catalog — what is sold where, at what price: services, countries, operators, prices, rules, rental prices, import. */
export function CatalogPage(_props: ConsolePageProps) {
  const { search } = useLocation();
  const requested = search.get('tab');
  const tab: TabId = tabs.some((t) => t.id === requested) ? (requested as TabId) : 'pricing';
  const catalog = useAsync(() => consoleGet<Catalog>('/catalog'), []);
  const select = (id: TabId) => navigate(id === 'pricing' ? '/console/catalog' : `/console/catalog?tab=${id}`, { replace: true });

  return (
    <div className="page">
      <div>
        <h1>Catalog &amp; pricing</h1>
        <p className="muted">Every change is live at once in the API and on the public price table, and written to the audit log.</p>
      </div>
      <Tabs name="catalog" label="Catalog sections" tabs={tabs} selected={tab} onSelect={select} panelClassName="stack">
        <AsyncContent state={catalog} what="the catalog">
          {(data) =>
            tab === 'pricing' ? (
              <PricingGrid catalog={data} />
            ) : tab === 'services' ? (
              <ServicesTable catalog={data} onChange={catalog.reload} />
            ) : tab === 'countries' ? (
              <CountriesTable catalog={data} onChange={catalog.reload} />
            ) : tab === 'operators' ? (
              <OperatorsTable catalog={data} onChange={catalog.reload} />
            ) : tab === 'rentals' ? (
              <RentalPrices catalog={data} />
            ) : (
              <CatalogImport onImported={catalog.reload} />
            )
          }
        </AsyncContent>
      </Tabs>
    </div>
  );
}
