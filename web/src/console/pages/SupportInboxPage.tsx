import { type FormEvent, useCallback, useEffect, useRef, useState } from 'react';
import { Empty, ErrorBox, FormError, Loading } from '../../components/States.tsx';
import { Link, navigate, useLocation } from '../../router.tsx';
import { useAsync } from '../../use-async.ts';
import { AsyncContent } from '../components/AsyncContent.tsx';
import { DataTable } from '../components/DataTable.tsx';
import { Field } from '../components/Field.tsx';
import { consoleGet, consolePost, errorMessage, formatLocalTime, formatUsd } from '../console-api.ts';
import type { ConsolePageProps } from '../console-pages.tsx';
import { useStaff } from '../console-session.tsx';
import { useLiveEvents } from '../use-live-events.ts';
import './operations.css';

// ---- Shapes of /api/console/support/* (docs/console-api.md, "Support inbox") ----

interface ConversationSummary {
  id: number;
  status: 'open' | 'closed';
  account: { id: number; email: string; company_id: number; company_name: string } | null;
  assigned_to: { id: number; email: string } | null;
  page: string | null;
  unread: number;
  messages: number;
  last_message: { author: 'visitor' | 'support'; text: string; created_at: string } | null;
  last_message_at: string | null;
  created_at: string;
  closed_at: string | null;
}

interface SupportMessage {
  id: number;
  conversation_id: number;
  author: 'visitor' | 'support';
  text: string;
  staff: { id: number; email: string } | null;
  created_at: string;
}

interface ConversationList {
  conversations: ConversationSummary[];
  total: number;
  total_unread: number;
  unread_conversations: number;
}

interface VisitorContext {
  conversation_id: number;
  page: string | null;
  account: { id: number; email: string; role: 'owner' | 'member'; created_at: string } | null;
  company: { id: number; name: string; balance: number; blocked: boolean; blocked_reason: string | null } | null;
  recent_activations: {
    id: number;
    service: string;
    country: number;
    number: string;
    price: number;
    status: string;
    code: string | null;
    created_at: string;
  }[];
}

interface Agent {
  id: number;
  email: string;
  role: string;
}

const filters = [
  { key: 'open', label: 'Open', query: { status: 'open', assigned: 'all' } },
  { key: 'mine', label: 'Mine', query: { status: 'open', assigned: 'mine' } },
  { key: 'unassigned', label: 'Unassigned', query: { status: 'open', assigned: 'unassigned' } },
  { key: 'closed', label: 'Closed', query: { status: 'closed', assigned: 'all' } },
] as const;
type FilterKey = (typeof filters)[number]['key'];

/** Whether a (live-updated) conversation belongs in the list shown under `filter`. */
function inFilter(conversation: ConversationSummary, filter: FilterKey, staffId: number): boolean {
  switch (filter) {
    case 'open':
      return conversation.status === 'open';
    case 'mine':
      return conversation.status === 'open' && conversation.assigned_to?.id === staffId;
    case 'unassigned':
      return conversation.status === 'open' && conversation.assigned_to === null;
    case 'closed':
      return conversation.status === 'closed';
  }
}

const byLatest = (a: ConversationSummary, b: ConversationSummary) =>
  (b.last_message_at ?? b.created_at).localeCompare(a.last_message_at ?? a.created_at) || b.id - a.id;

function mergeMessages(current: SupportMessage[], incoming: SupportMessage[]): SupportMessage[] {
  const byId = new Map(current.map((m) => [m.id, m]));
  for (const message of incoming) byId.set(message.id, message);
  return [...byId.values()].sort((a, b) => a.id - b.id);
}

const whoOf = (c: ConversationSummary) => c.account?.email ?? `Visitor #${c.id}`;

function ConversationItem({ conversation, selected, onSelect }: { conversation: ConversationSummary; selected: boolean; onSelect(): void }) {
  const c = conversation;
  const label = `${whoOf(c)}${c.unread > 0 ? `, ${c.unread} unread` : ''}`;
  return (
    <li data-conversation-id={c.id}>
      <button type="button" className={`inbox-item${selected ? ' is-selected' : ''}${c.unread > 0 ? ' is-unread' : ''}`} aria-current={selected ? 'true' : undefined} aria-label={label} onClick={onSelect}>
        <span className="inbox-item-head">
          <span className="inbox-who">{whoOf(c)}</span>
          {c.unread > 0 && (
            <span className="badge badge-unread" data-testid="unread-badge">
              {c.unread}
            </span>
          )}
        </span>
        {c.account && <span className="small muted">{c.account.company_name}</span>}
        {c.last_message && (
          <span className="inbox-preview small">
            {c.last_message.author === 'support' ? 'You: ' : ''}
            {c.last_message.text}
          </span>
        )}
        <span className="inbox-meta small muted">
          {c.last_message_at ? formatLocalTime(c.last_message_at) : formatLocalTime(c.created_at)}
          {c.assigned_to ? ` · ${c.assigned_to.email}` : ' · unassigned'}
          {c.status === 'closed' ? ' · closed' : ''}
        </span>
      </button>
    </li>
  );
}

function ContextPanel({ conversationId, refreshKey }: { conversationId: number; refreshKey: number }) {
  const context = useAsync(() => consoleGet<VisitorContext>(`/support/conversations/${conversationId}/context`), [conversationId, refreshKey]);
  return (
    <AsyncContent state={context} what="the visitor's context" failure="We could not load the context">
      {({ account, company, page, recent_activations: activations }) => (
        <>
          <dl className="facts">
            <dt>Account</dt>
            <dd data-testid="context-account">{account ? `${account.email} (${account.role})` : 'Anonymous visitor (not signed in)'}</dd>
            {company && (
              <>
                <dt>Company</dt>
                <dd>
                  <Link to={`/console/customers/${company.id}`}>{company.name}</Link>
                  {company.blocked && (
                    <span className="badge badge-danger" title={company.blocked_reason ?? undefined}>
                      blocked
                    </span>
                  )}
                </dd>
                <dt>Balance</dt>
                <dd data-testid="context-balance">{formatUsd(company.balance)}</dd>
              </>
            )}
            <dt>Page</dt>
            <dd data-testid="context-page">{page ? <code>{page}</code> : 'unknown'}</dd>
          </dl>
          <h3 className="context-title">Recent activations</h3>
          {activations.length === 0 ? (
            <p className="muted small">{account ? 'No activations yet.' : 'Anonymous visitors have none.'}</p>
          ) : (
            <DataTable label="Recent activations" columns={['Id', 'Service', 'Number', 'Status', 'Code']} compact>
              {activations.map((a) => (
                <tr key={a.id}>
                  <td>{a.id}</td>
                  <td>
                    {a.service} <span className="muted small">#{a.country}</span>
                  </td>
                  <td className="mono">{a.number}</td>
                  <td>
                    <span className={`badge status-${a.status}`}>{a.status}</span>
                  </td>
                  <td className="mono">{a.code ?? '—'}</td>
                </tr>
              ))}
            </DataTable>
          )}
        </>
      )}
    </AsyncContent>
  );
}

function ConversationView({
  summary,
  messages,
  agents,
  onChanged,
  onSent,
}: {
  summary: ConversationSummary;
  messages: SupportMessage[];
  agents: Agent[];
  onChanged(conversation: ConversationSummary): void;
  onSent(message: SupportMessage): void;
}) {
  const [draft, setDraft] = useState('');
  const [busy, setBusy] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const listRef = useRef<HTMLOListElement>(null);

  useEffect(() => {
    listRef.current?.lastElementChild?.scrollIntoView({ block: 'end' });
  }, [messages.length, summary.id]);

  const act = async (what: string, work: () => Promise<void>) => {
    setBusy(what);
    setError(null);
    try {
      await work();
    } catch (e) {
      setError(errorMessage(e));
    } finally {
      setBusy(null);
    }
  };

  const send = async (event?: FormEvent) => {
    event?.preventDefault();
    const text = draft.trim();
    if (!text || busy) return;
    await act('send', async () => {
      const result = await consolePost<{ message: SupportMessage }>(`/support/conversations/${summary.id}/messages`, { text });
      // The live stream brings it too; messages are merged by id, so it shows once.
      onSent(result.message);
      setDraft('');
    });
  };

  const assign = (value: string) =>
    act('assign', async () => {
      const result = await consolePost<{ conversation: ConversationSummary }>(`/support/conversations/${summary.id}/assign`, {
        staff_id: value === '' ? null : Number(value),
      });
      onChanged(result.conversation);
    });

  const setOpen = (open: boolean) =>
    act(open ? 'reopen' : 'close', async () => {
      const result = await consolePost<{ conversation: ConversationSummary }>(`/support/conversations/${summary.id}/${open ? 'reopen' : 'close'}`);
      onChanged(result.conversation);
    });

  return (
    <section className="card inbox-conversation" aria-labelledby="conversation-title">
      <header className="card-head">
        <div>
          <h2 id="conversation-title">{whoOf(summary)}</h2>
          <p className="muted small">
            Conversation {summary.id} · started {formatLocalTime(summary.created_at)} ·{' '}
            <span className={`badge ${summary.status === 'open' ? 'badge-ok' : 'badge-muted'}`} data-testid="conversation-status">
              {summary.status}
            </span>
          </p>
        </div>
        <div className="row">
          <Field label="Assigned to" inline>
            <select value={summary.assigned_to?.id ?? ''} disabled={busy !== null} onChange={(e) => void assign(e.target.value)}>
              <option value="">Unassigned</option>
              {agents.map((agent) => (
                <option key={agent.id} value={agent.id}>
                  {agent.email} ({agent.role})
                </option>
              ))}
            </select>
          </Field>
          {summary.status === 'open' ? (
            <button type="button" className="btn btn-small" disabled={busy !== null} onClick={() => void setOpen(false)}>
              {busy === 'close' ? 'Closing…' : 'Close conversation'}
            </button>
          ) : (
            <button type="button" className="btn btn-small" disabled={busy !== null} onClick={() => void setOpen(true)}>
              {busy === 'reopen' ? 'Reopening…' : 'Reopen conversation'}
            </button>
          )}
        </div>
      </header>
      <ol className="inbox-messages" ref={listRef} aria-label="Messages" aria-live="polite">
        {messages.length === 0 && <li className="muted small">No messages yet.</li>}
        {messages.map((m) => (
          // The agent's side: the visitor on the left, support (us) on the right.
          <li key={m.id} className={`inbox-message ${m.author === 'support' ? 'from-us' : 'from-them'}`} data-author={m.author}>
            <span className="visually-hidden">{m.author === 'support' ? `Support${m.staff ? ` (${m.staff.email})` : ''}: ` : 'Visitor: '}</span>
            <span className="inbox-text">{m.text}</span>
            <span className="inbox-message-meta">
              {m.author === 'support' ? (m.staff?.email ?? 'support') : 'visitor'} · {formatLocalTime(m.created_at)}
            </span>
          </li>
        ))}
      </ol>
      <form className="inbox-reply" onSubmit={send}>
        <Field label="Reply">
          <textarea
            rows={3}
            maxLength={2000}
            value={draft}
            placeholder="Write a reply… (Enter sends, Shift+Enter for a new line)"
            onChange={(e) => setDraft(e.target.value)}
            onKeyDown={(e) => {
              if (e.key === 'Enter' && !e.shiftKey) {
                e.preventDefault();
                void send();
              }
            }}
          />
        </Field>
        <div className="row">
          <button type="submit" className="btn btn-primary" disabled={busy !== null || !draft.trim()}>
            {busy === 'send' ? 'Sending…' : 'Send reply'}
          </button>
          {summary.status === 'closed' && <span className="muted small">Replying reopens the conversation.</span>}
        </div>
        <FormError error={error} />
      </form>
    </section>
  );
}

/**
 * Support inbox: "Chat with us" conversations, live over server-sent events (a visitor's message
 * shows up here within a second, no reload), with the reply box, assignment, close/reopen and the
 * visitor's context. The open conversation is `?c=ID`, so the page (and its stream) stays mounted.
 */
export function SupportInboxPage(_props: ConsolePageProps) {
  const staff = useStaff();
  const { search } = useLocation();
  const selectedId = Number(search.get('c')) || null;
  const [filter, setFilter] = useState<FilterKey>('open');
  const [list, setList] = useState<ConversationList | null>(null);
  const [listError, setListError] = useState<string | null>(null);
  const [listTick, setListTick] = useState(0);
  const [selected, setSelected] = useState<ConversationSummary | null>(null);
  const [messages, setMessages] = useState<SupportMessage[]>([]);
  const [conversationError, setConversationError] = useState<string | null>(null);
  const [contextKey, setContextKey] = useState(0);
  const agents = useAsync(() => consoleGet<{ agents: Agent[] }>('/support/agents'), []);

  // Read by the live handlers, which are set up once.
  const state = useRef({ filter, selectedId, staffId: staff.id, lastMessageId: 0 });
  state.current.filter = filter;
  state.current.selectedId = selectedId;
  state.current.lastMessageId = messages.reduce((max, m) => Math.max(max, m.id), 0);

  const reloadList = useCallback(() => setListTick((n) => n + 1), []);

  useEffect(() => {
    let current = true;
    const query = filters.find((f) => f.key === filter)!.query;
    consoleGet<ConversationList>('/support/conversations', { ...query, limit: 100 }).then(
      (data) => {
        if (!current) return;
        setList(data);
        setListError(null);
      },
      (e) => current && setListError(errorMessage(e)),
    );
    return () => {
      current = false;
    };
  }, [filter, listTick]);

  /** A changed or new conversation (from an action or the live stream) into the list and the view. */
  const upsert = useCallback((conversation: ConversationSummary, counts?: { total_unread: number; unread_conversations: number }) => {
    const { filter: f, staffId } = state.current;
    setList((current) => {
      if (!current) return current;
      const others = current.conversations.filter((c) => c.id !== conversation.id);
      const was = others.length !== current.conversations.length;
      const belongs = inFilter(conversation, f, staffId);
      const conversations = belongs ? [...others, conversation].sort(byLatest) : others;
      const total = current.total + (belongs && !was ? 1 : 0) - (!belongs && was ? 1 : 0);
      return { ...current, ...counts, conversations, total };
    });
    setSelected((current) => (current && current.id === conversation.id ? conversation : current));
  }, []);

  // Open a conversation: its messages (this marks it read) and, beside it, the visitor's context.
  const loadConversation = useCallback(
    async (id: number, after = 0) => {
      try {
        const data = await consoleGet<{ conversation: ConversationSummary; messages: SupportMessage[] }>(`/support/conversations/${id}`, { after });
        if (state.current.selectedId !== id) return;
        setSelected(data.conversation);
        setMessages((current) => (after === 0 ? data.messages : mergeMessages(current, data.messages)));
        setConversationError(null);
        upsert(data.conversation);
      } catch (e) {
        if (state.current.selectedId === id) setConversationError(errorMessage(e));
      }
    },
    [upsert],
  );

  useEffect(() => {
    setMessages([]);
    setSelected(null);
    setConversationError(null);
    if (selectedId) void loadConversation(selectedId);
  }, [selectedId, loadConversation]);

  // One live stream for the whole inbox.
  const live = useLiveEvents(
    '/api/console/support/live',
    {
      message: (event) => {
        const data = event as { conversation_id: number; message: SupportMessage };
        if (data.conversation_id !== state.current.selectedId) return;
        setMessages((current) => mergeMessages(current, [data.message]));
        // The agent is looking at it: a visitor message is read at once (the GET marks it read).
        if (data.message.author === 'visitor') void loadConversation(data.conversation_id, state.current.lastMessageId);
      },
      conversation: (event) => {
        const data = event as { conversation: ConversationSummary; total_unread: number; unread_conversations: number };
        upsert(data.conversation, { total_unread: data.total_unread, unread_conversations: data.unread_conversations });
      },
    },
    // After a drop: the list and the open conversation again.
    () => {
      reloadList();
      const id = state.current.selectedId;
      if (id) void loadConversation(id, state.current.lastMessageId);
    },
  );

  const select = (id: number) => navigate(`/console/support?c=${id}`);

  return (
    <section className="page ops-page inbox-page">
      <div className="page-head">
        <div>
          <h1>Support inbox</h1>
          <p className="muted">
            {list ? (
              <>
                <span data-testid="inbox-unread">
                  {list.total_unread} unread message{list.total_unread === 1 ? '' : 's'} in {list.unread_conversations} conversation
                  {list.unread_conversations === 1 ? '' : 's'}
                </span>
              </>
            ) : (
              'Loading…'
            )}
          </p>
        </div>
        <span className={`badge ${live === 'live' ? 'badge-ok' : 'badge-muted'}`} role="status" data-testid="inbox-live">
          {live === 'live' ? 'Live' : live === 'connecting' ? 'Connecting…' : 'Reconnecting…'}
        </span>
      </div>
      <div className="inbox">
        <section className="card inbox-list" aria-label="Conversations">
          <div className="tabs" role="group" aria-label="Show conversations">
            {filters.map((f) => (
              <button key={f.key} type="button" className="tab" aria-pressed={filter === f.key} onClick={() => setFilter(f.key)}>
                {f.label}
              </button>
            ))}
          </div>
          {listError ? (
            <ErrorBox message={`We could not load the conversations: ${listError}`} onRetry={reloadList} />
          ) : !list ? (
            <Loading what="conversations" />
          ) : list.conversations.length === 0 ? (
            <Empty title="No conversations here.">
              <p className="muted small">New visitor messages appear here as they arrive.</p>
            </Empty>
          ) : (
            <ul className="inbox-items" aria-label="Conversation list">
              {list.conversations.map((c) => (
                <ConversationItem key={c.id} conversation={c} selected={c.id === selectedId} onSelect={() => select(c.id)} />
              ))}
            </ul>
          )}
        </section>
        {selectedId === null ? (
          <section className="card inbox-conversation inbox-placeholder">
            <Empty title="Pick a conversation.">
              <p className="muted small">Its messages, the reply box and the visitor's context open here.</p>
            </Empty>
          </section>
        ) : conversationError ? (
          <section className="card inbox-conversation">
            <ErrorBox message={conversationError} onRetry={() => void loadConversation(selectedId)} />
          </section>
        ) : !selected ? (
          <section className="card inbox-conversation">
            <Loading what="the conversation" />
          </section>
        ) : (
          <ConversationView
            summary={selected}
            messages={messages}
            agents={agents.data?.agents ?? []}
            onSent={(m) => setMessages((current) => mergeMessages(current, [m]))}
            onChanged={(c) => {
              upsert(c);
              setContextKey((n) => n + 1);
            }}
          />
        )}
        {selectedId !== null && (
          <aside className="card inbox-context" aria-label="Visitor context">
            <h2>Visitor</h2>
            <ContextPanel conversationId={selectedId} refreshKey={contextKey + (selected?.messages ?? 0)} />
          </aside>
        )}
      </div>
    </section>
  );
}
