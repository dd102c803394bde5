import { useState } from 'react';
import { Empty, FormError } from '../../../components/States.tsx';
import { useAsync } from '../../../use-async.ts';
import { useFormAction } from '../../../use-form-action.ts';
import { AsyncContent } from '../../components/AsyncContent.tsx';
import { actionsColumn, DataTable, numeric } from '../../components/DataTable.tsx';
import { ReasonConfirmForm } from '../../components/ReasonConfirmForm.tsx';
import { consolePost, formatLocalTime, formatUsd } from '../../console-api.ts';
import { formatRate, formatSeconds, isPoorDelivery } from '../../figures.ts';
import { loadProviders, localKinds, type Provider } from '../../supply-api.ts';
import { CreateProviderForm } from './CreateProviderForm.tsx';
import { ImportNumbersForm } from './ImportNumbersForm.tsx';

const providerColumns = [
  'Provider',
  'Status',
  'Last seen',
  numeric('SMS'),
  numeric('Delivery'),
  numeric('Median to code'),
  numeric('Numbers'),
  numeric('Cost / sale'),
  actionsColumn,
];

function ProviderRow({ provider, onChanged, onImport, onNumbers }: { provider: Provider; onChanged(): void; onImport(id: number): void; onNumbers(id: number): void }) {
  const p = provider;
  const [disabling, setDisabling] = useState(false);
  const enable = useFormAction();

  return (
    <>
      <tr data-provider-id={p.id}>
        <th scope="row">
          {p.name}
          <div className="small muted">
            #{p.id} · {p.kind}
          </div>
        </th>
        <td>
          {p.enabled ? (
            <span className="badge badge-ok">enabled</span>
          ) : (
            <>
              <span className="badge badge-danger">disabled</span>
              <div className="small muted" data-testid="disabled-reason">
                {p.disabled_reason ?? 'no reason given'}
                {p.disabled_at ? ` · since ${formatLocalTime(p.disabled_at)}` : ''}
              </div>
            </>
          )}
        </td>
        <td>{p.last_seen_at ? formatLocalTime(p.last_seen_at) : <span className="muted">never</span>}</td>
        <td className="num">{p.sms_received}</td>
        <td className="num">
          <span className={isPoorDelivery(p.delivery_rate) ? 'health-bad' : undefined}>{formatRate(p.delivery_rate)}</span>
          <div className="small muted">
            {p.activations_with_sms}/{p.activations_sold}
          </div>
          {p.reports > 0 && (
            <div className="small muted" data-testid="provider-reports">
              {p.reports} reported by customers
            </div>
          )}
        </td>
        <td className="num">{formatSeconds(p.median_seconds_to_code)}</td>
        <td className="num">
          <span data-testid="provider-numbers">{p.numbers}</span>
          <div className="small muted">
            {p.numbers_disabled} disabled · {p.numbers_retired} retired
          </div>
        </td>
        <td className="num">{p.cost_per_number === null ? <span className="muted">from source</span> : formatUsd(p.cost_per_number)}</td>
        <td>
          <div className="row">
            {p.enabled ? (
              <button type="button" className="btn btn-small" aria-label={`Disable ${p.name}`} aria-expanded={disabling} onClick={() => setDisabling(!disabling)}>
                Disable
              </button>
            ) : (
              <button
                type="button"
                className="btn btn-small"
                aria-label={`Enable ${p.name}`}
                disabled={enable.busy}
                onClick={() =>
                  void enable.run(async () => {
                    await consolePost(`/supply/providers/${p.id}/enable`);
                    onChanged();
                  })
                }
              >
                {enable.busy ? 'Enabling…' : 'Enable'}
              </button>
            )}
            {localKinds.includes(p.kind) && (
              <>
                <button type="button" className="btn btn-small btn-ghost" aria-label={`Numbers of ${p.name}`} onClick={() => onNumbers(p.id)}>
                  Numbers
                </button>
                <button type="button" className="btn btn-small btn-ghost" aria-label={`Import numbers for ${p.name}`} onClick={() => onImport(p.id)}>
                  Import numbers
                </button>
              </>
            )}
          </div>
        </td>
      </tr>
      {(disabling || enable.error) && (
        <tr>
          <td colSpan={providerColumns.length}>
            {disabling && (
              <ReasonConfirmForm
                label={`Disable ${p.name}`}
                question={`Why disable ${p.name}? (optional)`}
                confirm="Disable provider"
                confirming="Disabling…"
                cancel="Keep it on sale"
                onCancel={() => setDisabling(false)}
                onConfirm={async (reason) => {
                  await consolePost(`/supply/providers/${p.id}/disable`, reason ? { reason } : {});
                  setDisabling(false);
                  onChanged();
                }}
              />
            )}
            <FormError error={enable.error} />
          </td>
        </tr>
      )}
    </>
  );
}

/** Providers and their health, with the forms to import numbers and add a provider. */
export function ProvidersTab({ onShowNumbers }: { onShowNumbers(providerId: number): void }) {
  const list = useAsync(loadProviders, []);
  const [importProvider, setImportProvider] = useState<number | null>(null);

  return (
    <AsyncContent state={list} what="providers" failure="We could not load the providers">
      {({ providers }) => (
        <div className="stack">
          <section className="card" aria-labelledby="providers-title">
            <div className="card-head">
              <h2 id="providers-title">Providers and their health</h2>
              <button type="button" className="btn btn-small btn-ghost" onClick={list.reload}>
                Refresh
              </button>
            </div>
            {providers.length === 0 ? (
              <Empty title="No providers yet.">
                <p className="muted small">Add one below, then import its numbers.</p>
              </Empty>
            ) : (
              <DataTable label="Providers" columns={providerColumns} compact>
                {providers.map((p) => (
                  <ProviderRow
                    key={p.id}
                    provider={p}
                    onChanged={list.reload}
                    onNumbers={onShowNumbers}
                    onImport={(id) => {
                      setImportProvider(id);
                      document.getElementById('import-numbers')?.scrollIntoView({ block: 'start' });
                    }}
                  />
                ))}
              </DataTable>
            )}
          </section>
          <div className="grid-2">
            <ImportNumbersForm providers={providers} providerId={importProvider} onProvider={setImportProvider} onImported={list.reload} />
            <CreateProviderForm onCreated={list.reload} />
          </div>
        </div>
      )}
    </AsyncContent>
  );
}
