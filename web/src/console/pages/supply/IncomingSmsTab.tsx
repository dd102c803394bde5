import { useEffect, useRef, useState } from 'react';
import { Empty, ErrorBox, FormError, Loading } from '../../../components/States.tsx';
import { useFormAction } from '../../../use-form-action.ts';
import { DataTable } from '../../components/DataTable.tsx';
import { Field } from '../../components/Field.tsx';
import { consoleGet, consolePost, errorMessage, formatLocalTime } from '../../console-api.ts';
import type { Sms } from '../../supply-api.ts';
import { useLiveEvents } from '../../use-live-events.ts';

function AttachForm({ sms, onAttached }: { sms: Sms; onAttached(sms: Sms): void }) {
  const [open, setOpen] = useState(false);
  const [activationId, setActivationId] = useState('');
  const { busy, error, setError, submit } = useFormAction();
  if (!open) {
    return (
      <button type="button" className="btn btn-small" aria-label={`Attach SMS ${sms.id} to an activation`} onClick={() => setOpen(true)}>
        Attach to activation
      </button>
    );
  }
  return (
    <form
      className="inline-form"
      aria-label={`Attach SMS ${sms.id}`}
      onSubmit={submit(async () => {
        const id = Number(activationId);
        if (!Number.isInteger(id) || id <= 0) {
          setError('Type the id of the open activation this SMS belongs to.');
          return;
        }
        const result = await consolePost<{ sms: Sms; activation: { id: number; status: string; code: string | null } }>(`/supply/sms/${sms.id}/attach`, { activation_id: id });
        setOpen(false);
        onAttached(result.sms);
      })}
    >
      <Field label="Activation id">
        <input type="text" inputMode="numeric" className="input-small" required value={activationId} onChange={(e) => setActivationId(e.target.value)} />
      </Field>
      <button type="submit" className="btn btn-primary btn-small" disabled={busy}>
        {busy ? 'Attaching…' : 'Attach'}
      </button>
      <button type="button" className="btn btn-small btn-ghost" onClick={() => setOpen(false)}>
        Cancel
      </button>
      <FormError error={error} />
    </form>
  );
}

type SmsPage = { sms: Sms[]; next_before_id: number | null };

/**
 * Every SMS providers push, newest first, live over server-sent events; unmatched ones (no open
 * activation took them) are attached by hand.
 */
export function IncomingSmsTab() {
  const [unmatchedOnly, setUnmatchedOnly] = useState(false);
  const [rows, setRows] = useState<Sms[] | null>(null);
  const [fresh, setFresh] = useState<Set<number>>(new Set());
  const [next, setNext] = useState<number | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [tick, setTick] = useState(0);
  const onlyUnmatched = useRef(unmatchedOnly);
  onlyUnmatched.current = unmatchedOnly;

  useEffect(() => {
    let current = true;
    setRows(null);
    consoleGet<SmsPage>('/supply/sms', { unmatched: unmatchedOnly ? 'true' : '', limit: 50 }).then(
      (data) => {
        if (!current) return;
        setRows(data.sms);
        setNext(data.next_before_id);
        setError(null);
      },
      (e) => current && setError(errorMessage(e)),
    );
    return () => {
      current = false;
    };
  }, [unmatchedOnly, tick]);

  const apply = (sms: Sms, isNew: boolean) => {
    setRows((current) => {
      if (!current) return current;
      const known = current.some((r) => r.id === sms.id);
      // Under "unmatched only" an SMS that got its activation leaves the list.
      if (onlyUnmatched.current && sms.activation_id !== null) return current.filter((r) => r.id !== sms.id);
      if (known) return current.map((r) => (r.id === sms.id ? sms : r));
      return [sms, ...current];
    });
    if (isNew) setFresh((current) => new Set(current).add(sms.id));
  };

  const live = useLiveEvents('/api/console/supply/sms/live', { sms: (sms) => apply(sms as Sms, true) }, () => setTick((n) => n + 1)) === 'live';

  const more = async () => {
    if (next === null) return;
    try {
      const data = await consoleGet<SmsPage>('/supply/sms', { unmatched: unmatchedOnly ? 'true' : '', before_id: next, limit: 50 });
      setRows((current) => [...(current ?? []), ...data.sms.filter((s) => !(current ?? []).some((r) => r.id === s.id))]);
      setNext(data.next_before_id);
    } catch (e) {
      setError(errorMessage(e));
    }
  };

  return (
    <section className="card" aria-labelledby="sms-title">
      <div className="card-head">
        <div>
          <h2 id="sms-title">Incoming SMS</h2>
          <p className="muted small">Every SMS providers push, newest first. Unmatched ones found no open activation: attach them by hand.</p>
        </div>
        <div className="row">
          <label className="check">
            <input type="checkbox" checked={unmatchedOnly} onChange={(e) => setUnmatchedOnly(e.target.checked)} />
            Unmatched only
          </label>
          <span className={`badge ${live ? 'badge-ok' : 'badge-muted'}`} role="status" data-testid="sms-live">
            {live ? 'Live' : 'Connecting…'}
          </span>
        </div>
      </div>
      {error ? (
        <ErrorBox message={`We could not load the SMS: ${error}`} onRetry={() => setTick((n) => n + 1)} />
      ) : !rows ? (
        <Loading what="SMS" />
      ) : rows.length === 0 ? (
        <Empty title={unmatchedOnly ? 'No unmatched SMS.' : 'No SMS yet.'}>
          <p className="muted small">They appear here the moment a provider pushes one.</p>
        </Empty>
      ) : (
        <>
          <DataTable label="Incoming SMS" columns={['Received', 'To', 'From', 'Text', 'Code', 'Activation']} compact>
            {rows.map((s) => (
              <tr key={s.id} data-sms-id={s.id} className={fresh.has(s.id) ? 'sms-row-new' : undefined}>
                <td>
                  {formatLocalTime(s.received_at)}
                  <div className="small muted">{s.provider.name}</div>
                </td>
                <td className="mono">{s.to}</td>
                <td>{s.sender}</td>
                <td className="sms-text">{s.text}</td>
                <td className="mono">{s.code ?? '—'}</td>
                <td>{s.activation_id !== null ? <span className="badge badge-ok">{s.activation_id}</span> : <AttachForm sms={s} onAttached={(updated) => apply(updated, false)} />}</td>
              </tr>
            ))}
          </DataTable>
          {next !== null && (
            <button type="button" className="btn btn-small section-gap" onClick={() => void more()}>
              Show older SMS
            </button>
          )}
        </>
      )}
    </section>
  );
}
