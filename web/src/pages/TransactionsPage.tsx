import { useState } from 'react';
import { api, formatLocalTime, formatUsd, type Transaction } from '../api.ts';
import { Empty, ErrorBox, Loading } from '../components/States.tsx';
import { Link } from '../router.tsx';
import { useAsync } from '../use-async.ts';
import { Pager } from '../components/Pager.tsx';

const kindLabels: Record<string, string> = {
  topup: 'Top-up',
  purchase: 'Number bought',
  refund: 'Refund',
  adjustment: 'Adjustment',
};

export function TransactionsPage() {
  const [offset, setOffset] = useState(0);
  const limit = 20;
  const page = useAsync(
    () => api<{ transactions: Transaction[]; total: number }>(`/api/web/transactions?limit=${limit}&offset=${offset}`),
    [offset],
  );
  const data = page.data;
  return (
    <div className="page">
      <h1>Transactions</h1>
      <p className="muted">Every change of your company's balance, newest first.</p>
      <section className="card">
        {page.loading && !data ? (
          <Loading what="transactions" />
        ) : page.error ? (
          <ErrorBox message={`We could not load your transactions: ${page.error}`} onRetry={page.reload} />
        ) : !data || data.transactions.length === 0 ? (
          <Empty title="No transactions yet.">
            <p className="muted">
              <Link to="/topup">Top up your balance</Link> to buy your first number.
            </p>
          </Empty>
        ) : (
          <>
            <div className="table-wrap">
              <table className="table" aria-label="Transactions">
                <thead>
                  <tr>
                    <th scope="col">Date</th>
                    <th scope="col">Type</th>
                    <th scope="col">Details</th>
                    <th scope="col" className="num">Amount</th>
                    <th scope="col" className="num">Balance after</th>
                  </tr>
                </thead>
                <tbody>
                  {data.transactions.map((t) => (
                    <tr key={t.id}>
                      <td>{formatLocalTime(t.created_at)}</td>
                      <td>{kindLabels[t.kind] ?? t.kind}</td>
                      <td>{t.reason ?? ''}</td>
                      <td className={`num ${t.amount < 0 ? 'neg' : 'pos'}`}>
                        {t.amount > 0 ? '+' : ''}
                        {formatUsd(t.amount)}
                      </td>
                      <td className="num">{formatUsd(t.balance_after)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
            <Pager label="Transaction pages" offset={offset} limit={limit} shown={data.transactions.length} total={data.total} onOffset={setOffset} />
          </>
        )}
      </section>
    </div>
  );
}
