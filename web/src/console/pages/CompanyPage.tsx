import { useState } from 'react';
import { Empty, ErrorBox, FormError, Loading, StatusLine } from '../../components/States.tsx';
import { Link } from '../../router.tsx';
import { useAsync } from '../../use-async.ts';
import { useFormAction } from '../../use-form-action.ts';
import { AsyncContent } from '../components/AsyncContent.tsx';
import { actionsColumn, DataTable, numeric, PagedTable } from '../components/DataTable.tsx';
import { Field } from '../components/Field.tsx';
import { consoleGet, consolePost, formatLocalTime, formatUsd, parseUsdInput } from '../console-api.ts';
import type { ConsolePageProps } from '../console-pages.tsx';
import { useStaff } from '../console-session.tsx';
import type { Company, CompanyActivation, CompanyMember, LedgerEntry, Paged } from '../customers-api.ts';
import { usePagedList } from '../use-paged-list.ts';

const kindLabels: Record<string, string> = { topup: 'Top-up', purchase: 'Number bought', refund: 'Refund', adjustment: 'Adjustment' };
const statusLabels: Record<string, string> = {
  waiting: 'Waiting',
  sms_received: 'Code received',
  completed: 'Completed',
  cancelled: 'Cancelled',
  expired: 'Expired',
};

function AdjustmentForm({ company, onDone }: { company: Company; onDone(): void }) {
  const [direction, setDirection] = useState<'credit' | 'debit'>('credit');
  const [amount, setAmount] = useState('');
  const [reason, setReason] = useState('');
  const [done, setDone] = useState<string | null>(null);
  const { busy, error, setError, submit } = useFormAction();
  const onSubmit = submit(async () => {
    setDone(null);
    const value = parseUsdInput(amount);
    if (value === null || value <= 0) return setError('Enter a positive amount in USD, like 5 or 12.50 (at most 4 decimals).');
    if (!reason.trim()) return setError('Give a reason: the customer sees it in their Transactions.');
    const signed = direction === 'credit' ? value : -value;
    const answer = await consolePost<{ balance: number; audit_id: number }>(`/companies/${company.id}/adjustments`, {
      amount: signed,
      reason: reason.trim(),
    });
    setDone(`${direction === 'credit' ? 'Credited' : 'Debited'} ${formatUsd(value)}. New balance ${formatUsd(answer.balance)}.`);
    setAmount('');
    setReason('');
    onDone();
  });
  return (
    <section className="card" aria-labelledby="adjust-title">
      <h2 id="adjust-title">Adjust the balance</h2>
      <form className="form" onSubmit={onSubmit} noValidate>
        <div className="inline-form">
          <Field label="Credit or debit">
            <select value={direction} onChange={(e) => setDirection(e.target.value as 'credit' | 'debit')}>
              <option value="credit">Credit (add)</option>
              <option value="debit">Debit (take)</option>
            </select>
          </Field>
          <Field label="Amount in USD">
            <input type="text" inputMode="decimal" className="input-small" value={amount} onChange={(e) => setAmount(e.target.value)} />
          </Field>
        </div>
        <Field label="Reason (the customer sees it)">
          <input type="text" maxLength={500} value={reason} onChange={(e) => setReason(e.target.value)} />
        </Field>
        <FormError error={error} />
        <StatusLine message={done} />
        <div>
          <button type="submit" className="btn btn-primary" disabled={busy}>
            {busy ? 'Saving…' : 'Apply adjustment'}
          </button>
        </div>
      </form>
    </section>
  );
}

function BlockForm({ company, onDone }: { company: Company; onDone(company: Company): void }) {
  const [reason, setReason] = useState('');
  const { busy, error, setError, submit } = useFormAction();
  const onSubmit = submit(async () => {
    if (!company.blocked && !reason.trim()) return setError('Say why the company is blocked: it stays in the audit log.');
    const action = company.blocked ? 'unblock' : 'block';
    const answer = await consolePost<{ company: Company }>(`/companies/${company.id}/${action}`, reason.trim() ? { reason: reason.trim() } : {});
    setReason('');
    onDone(answer.company);
  });
  return (
    <section className="card" aria-labelledby="block-title">
      <h2 id="block-title">{company.blocked ? 'Blocked' : 'Block the company'}</h2>
      {company.blocked ? (
        <p className="notice-warn">
          Blocked {company.blocked_at ? formatLocalTime(company.blocked_at) : ''}: {company.blocked_reason}. Its API keys and website
          sessions are refused.
        </p>
      ) : (
        <p className="muted small">A blocked company's API keys get 403 account_blocked and its members are told to contact support.</p>
      )}
      <form className="form" onSubmit={onSubmit} noValidate>
        <Field label={company.blocked ? 'Reason for unblocking (optional)' : 'Reason for blocking'}>
          <input type="text" maxLength={500} value={reason} onChange={(e) => setReason(e.target.value)} />
        </Field>
        <FormError error={error} />
        <div>
          <button type="submit" className={company.blocked ? 'btn btn-primary' : 'btn btn-danger'} disabled={busy}>
            {company.blocked ? 'Unblock company' : 'Block company'}
          </button>
        </div>
      </form>
    </section>
  );
}

function Members({ companyId, members, isAdmin, onRotated }: { companyId: number; members: CompanyMember[]; isAdmin: boolean; onRotated(): void }) {
  const [confirming, setConfirming] = useState<number | null>(null);
  const [rotated, setRotated] = useState<string | null>(null);
  const rotation = useFormAction();
  const rotate = (member: CompanyMember) =>
    rotation.run(async () => {
      setRotated(null);
      try {
        const answer = await consolePost<{ member: CompanyMember }>(`/companies/${companyId}/members/${member.id}/rotate-key`);
        setRotated(`New key for ${member.email} (${answer.member.key_prefix}…). The old key stopped working; they see the new one under Profile → API access.`);
        onRotated();
      } finally {
        setConfirming(null);
      }
    });
  return (
    <section className="card">
      <h2>Members</h2>
      <StatusLine message={rotated} />
      <FormError error={rotation.error} />
      <DataTable label="Members" columns={['Email', 'Role', 'API key', 'Joined', ...(isAdmin ? [actionsColumn] : [])]}>
        {members.map((member) => (
          <tr key={member.id} className={member.removed ? 'muted' : undefined}>
            <td>
              {member.email} {member.removed && <span className="badge badge-muted">Removed</span>}
            </td>
            <td>{member.role}</td>
            <td>
              {member.key_prefix ? (
                <>
                  <code>{member.key_prefix}…</code>{' '}
                  {member.key_created_at && <span className="muted small">since {formatLocalTime(member.key_created_at)}</span>}
                </>
              ) : (
                <span className="muted">none</span>
              )}
            </td>
            <td>{formatLocalTime(member.created_at)}</td>
            {isAdmin && (
              <td>
                {!member.removed &&
                  (confirming === member.id ? (
                    <span className="row">
                      <button type="button" className="btn btn-small btn-danger" onClick={() => void rotate(member)} aria-label={`Confirm: rotate the key of ${member.email}`}>
                        Rotate now
                      </button>
                      <button type="button" className="btn btn-small" onClick={() => setConfirming(null)}>
                        Keep
                      </button>
                    </span>
                  ) : (
                    <button type="button" className="btn btn-small" onClick={() => setConfirming(member.id)} aria-label={`Rotate the key of ${member.email}`}>
                      Rotate key
                    </button>
                  ))}
              </td>
            )}
          </tr>
        ))}
      </DataTable>
    </section>
  );
}

function Activations({ companyId, tick }: { companyId: number; tick: number }) {
  const list = usePagedList<Paged & { activations: CompanyActivation[] }>(`/companies/${companyId}/activations`, {}, 20, [companyId, tick]);
  return (
    <section className="card">
      <h2>Activations</h2>
      <AsyncContent state={list} what="activations" isEmpty={(data) => data.activations.length === 0} empty={<Empty title="No activations yet." />}>
        {(data) => (
          <PagedTable
            label="Activations"
            columns={['ID', 'Number', 'Service', 'Country', numeric('Price'), 'Status', 'Code', 'Bought']}
            compact
            rows={data.activations}
            total={data.total}
            paging={list.paging}
            pagerLabel="Activation pages"
          >
            {(a) => (
              <tr key={a.id}>
                <td className="mono">{a.id}</td>
                <td className="mono">{a.number}</td>
                <td>{a.service}</td>
                <td>
                  {a.country}
                  {a.operator && a.operator !== 'any' ? <span className="muted small"> · {a.operator}</span> : null}
                </td>
                <td className="num">{formatUsd(a.price)}</td>
                <td>
                  <span className={`badge status-${a.status}`}>{statusLabels[a.status] ?? a.status}</span>
                </td>
                <td className="mono">{a.code ?? ''}</td>
                <td>{formatLocalTime(a.created_at)}</td>
              </tr>
            )}
          </PagedTable>
        )}
      </AsyncContent>
    </section>
  );
}

function Ledger({ companyId, tick }: { companyId: number; tick: number }) {
  const list = usePagedList<Paged & { entries: LedgerEntry[] }>(`/companies/${companyId}/ledger`, {}, 20, [companyId, tick]);
  return (
    <section className="card">
      <h2>Ledger</h2>
      <AsyncContent state={list} what="the ledger" isEmpty={(data) => data.entries.length === 0} empty={<Empty title="No ledger entries yet." />}>
        {(data) => (
          <PagedTable
            label="Ledger"
            columns={['Date', 'Type', 'Details', numeric('Amount'), numeric('Balance after'), 'Audit']}
            compact
            rows={data.entries}
            total={data.total}
            paging={list.paging}
            pagerLabel="Ledger pages"
          >
            {(e) => (
              <tr key={e.id}>
                <td>{formatLocalTime(e.created_at)}</td>
                <td>{kindLabels[e.kind] ?? e.kind}</td>
                <td>
                  {e.reason ?? ''}
                  {e.activation_id ? <span className="muted small"> activation {e.activation_id}</span> : null}
                </td>
                <td className={`num ${e.amount < 0 ? 'neg' : 'pos'}`}>
                  {e.amount > 0 ? '+' : ''}
                  {formatUsd(e.amount)}
                </td>
                <td className="num">{formatUsd(e.balance_after)}</td>
                <td>{e.audit_id ? <Link to={`/console/audit?action=balance.adjust&highlight=${e.audit_id}`}>entry {e.audit_id}</Link> : ''}</td>
              </tr>
            )}
          </PagedTable>
        )}
      </AsyncContent>
    </section>
  );
}

/** /console/customers/:id — one company: members, balance, activations, ledger; admins adjust, block and rotate keys. */
export function CompanyPage({ params }: ConsolePageProps) {
  const staff = useStaff();
  const isAdmin = staff.role === 'admin';
  const id = Number(params.id);
  const [tick, setTick] = useState(0);
  const detail = useAsync(() => consoleGet<{ company: Company; members: CompanyMember[] }>(`/companies/${params.id}`), [params.id, tick]);
  const refresh = () => setTick((n) => n + 1);

  if (detail.loading && !detail.data) return <Loading what="the company" />;
  if (detail.error || !detail.data) {
    return (
      <div className="page">
        <h1>Company {params.id}</h1>
        <ErrorBox message={detail.error ?? 'Not found'} onRetry={detail.reload} />
        <p>
          <Link to="/console/customers">Back to customers</Link>
        </p>
      </div>
    );
  }
  const { company, members } = detail.data;
  return (
    <div className="page">
      <div className="page-head">
        <div>
          <p className="small">
            <Link to="/console/customers">← Customers</Link>
          </p>
          <h1>
            {company.name} {company.blocked && <span className="badge badge-danger">Blocked</span>}
          </h1>
          <p className="muted">
            Company #{company.id} · customer since {formatLocalTime(company.created_at)} · {company.members} member{company.members === 1 ? '' : 's'}
          </p>
        </div>
        <div className="stat">
          <div className="stat-label">Balance</div>
          <div className="stat-value" data-testid="company-balance">
            {formatUsd(company.balance)}
          </div>
        </div>
      </div>
      {company.blocked && !isAdmin && (
        <p className="notice-warn" role="status">
          Blocked: {company.blocked_reason}
        </p>
      )}
      {isAdmin ? (
        <div className="grid-2">
          <AdjustmentForm company={company} onDone={refresh} />
          <BlockForm company={company} onDone={refresh} />
        </div>
      ) : (
        <p className="muted small">Support staff see customers read-only; ask an admin to change a balance, block a company or rotate a key.</p>
      )}
      <Members companyId={id} members={members} isAdmin={isAdmin} onRotated={refresh} />
      <Ledger companyId={id} tick={tick} />
      <Activations companyId={id} tick={tick} />
    </div>
  );
}
