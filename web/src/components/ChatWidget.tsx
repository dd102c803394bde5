import { type FormEvent, useCallback, useEffect, useRef, useState } from 'react';
import { ApiError, api, type ChatMessage, errorMessage } from '../api.ts';
import { Feedback } from './Feedback.tsx';

const tokenKey = 'nova_chat_visitor_token';
const conversationKey = 'nova_chat_conversation_id';

function mergeMessages(current: ChatMessage[], incoming: ChatMessage[]): ChatMessage[] {
  const byId = new Map(current.map((m) => [m.id, m]));
  for (const message of incoming) byId.set(message.id, message);
  return [...byId.values()].sort((a, b) => a.id - b.id);
}

/**
 * "Chat with us" on every page. No account needed: the conversation belongs to a visitor token
 * kept in localStorage, so the history survives a reload. Messages are shown as plain text
 * (React escapes them); nothing from a message is ever rendered as HTML.
 */
export function ChatWidget() {
  const [open, setOpen] = useState(false);
  const [token, setToken] = useState<string | null>(() => localStorage.getItem(tokenKey));
  const [messages, setMessages] = useState<ChatMessage[]>([]);
  const [draft, setDraft] = useState('');
  const [sending, setSending] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [ended, setEnded] = useState(false);
  const listRef = useRef<HTMLOListElement>(null);
  const inputRef = useRef<HTMLTextAreaElement>(null);

  const forget = useCallback(() => {
    localStorage.removeItem(tokenKey);
    localStorage.removeItem(conversationKey);
    setToken(null);
    setMessages([]);
  }, []);

  // History and live messages while the panel is open.
  useEffect(() => {
    if (!open || !token) return;
    let cancelled = false;
    let source: EventSource | undefined;
    api<{ messages: ChatMessage[] }>('/api/web/chat/messages', { headers: { 'x-visitor-token': token } })
      .then((data) => {
        if (cancelled) return;
        setMessages((current) => mergeMessages(current, data.messages));
        // Live from the last message we have: the server first sends anything newer, so a
        // reply written between the two requests is not lost (reconnects use Last-Event-ID).
        const after = data.messages.reduce((max, m) => Math.max(max, m.id), 0);
        source = new EventSource(`/api/web/chat/live?visitor_token=${encodeURIComponent(token)}&after=${after}`);
        source.addEventListener('message', (event) => {
          try {
            const parsed = JSON.parse((event as MessageEvent<string>).data);
            const message: ChatMessage = parsed.message ?? parsed;
            if (typeof message.id === 'number') setMessages((current) => mergeMessages(current, [message]));
          } catch {
            // A malformed event is skipped; the next history load repairs the list.
          }
        });
      })
      .catch((e) => {
        if (cancelled) return;
        // An unknown or expired token: start over instead of showing a broken chat.
        if (e instanceof ApiError && (e.status === 401 || e.status === 404 || e.status === 403)) forget();
        else setError(errorMessage(e));
      });
    return () => {
      cancelled = true;
      source?.close();
    };
  }, [open, token, forget]);

  useEffect(() => {
    listRef.current?.lastElementChild?.scrollIntoView({ block: 'end' });
  }, [messages, open]);

  useEffect(() => {
    if (open) inputRef.current?.focus();
  }, [open]);

  const send = async (event?: FormEvent) => {
    event?.preventDefault();
    const text = draft.trim();
    if (!text || sending) return;
    setSending(true);
    setError(null);
    try {
      let visitorToken = token;
      if (!visitorToken) {
        const created = await api<{ conversation_id: number; visitor_token: string }>('/api/web/chat/conversations', {
          method: 'POST',
          // The page the visitor writes from, shown to the agent beside the conversation.
          body: { page: location.pathname.slice(0, 300) },
        });
        visitorToken = created.visitor_token;
        localStorage.setItem(tokenKey, visitorToken);
        localStorage.setItem(conversationKey, String(created.conversation_id));
        setToken(visitorToken);
      }
      const sent = await api<{ message: ChatMessage }>('/api/web/chat/messages', {
        method: 'POST',
        body: { text, page: location.pathname.slice(0, 300) },
        headers: { 'x-visitor-token': visitorToken },
      });
      setMessages((current) => mergeMessages(current, [sent.message]));
      setDraft('');
      setEnded(false);
    } catch (e) {
      setError(errorMessage(e));
    } finally {
      setSending(false);
    }
  };

  return (
    <div className={`chat${open ? ' is-open' : ''}`}>
      {open && (
        <section
          className="chat-panel"
          role="dialog"
          aria-labelledby="chat-title"
          aria-describedby="chat-subtitle"
          onKeyDown={(e) => {
            if (e.key === 'Escape') setOpen(false);
          }}
        >
          <header className="chat-header">
            <div>
              <h2 id="chat-title">Chat with us</h2>
              <p id="chat-subtitle">Ask us anything — we keep this private and on-site. No account needed.</p>
            </div>
            <button type="button" className="icon-btn" aria-label="Close chat" onClick={() => setOpen(false)}>
              ×
            </button>
          </header>
          <ol className="chat-messages" ref={listRef} aria-live="polite" aria-label="Conversation">
            {messages.length === 0 && (
              <li className="chat-empty">Say hello — a person from our team answers here, usually within minutes.</li>
            )}
            {messages.map((message) => (
              <li key={message.id} className={`chat-message from-${message.author}`} data-author={message.author}>
                <span className="visually-hidden">{message.author === 'support' ? 'Support: ' : 'You: '}</span>
                <span className="chat-text">{message.text}</span>
              </li>
            ))}
          </ol>
          {ended ? (
            <div className="chat-end">
              <Feedback
                context="chat"
                reference={localStorage.getItem(conversationKey) ?? undefined}
                onClose={() => {
                  setEnded(false);
                  forget();
                }}
              />
            </div>
          ) : (
            <form className="chat-form" onSubmit={send}>
              <label className="visually-hidden" htmlFor="chat-input">
                Your message
              </label>
              <textarea
                id="chat-input"
                ref={inputRef}
                rows={2}
                maxLength={2000}
                placeholder="Type your message…"
                value={draft}
                onChange={(e) => setDraft(e.target.value)}
                onKeyDown={(e) => {
                  if (e.key === 'Enter' && !e.shiftKey) {
                    e.preventDefault();
                    void send();
                  }
                }}
              />
              <div className="chat-actions">
                {messages.length > 0 && (
                  <button type="button" className="btn btn-small btn-ghost" onClick={() => setEnded(true)}>
                    End chat
                  </button>
                )}
                <button type="submit" className="btn btn-primary btn-small" disabled={sending || !draft.trim()}>
                  {sending ? 'Sending…' : 'Send'}
                </button>
              </div>
              {error && (
                <p className="form-error" role="alert">
                  {error}
                </p>
              )}
            </form>
          )}
        </section>
      )}
      <button
        type="button"
        className="chat-launcher"
        aria-expanded={open}
        onClick={() => setOpen((value) => !value)}
      >
        <svg aria-hidden="true" width="18" height="18" viewBox="0 0 24 24" fill="none" stroke="currentColor" strokeWidth="2" strokeLinecap="round" strokeLinejoin="round">
          <path d="M21 12a8 8 0 0 1-11.6 7.1L4 21l1.9-5.1A8 8 0 1 1 21 12z" />
        </svg>
        {open ? 'Close chat' : 'Chat with us'}
      </button>
    </div>
  );
}
