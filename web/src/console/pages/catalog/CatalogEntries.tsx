import { useState } from 'react';
import { FormError } from '../../../components/States.tsx';
import { useFormAction } from '../../../use-form-action.ts';
import { actionsColumn, DataTable } from '../../components/DataTable.tsx';
import { Field } from '../../components/Field.tsx';
import type { Catalog } from '../../catalog-api.ts';
import { consolePost } from '../../console-api.ts';
import { CountryOptions } from './CatalogOptions.tsx';

/** "Rename" → an input and Save/Cancel, in place. */
function RenameControl({ what, current, onSave }: { what: string; current: string; onSave(name: string): Promise<void> }) {
  const [editing, setEditing] = useState(false);
  const [name, setName] = useState(current);
  const { busy, error, submit } = useFormAction();
  if (!editing) {
    return (
      <button
        type="button"
        className="btn btn-small"
        aria-label={`Rename ${what}`}
        onClick={() => {
          setName(current);
          setEditing(true);
        }}
      >
        Rename
      </button>
    );
  }
  const onSubmit = submit(async () => {
    await onSave(name.trim());
    setEditing(false);
  });
  return (
    <form className="row" onSubmit={onSubmit} noValidate>
      <label>
        <span className="visually-hidden">New name for {what}</span>
        <input type="text" value={name} maxLength={100} onChange={(e) => setName(e.target.value)} autoFocus />
      </label>
      <button type="submit" className="btn btn-small btn-primary" disabled={busy || !name.trim()}>
        Save
      </button>
      <button type="button" className="btn btn-small" onClick={() => setEditing(false)}>
        Cancel
      </button>
      <FormError error={error} />
    </form>
  );
}

/** Changes to the entries of one table: a rename shows its error in its own form, enable/disable above the table. */
function useEntryChange(onChange: () => void) {
  const toggleAction = useFormAction();
  const save = async (path: string, body: object) => {
    await consolePost(path, body);
    onChange();
  };
  const toggle = (path: string, enabled: boolean) => toggleAction.run(() => save(path, { enabled }));
  return { error: toggleAction.error, save, toggle };
}

/** The Status and actions cells of a service, country or operator at `path`: on sale or not, rename, enable/disable. */
function EntryCells(props: { entries: ReturnType<typeof useEntryChange>; what: string; path: string; name: string; enabled: boolean }) {
  const { entries, what, path, name, enabled } = props;
  return (
    <>
      <td>{enabled ? <span className="badge badge-ok">On sale</span> : <span className="badge badge-muted">Disabled</span>}</td>
      <td>
        <div className="row">
          <RenameControl what={what} current={name} onSave={(n) => entries.save(path, { name: n })} />
          <button type="button" className="btn btn-small" onClick={() => entries.toggle(path, !enabled)}>
            {enabled ? `Disable ${name}` : `Enable ${name}`}
          </button>
        </div>
      </td>
    </>
  );
}

export function ServicesTable({ catalog, onChange }: { catalog: Catalog; onChange(): void }) {
  const entries = useEntryChange(onChange);
  const [code, setCode] = useState('');
  const [name, setName] = useState('');
  const add = useFormAction();
  const onAdd = add.submit(async () => {
    await consolePost('/catalog/services', { code: code.trim(), name: name.trim() });
    setCode('');
    setName('');
    onChange();
  });
  return (
    <section className="card">
      <h2>Services</h2>
      <form className="inline-form" onSubmit={onAdd} noValidate aria-label="Add a service">
        <Field label="Service code">
          <input type="text" className="input-small" value={code} maxLength={32} placeholder="tg" onChange={(e) => setCode(e.target.value)} />
        </Field>
        <Field label="Service name" grow>
          <input type="text" value={name} maxLength={100} placeholder="Telegram" onChange={(e) => setName(e.target.value)} />
        </Field>
        <button type="submit" className="btn btn-primary" disabled={add.busy || !code.trim() || !name.trim()}>
          Add service
        </button>
      </form>
      <FormError error={add.error} />
      <FormError error={entries.error} />
      <DataTable label="Services" columns={['Code', 'Name', 'Status', actionsColumn]}>
        {catalog.services.map((s) => (
          <tr key={s.code}>
            <td className="mono">{s.code}</td>
            <td>{s.name}</td>
            <EntryCells entries={entries} what={`service ${s.code}`} path={`/catalog/services/${encodeURIComponent(s.code)}`} name={s.name} enabled={s.enabled} />
          </tr>
        ))}
      </DataTable>
    </section>
  );
}

export function CountriesTable({ catalog, onChange }: { catalog: Catalog; onChange(): void }) {
  const entries = useEntryChange(onChange);
  const [id, setId] = useState('');
  const [iso, setIso] = useState('');
  const [name, setName] = useState('');
  const add = useFormAction();
  const onAdd = add.submit(async () => {
    if (!/^\d+$/.test(id.trim())) return add.setError('The country ID is a whole number (the sms-activate country id, e.g. 6 for the US).');
    await consolePost('/catalog/countries', { id: Number(id.trim()), iso: iso.trim().toUpperCase(), ...(name.trim() ? { name: name.trim() } : {}) });
    setId('');
    setIso('');
    setName('');
    onChange();
  });
  return (
    <section className="card">
      <h2>Countries</h2>
      <form className="inline-form" onSubmit={onAdd} noValidate aria-label="Add a country">
        <Field label="Country ID">
          <input type="text" inputMode="numeric" className="input-small" value={id} onChange={(e) => setId(e.target.value)} />
        </Field>
        <Field label="ISO code">
          <input type="text" className="input-small" value={iso} maxLength={2} placeholder="US" onChange={(e) => setIso(e.target.value)} />
        </Field>
        <Field label="Country name (optional)" grow>
          <input type="text" value={name} maxLength={100} onChange={(e) => setName(e.target.value)} />
        </Field>
        <button type="submit" className="btn btn-primary" disabled={add.busy || !id.trim() || !iso.trim()}>
          Add country
        </button>
      </form>
      <p className="muted small">The name and dialling prefix come from the ISO code when left empty.</p>
      <FormError error={add.error} />
      <FormError error={entries.error} />
      <DataTable label="Countries" columns={['ID', 'ISO', 'Name', 'Prefix', 'Status', actionsColumn]}>
        {catalog.countries.map((c) => (
          <tr key={c.id}>
            <td className="mono">{c.id}</td>
            <td>{c.iso}</td>
            <td>{c.name}</td>
            <td className="mono">{c.prefix.startsWith('+') ? c.prefix : `+${c.prefix}`}</td>
            <EntryCells entries={entries} what={`country ${c.id}`} path={`/catalog/countries/${c.id}`} name={c.name} enabled={c.enabled} />
          </tr>
        ))}
      </DataTable>
    </section>
  );
}

export function OperatorsTable({ catalog, onChange }: { catalog: Catalog; onChange(): void }) {
  const entries = useEntryChange(onChange);
  const [country, setCountry] = useState(String(catalog.countries[0]?.id ?? ''));
  const [code, setCode] = useState('');
  const [name, setName] = useState('');
  const add = useFormAction();
  const countryName = (id: number) => catalog.countries.find((c) => c.id === id)?.name ?? `country ${id}`;
  const onAdd = add.submit(async () => {
    await consolePost('/catalog/operators', { country: Number(country), code: code.trim(), name: name.trim() });
    setCode('');
    setName('');
    onChange();
  });
  return (
    <section className="card">
      <h2>Operators</h2>
      <form className="inline-form" onSubmit={onAdd} noValidate aria-label="Add an operator">
        <Field label="Operator country">
          <select value={country} onChange={(e) => setCountry(e.target.value)}>
            <CountryOptions countries={catalog.countries} />
          </select>
        </Field>
        <Field label="Operator code">
          <input type="text" className="input-small" value={code} maxLength={32} placeholder="tmobile" onChange={(e) => setCode(e.target.value)} />
        </Field>
        <Field label="Operator name" grow>
          <input type="text" value={name} maxLength={100} placeholder="T-Mobile" onChange={(e) => setName(e.target.value)} />
        </Field>
        <button type="submit" className="btn btn-primary" disabled={add.busy || !country || !code.trim() || !name.trim()}>
          Add operator
        </button>
      </form>
      <FormError error={add.error} />
      <FormError error={entries.error} />
      {catalog.operators.length === 0 ? (
        <p className="muted">No operators yet: numbers are sold as "any operator".</p>
      ) : (
        <DataTable label="Operators" columns={['Country', 'Code', 'Name', 'Status', actionsColumn]}>
          {catalog.operators.map((o) => (
            <tr key={`${o.country}:${o.code}`}>
              <td>{countryName(o.country)}</td>
              <td className="mono">{o.code}</td>
              <td>{o.name}</td>
              <EntryCells
                entries={entries}
                what={`operator ${o.code} in ${o.country}`}
                path={`/catalog/operators/${o.country}/${encodeURIComponent(o.code)}`}
                name={o.name}
                enabled={o.enabled}
              />
            </tr>
          ))}
        </DataTable>
      )}
    </section>
  );
}
