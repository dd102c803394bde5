import { Empty } from '../../components/States.tsx';
import { Link, navigate, useLocation } from '../../router.tsx';
import { useAsync } from '../../use-async.ts';
import { AsyncContent } from '../components/AsyncContent.tsx';
import { numeric, PagedTable } from '../components/DataTable.tsx';
import { CustomerSearchForm } from '../components/CustomerSearchForm.tsx';
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
  const list = useAsync(
    () => consoleGet<Paged & { companies: (Company & { matched: CompanyMatch[] })[] }>('/companies', { q, limit, offset }),
    [q, offset],
  );
  // The search and the page are in the address (?q=…&offset=…), so a search can be shared or reloaded.
  const paging = { offset, limit, onOffset: (next: number) => navigate(`/console/customers${queryString({ q, offset: next || undefined })}`, { replace: true }) };
  return (
    <div className="page">
      <div>
        <h1>Customers</h1>
        <p className="muted">Companies, their members, balances and activity.</p>
      </div>
      <section className="card">
        <CustomerSearchForm label="Search customers" query={q} replace />
      </section>
      <section className="card">
        <AsyncContent
          state={list}
          what="companies"
          isEmpty={(data) => data.companies.length === 0}
          empty={<Empty title={q ? `No company matches “${q}”.` : 'No companies yet.'} />}
        >
          {(data) => (
            <PagedTable
              label="Companies"
              columns={['Company', 'Matched', numeric('Members'), numeric('Balance'), 'Status', 'Since']}
              rows={data.companies}
              total={data.total}
              paging={paging}
              pagerLabel="Company pages"
            >
              {(company) => (
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
              )}
            </PagedTable>
          )}
        </AsyncContent>
      </section>
    </div>
  );
}
