import { useMemo, useState } from 'react';
import { Empty } from '../../components/States.tsx';
import { Link } from '../../router.tsx';
import { useAsync } from '../../use-async.ts';
import { Chart, type ChartSeries } from '../Chart.tsx';
import { AsyncContent } from '../components/AsyncContent.tsx';
import { PagedTable } from '../components/DataTable.tsx';
import { PeriodSelect } from '../components/PeriodSelect.tsx';
import { consoleGet, formatLocalTime } from '../console-api.ts';
import type { ConsolePageProps } from '../console-pages.tsx';
import { usePagedList } from '../use-paged-list.ts';
import './operations.css';

// ---- Shapes of /api/console/feedback/* (docs/console-api.md, "Feedback") ----

interface Ratings {
  days: number;
  from: string;
  count: number;
  average: number | null;
  distribution: Record<'1' | '2' | '3' | '4' | '5', number>;
  per_day: { date: string; count: number; average: number | null }[];
}

interface FeedbackComment {
  id: number;
  rating: number;
  comment: string;
  context: 'activation' | 'chat' | 'general';
  reference: string | null;
  account: { id: number; email: string; company_id: number; company_name: string } | null;
  activation_id: number | null;
  conversation_id: number | null;
  created_at: string;
}

const ratingRange: [number, number] = [0, 5];
const stars = (rating: number) => '★'.repeat(rating) + '☆'.repeat(5 - rating);
const contextLabels: Record<FeedbackComment['context'], string> = { activation: 'After an activation', chat: 'After a chat', general: 'General' };

function RatingsSection() {
  const [days, setDays] = useState(30);
  const ratings = useAsync(() => consoleGet<Ratings>('/feedback/ratings', { days }), [days]);
  const data = ratings.data;
  const chartDays = useMemo(() => data?.per_day.map((d) => d.date) ?? [], [data]);
  const series = useMemo<ChartSeries[]>(
    () =>
      data
        ? [
            { label: 'Average rating', values: data.per_day.map((d) => d.average), color: '#d99a00', format: (v) => v.toFixed(2) },
            { label: 'Answers', values: data.per_day.map((d) => d.count), color: '#4f46e5', scale: 'y2' },
          ]
        : [],
    [data],
  );
  const most = data ? Math.max(1, ...Object.values(data.distribution)) : 1;

  return (
    <section className="card" aria-labelledby="ratings-title">
      <div className="card-head">
        <div>
          <h2 id="ratings-title">Ratings</h2>
          {data && <p className="muted small">Since {data.from} (UTC)</p>}
        </div>
        <PeriodSelect days={days} choices={[30, 90]} onDays={setDays} />
      </div>
      <AsyncContent state={ratings} what="ratings" failure="We could not load the ratings">
        {(data) => (
          <div className="feedback-grid">
            <div>
              <div className="stat-grid">
                <div className="stat" data-testid="feedback-average">
                  <div className="stat-label">Average</div>
                  <div className="stat-value">{data.average === null ? '—' : data.average.toFixed(2)}</div>
                  <div className="stat-delta stars" aria-hidden="true">
                    {data.average === null ? '' : stars(Math.round(data.average))}
                  </div>
                </div>
                <div className="stat" data-testid="feedback-count">
                  <div className="stat-label">Answers</div>
                  <div className="stat-value">{data.count}</div>
                </div>
              </div>
              <table className="table compact section-gap" aria-label="Rating distribution">
                <tbody>
                  {(['5', '4', '3', '2', '1'] as const).map((r) => (
                    <tr key={r}>
                      <th scope="row">
                        {r} {r === '1' ? 'star' : 'stars'}
                      </th>
                      <td className="dist-bar">
                        <span className="bar-track" aria-hidden="true">
                          <span className="bar" style={{ width: `${Math.round((data.distribution[r] / most) * 100)}%` }} />
                        </span>
                      </td>
                      <td className="num">{data.distribution[r]}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
            <Chart title="Average rating and answers per day" days={chartDays} series={series} yRange={ratingRange} />
          </div>
        )}
      </AsyncContent>
    </section>
  );
}

function CommentsSection() {
  const comments = usePagedList<{ comments: FeedbackComment[]; total: number }>('/feedback/comments', {}, 25, []);
  return (
    <section className="card section-gap" aria-labelledby="comments-title">
      <h2 id="comments-title">Comments</h2>
      <AsyncContent
        state={comments}
        what="comments"
        failure="We could not load the comments"
        isEmpty={(data) => data.comments.length === 0}
        empty={
          <Empty title="No comments yet.">
            <p className="muted small">Answers with a comment appear here, newest first.</p>
          </Empty>
        }
      >
        {(data) => (
          <PagedTable
            label="Feedback comments"
            columns={['Rating', 'Comment', 'From', 'About', 'When']}
            compact
            rows={data.comments}
            total={data.total}
            paging={comments.paging}
            pagerLabel="Comment pages"
          >
            {(c) => (
              <tr key={c.id} data-feedback-id={c.id}>
                <td>
                  <span className="stars" aria-hidden="true">
                    {stars(c.rating)}
                  </span>
                  <span className="visually-hidden">
                    {c.rating} {c.rating === 1 ? 'star' : 'stars'}
                  </span>
                </td>
                <td className="pre-line feedback-comment">{c.comment}</td>
                <td>
                  {c.account ? (
                    <>
                      {c.account.email}
                      <div className="small">
                        <Link to={`/console/customers/${c.account.company_id}`}>{c.account.company_name}</Link>
                      </div>
                    </>
                  ) : (
                    <span className="muted">Anonymous visitor</span>
                  )}
                </td>
                <td>
                  <span className="small muted">{contextLabels[c.context]}</span>
                  {c.activation_id !== null && (
                    <div>
                      {c.account ? (
                        <Link to={`/console/customers/${c.account.company_id}`} aria-label={`Activation ${c.activation_id} of ${c.account.company_name}`}>
                          Activation {c.activation_id}
                        </Link>
                      ) : (
                        `Activation ${c.activation_id}`
                      )}
                    </div>
                  )}
                  {c.conversation_id !== null && (
                    <div>
                      <Link to={`/console/support?c=${c.conversation_id}`}>Conversation {c.conversation_id}</Link>
                    </div>
                  )}
                </td>
                <td>{formatLocalTime(c.created_at)}</td>
              </tr>
            )}
          </PagedTable>
        )}
      </AsyncContent>
    </section>
  );
}

/** Feedback: "How was your experience?" ratings over time and the comments, linked to where they came from. */
export function FeedbackPage(_props: ConsolePageProps) {
  return (
    <section className="page ops-page">
      <div className="page-head">
        <div>
          <h1>Feedback</h1>
          <p className="muted">What customers answered after an activation or a chat, and on the site.</p>
        </div>
      </div>
      <RatingsSection />
      <CommentsSection />
    </section>
  );
}
