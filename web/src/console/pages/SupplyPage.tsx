import { useState } from 'react';
import { Tabs } from '../components/Tabs.tsx';
import type { ConsolePageProps } from '../console-pages.tsx';
import { IncomingSmsTab } from './supply/IncomingSmsTab.tsx';
import { NumbersTab } from './supply/NumbersTab.tsx';
import { ProvidersTab } from './supply/ProvidersTab.tsx';
import { ReportsTab } from './supply/ReportsTab.tsx';
import './operations.css';

const tabs = [
  { id: 'providers', label: 'Providers' },
  { id: 'numbers', label: 'Numbers' },
  { id: 'sms', label: 'Incoming SMS' },
  { id: 'reports', label: 'Customer reports' },
] as const;
type TabId = (typeof tabs)[number]['id'];

/** Supply: providers and their health, numbers (import, retire, history), the live SMS feed and customers' reports of bad numbers. */
export function SupplyPage(_props: ConsolePageProps) {
  const [tab, setTab] = useState<TabId>('providers');
  // "Numbers" on a provider's row opens the Numbers tab filtered to that provider.
  const [numbersProvider, setNumbersProvider] = useState<number | null>(null);
  return (
    <section className="page ops-page">
      <div className="page-head">
        <div>
          <h1>Supply</h1>
          <p className="muted">Where numbers and codes come from: providers, their numbers and every SMS they push.</p>
        </div>
      </div>
      <Tabs name="supply" label="Supply" tabs={tabs} selected={tab} onSelect={setTab} panelClassName="section-gap">
        {tab === 'providers' && (
          <ProvidersTab
            onShowNumbers={(id) => {
              setNumbersProvider(id);
              setTab('numbers');
            }}
          />
        )}
        {tab === 'numbers' && <NumbersTab initialProvider={numbersProvider} />}
        {tab === 'sms' && <IncomingSmsTab />}
        {tab === 'reports' && <ReportsTab />}
      </Tabs>
    </section>
  );
}
