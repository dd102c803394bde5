import { type FormEvent, useEffect, useState } from 'react';
import { Pager } from '../../components/Pager.tsx';
import { Empty, ErrorBox, Loading } from '../../components/States.tsx';
import { Link, navigate, useLocation } from '../../router.tsx';
import { useAsync } from '../../use-async.ts';
import { consoleGet, formatLocalTime, formatUsd, queryString } from '../console-api.ts';
import type { ConsolePageProps } from '../console-pages.tsx';
import type { Company, CompanyMatch, Paged } from '../customers-api.ts';

const matchLabels: Record<CompanyMatch['field'], string> = {
  name: 'name',
  email: 'member email',
  phone: 'phone number',
  activation: 'activation',
  id: 'company id',
};

const limit = 25;

export function CustomersPage(_props: ConsolePageProps) {
  const { search } = useLocation();
  const q = search.get('q') ?? '';
  const offset = Math.max(0, Number(search.get('offset')) || 0);
  const [draft, setDraft] = useState(q);
  useEffect(() => setDraft(q), [q]);
  const list = useAsync(
    () => consoleGet<Paged & { companies: (Company & { matched: CompanyMatch[] })[] }>('/companies', { q, limit, offset }),
    [q, offset],
  );
  const submit = (event: FormEvent) => {
    event.preventDefault();
    navigate(`/console/customers${queryString({ q: draft.trim() })}`, { replace: true });
  };
  const data = list.data;
  return (
    <div className="page">
      <div>
        <h1>Customers</h1>
        <p className="muted">Companies, their members, balances and activity.</p>
      </div>
      <section className="card">
        <form className="inline-form" role="search" onSubmit={submit}>
          <label className="field grow">
            Search customers
            <input
              type="search"
              value={draft}
              maxLength={200}
              onChange={(e) => setDraft(e.target.value)}
              placeholder="email, phone number, activation id or company name"
            />
          </label>
          <button type="submit" className="btn btn-primary">
            Search
          </button>
        </form>
      </section>
      <section className="card">
        {list.loading && !data ? (
          <Loading what="companies" />
        ) : list.error ? (
          <ErrorBox message={list.error} onRetry={list.reload} />
        ) : !data || data.companies.length === 0 ? (
          <Empty title={q ? `No company matches “${q}”.` : 'No companies yet.'} />
        ) : (
          <>
            <div className="table-wrap">
              <table className="table" aria-label="Companies">
                <thead>
                  <tr>
                    <th scope="col">Company</th>
                    <th scope="col">Matched</th>
                    <th scope="col" className="num">Members</th>
                    <th scope="col" className="num">Balance</th>
                    <th scope="col">Status</th>
                    <th scope="col">Since</th>
                  </tr>
                </thead>
                <tbody>
                  {data.companies.map((company) => (
                    <tr key={company.id}>
                      <td>
                        <Link to={`/console/customers/${company.id}`}>{company.name}</Link> <span className="muted small">#{company.id}</span>
                      </td>
                      <td className="small">
                        {company.matched.map((m) => (
                          <div key={`${m.field}:${m.value}`}>
                            {matchLabels[m.field] ?? m.field}: <span className="mono">{m.value}</span>
                          </div>
                        ))}
                      </td>
                      <td className="num">{company.members}</td>
                      <td className="num">{formatUsd(company.balance)}</td>
                      <td>{company.blocked ? <span className="badge badge-danger">Blocked</span> : <span className="badge badge-ok">Active</span>}</td>
                      <td>{formatLocalTime(company.created_at)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
            <Pager
              label="Company pages"
              offset={offset}
              limit={limit}
              shown={data.companies.length}
              total={data.total}
              onOffset={(next) => navigate(`/console/customers${queryString({ q, offset: next || undefined })}`, { replace: true })}
            />
          </>
        )}
      </section>
    </div>
  );
}
