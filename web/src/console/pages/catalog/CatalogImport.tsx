import { useState } from 'react';
import { FormError } from '../../../components/States.tsx';
import { useFormAction } from '../../../use-form-action.ts';
import type { ImportReport } from '../../catalog-api.ts';
import { DataTable } from '../../components/DataTable.tsx';
import { Field } from '../../components/Field.tsx';
import { consolePost } from '../../console-api.ts';

const example = `service,tg,Telegram
country,6,US
operator,6,tmobile,T-Mobile
price,tg,6,0.50
price,tg,6,0.60,tmobile
markup,tg,6,25,0.05`;

/** Paste or load a catalog file (CSV or JSON, the format of `catalog:import`), check it, then apply it. */
export function CatalogImport({ onImported }: { onImported(): void }) {
  const [content, setContent] = useState('');
  const [format, setFormat] = useState<'' | 'csv' | 'json'>('');
  const [report, setReport] = useState<ImportReport | null>(null);
  const { busy, error, setError, run } = useFormAction();

  const loadFile = async (file: File | undefined) => {
    if (!file) return;
    setReport(null);
    setError(null);
    if (file.size > 2_000_000) return setError('That file is over 2 MB; split it into smaller files.');
    setContent(await file.text());
    if (file.name.toLowerCase().endsWith('.json')) setFormat('json');
    else if (file.name.toLowerCase().endsWith('.csv')) setFormat('csv');
  };

  const send = (dryRun: boolean) =>
    run(async () => {
      setReport(null);
      if (!content.trim()) return setError('Paste the catalog file or choose one first.');
      const answer = await consolePost<ImportReport>('/catalog/import', { content, ...(format ? { format } : {}), dry_run: dryRun });
      setReport(answer);
      if (answer.applied) onImported();
    });

  return (
    <section className="card">
      <h2>Import a catalog file</h2>
      <p className="muted">
        Services, countries, operators, prices and markup rules in one file, as for <code>npm run nova -- catalog:import FILE</code>. Importing
        the same file twice changes nothing. A file with any bad line is refused whole, with every bad line named.
      </p>
      <details>
        <summary>CSV example</summary>
        <pre className="mono small">{example}</pre>
      </details>
      <div className="form">
        <Field label="Catalog file (CSV or JSON)">
          <textarea rows={10} className="mono" value={content} spellCheck={false} onChange={(e) => setContent(e.target.value)} />
        </Field>
        <div className="inline-form">
          <Field label="Or load a file">
            <input type="file" accept=".csv,.json,text/csv,application/json,text/plain" onChange={(e) => void loadFile(e.target.files?.[0])} />
          </Field>
          <Field label="Format">
            <select value={format} onChange={(e) => setFormat(e.target.value as '' | 'csv' | 'json')}>
              <option value="">Guess from the content</option>
              <option value="csv">CSV</option>
              <option value="json">JSON</option>
            </select>
          </Field>
        </div>
        <FormError error={error} />
        <div className="row">
          <button type="button" className="btn" disabled={busy} onClick={() => void send(true)}>
            Check without applying
          </button>
          <button type="button" className="btn btn-primary" disabled={busy} onClick={() => void send(false)}>
            Import
          </button>
        </div>
      </div>
      {report && (
        <div className="stack import-report">
          <p className={report.applied ? 'notice-ok' : 'notice-warn'} role="status">
            {report.applied ? 'Imported' : 'Checked, nothing applied'}: {report.created} created, {report.updated} updated, {report.unchanged} unchanged.
          </p>
          {report.changes.some((c) => c.result !== 'unchanged') && (
            <DataTable label="Import changes" columns={['Line', 'Kind', 'Entry', 'Result']} compact>
              {report.changes
                .filter((c) => c.result !== 'unchanged')
                .slice(0, 500)
                .map((c) => (
                  <tr key={`${c.line}:${c.kind}:${c.key}`}>
                    <td>{c.line}</td>
                    <td>{c.kind}</td>
                    <td className="mono">{c.key}</td>
                    <td>{c.result}</td>
                  </tr>
                ))}
            </DataTable>
          )}
        </div>
      )}
    </section>
  );
}
