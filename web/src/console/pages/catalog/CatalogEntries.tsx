import { useState } from 'react';
import { FormError } from '../../../components/States.tsx';
import { useFormAction } from '../../../use-form-action.ts';
import type { Catalog, CatalogCountry, CatalogOperator, CatalogService } from '../../catalog-api.ts';
import { consolePost, errorMessage } from '../../console-api.ts';

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

function EnabledBadge({ enabled }: { enabled: boolean }) {
  return enabled ? <span className="badge badge-ok">On sale</span> : <span className="badge badge-muted">Disabled</span>;
}

/** Rename (errors shown by the rename form) and enable/disable (errors shown above the table). */
function useEntryChange(onChange: () => void) {
  const [error, setError] = useState<string | null>(null);
  const change = async (path: string, body: object) => {
    await consolePost(path, body);
    onChange();
  };
  const toggle = async (path: string, enabled: boolean) => {
    setError(null);
    try {
      await change(path, { enabled });
    } catch (e) {
      setError(errorMessage(e));
    }
  };
  return { error, change, toggle };
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
        <label className="field">
          Service code
          <input type="text" className="input-small" value={code} maxLength={32} placeholder="tg" onChange={(e) => setCode(e.target.value)} />
        </label>
        <label className="field grow">
          Service name
          <input type="text" value={name} maxLength={100} placeholder="Telegram" onChange={(e) => setName(e.target.value)} />
        </label>
        <button type="submit" className="btn btn-primary" disabled={add.busy || !code.trim() || !name.trim()}>
          Add service
        </button>
      </form>
      <FormError error={add.error} />
      <FormError error={entries.error} />
      <div className="table-wrap">
        <table className="table" aria-label="Services">
          <thead>
            <tr>
              <th scope="col">Code</th>
              <th scope="col">Name</th>
              <th scope="col">Status</th>
              <th scope="col">
                <span className="visually-hidden">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {catalog.services.map((s: CatalogService) => (
              <tr key={s.code}>
                <td className="mono">{s.code}</td>
                <td>{s.name}</td>
                <td>
                  <EnabledBadge enabled={s.enabled} />
                </td>
                <td>
                  <div className="row">
                    <RenameControl what={`service ${s.code}`} current={s.name} onSave={(n) => entries.change(`/catalog/services/${encodeURIComponent(s.code)}`, { name: n })} />
                    <button type="button" className="btn btn-small" onClick={() => entries.toggle(`/catalog/services/${encodeURIComponent(s.code)}`, !s.enabled)}>
                      {s.enabled ? `Disable ${s.name}` : `Enable ${s.name}`}
                    </button>
                  </div>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
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
        <label className="field">
          Country ID
          <input type="text" inputMode="numeric" className="input-small" value={id} onChange={(e) => setId(e.target.value)} />
        </label>
        <label className="field">
          ISO code
          <input type="text" className="input-small" value={iso} maxLength={2} placeholder="US" onChange={(e) => setIso(e.target.value)} />
        </label>
        <label className="field grow">
          Country name (optional)
          <input type="text" value={name} maxLength={100} onChange={(e) => setName(e.target.value)} />
        </label>
        <button type="submit" className="btn btn-primary" disabled={add.busy || !id.trim() || !iso.trim()}>
          Add country
        </button>
      </form>
      <p className="muted small">The name and dialling prefix come from the ISO code when left empty.</p>
      <FormError error={add.error} />
      <FormError error={entries.error} />
      <div className="table-wrap">
        <table className="table" aria-label="Countries">
          <thead>
            <tr>
              <th scope="col">ID</th>
              <th scope="col">ISO</th>
              <th scope="col">Name</th>
              <th scope="col">Prefix</th>
              <th scope="col">Status</th>
              <th scope="col">
                <span className="visually-hidden">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {catalog.countries.map((c: CatalogCountry) => (
              <tr key={c.id}>
                <td className="mono">{c.id}</td>
                <td>{c.iso}</td>
                <td>{c.name}</td>
                <td className="mono">{c.prefix.startsWith('+') ? c.prefix : `+${c.prefix}`}</td>
                <td>
                  <EnabledBadge enabled={c.enabled} />
                </td>
                <td>
                  <div className="row">
                    <RenameControl what={`country ${c.id}`} current={c.name} onSave={(n) => entries.change(`/catalog/countries/${c.id}`, { name: n })} />
                    <button type="button" className="btn btn-small" onClick={() => entries.toggle(`/catalog/countries/${c.id}`, !c.enabled)}>
                      {c.enabled ? `Disable ${c.name}` : `Enable ${c.name}`}
                    </button>
                  </div>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
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
        <label className="field">
          Operator country
          <select value={country} onChange={(e) => setCountry(e.target.value)}>
            {catalog.countries.map((c) => (
              <option key={c.id} value={String(c.id)}>
                {c.name} ({c.id})
              </option>
            ))}
          </select>
        </label>
        <label className="field">
          Operator code
          <input type="text" className="input-small" value={code} maxLength={32} placeholder="tmobile" onChange={(e) => setCode(e.target.value)} />
        </label>
        <label className="field grow">
          Operator name
          <input type="text" value={name} maxLength={100} placeholder="T-Mobile" onChange={(e) => setName(e.target.value)} />
        </label>
        <button type="submit" className="btn btn-primary" disabled={add.busy || !country || !code.trim() || !name.trim()}>
          Add operator
        </button>
      </form>
      <FormError error={add.error} />
      <FormError error={entries.error} />
      {catalog.operators.length === 0 ? (
        <p className="muted">No operators yet: numbers are sold as "any operator".</p>
      ) : (
        <div className="table-wrap">
          <table className="table" aria-label="Operators">
            <thead>
              <tr>
                <th scope="col">Country</th>
                <th scope="col">Code</th>
                <th scope="col">Name</th>
                <th scope="col">Status</th>
                <th scope="col">
                  <span className="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {catalog.operators.map((o: CatalogOperator) => {
                const path = `/catalog/operators/${o.country}/${encodeURIComponent(o.code)}`;
                return (
                  <tr key={`${o.country}:${o.code}`}>
                    <td>{countryName(o.country)}</td>
                    <td className="mono">{o.code}</td>
                    <td>{o.name}</td>
                    <td>
                      <EnabledBadge enabled={o.enabled} />
                    </td>
                    <td>
                      <div className="row">
                        <RenameControl what={`operator ${o.code} in ${o.country}`} current={o.name} onSave={(n) => entries.change(path, { name: n })} />
                        <button type="button" className="btn btn-small" onClick={() => entries.toggle(path, !o.enabled)}>
                          {o.enabled ? `Disable ${o.name}` : `Enable ${o.name}`}
                        </button>
                      </div>
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
