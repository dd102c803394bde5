import { useRef, useState } from 'react';
import { FormError, StatusLine } from '../../../components/States.tsx';
import { useFormAction } from '../../../use-form-action.ts';
import { Field } from '../../components/Field.tsx';
import { consolePost, errorMessage } from '../../console-api.ts';
import { localKinds, type Provider } from '../../supply-api.ts';

/** A 400's message names every bad line ("Line 3: …; Line 7: …"): one list item each. */
function splitLineErrors(message: string): string[] {
  const parts = message.split(/;\s*(?=line \d+)/i).map((p) => p.trim());
  return parts.length > 1 || /^line \d+/i.test(message) ? parts : [];
}

/** CSV import of a local provider's numbers, pasted or from a file; all or nothing, with every bad line named. */
export function ImportNumbersForm({ providers, providerId, onProvider, onImported }: { providers: Provider[]; providerId: number | null; onProvider(id: number): void; onImported(): void }) {
  const [csv, setCsv] = useState('');
  const [result, setResult] = useState<{ added: number; skipped: number } | null>(null);
  const [lineErrors, setLineErrors] = useState<string[]>([]);
  const { busy, error, setError, submit } = useFormAction();
  const fileRef = useRef<HTMLInputElement>(null);
  const local = providers.filter((p) => localKinds.includes(p.kind));

  const onSubmit = submit(async () => {
    setResult(null);
    setLineErrors([]);
    if (providerId === null) {
      setError('Choose the provider whose SIMs these numbers are.');
      return;
    }
    if (!csv.trim()) {
      setError('Paste the numbers or choose a CSV file first.');
      return;
    }
    try {
      const answer = await consolePost<{ added: number; skipped: number }>(`/supply/providers/${providerId}/numbers/import`, { csv });
      setResult(answer);
      setCsv('');
      if (fileRef.current) fileRef.current.value = '';
      onImported();
    } catch (e) {
      const lines = splitLineErrors(errorMessage(e));
      if (lines.length > 0) {
        setLineErrors(lines);
        setError(`Nothing was imported: ${lines.length} line${lines.length === 1 ? '' : 's'} need${lines.length === 1 ? 's' : ''} fixing.`);
      } else throw e;
    }
  });

  return (
    <section className="card" id="import-numbers" aria-labelledby="import-numbers-title">
      <h2 id="import-numbers-title">Import numbers</h2>
      <p className="muted small">
        One number per line: <code>e164,country_id[,operator[,device,sim]]</code>, e.g. <code>+12025550100,6</code>. A header row is
        optional. All or nothing: a bad line stops the import. Numbers already known are skipped.
      </p>
      {local.length === 0 ? (
        <p className="notice-warn">Add an HTTP or SMS Gateway for Android provider first: numbers belong to a provider.</p>
      ) : (
        <form className="form" onSubmit={onSubmit}>
          <Field label="Provider for the numbers">
            <select value={providerId ?? ''} onChange={(e) => onProvider(Number(e.target.value))}>
              <option value="" disabled>
                Choose a provider…
              </option>
              {local.map((p) => (
                <option key={p.id} value={p.id}>
                  {p.name} (#{p.id}, {p.kind})
                </option>
              ))}
            </select>
          </Field>
          <Field label="Numbers (CSV)">
            <textarea rows={6} className="mono" placeholder={'e164,country_id,operator\n+12025550100,6\n+12025550101,6,tmobile'} value={csv} onChange={(e) => setCsv(e.target.value)} />
          </Field>
          <Field label="Or a CSV file">
            <input
              ref={fileRef}
              type="file"
              accept=".csv,text/csv,text/plain"
              onChange={async (e) => {
                const file = e.target.files?.[0];
                if (file) setCsv(await file.text());
              }}
            />
          </Field>
          <div>
            <button type="submit" className="btn btn-primary" disabled={busy}>
              {busy ? 'Importing…' : 'Import numbers'}
            </button>
          </div>
          <FormError error={error} />
          {lineErrors.length > 0 && (
            <ul className="line-errors form-error" aria-label="Lines to fix">
              {lineErrors.map((line) => (
                <li key={line}>{line}</li>
              ))}
            </ul>
          )}
          <StatusLine
            testId="import-result"
            message={
              result &&
              `Added ${result.added} number${result.added === 1 ? '' : 's'}, skipped ${result.skipped} (already known or repeated in the file).`
            }
          />
        </form>
      )}
    </section>
  );
}
