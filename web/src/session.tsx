import { createContext, type ReactNode, useCallback, useContext, useEffect, useState } from 'react';
import { type Account, api, sessionEndedEvent } from './api.ts';

interface SessionState {
  /** undefined while loading the session, null when signed out. */
  account: Account | null | undefined;
  /** Set when staff blocked the company: why nothing works and whom to contact. */
  blockedMessage: string | null;
  setAccount(account: Account | null): void;
  refresh(): Promise<void>;
}

const SessionContext = createContext<SessionState>({ account: undefined, blockedMessage: null, setAccount: () => {}, refresh: async () => {} });

export function SessionProvider({ children }: { children: ReactNode }) {
  const [account, setAccount] = useState<Account | null | undefined>(undefined);
  const [blockedMessage, setBlockedMessage] = useState<string | null>(null);
  const refresh = useCallback(async () => {
    try {
      // Also sets the nova_csrf cookie the fetch wrapper sends back on every change.
      const session = await api<{ account: Account | null; blocked?: boolean; blocked_message?: string | null }>('/api/web/session');
      setAccount(session.account);
      setBlockedMessage(session.blocked ? (session.blocked_message ?? 'Your account is blocked; contact support') : null);
    } catch {
      setAccount(null);
    }
  }, []);
  useEffect(() => {
    void refresh();
    const ended = () => setAccount(null);
    window.addEventListener(sessionEndedEvent, ended);
    return () => window.removeEventListener(sessionEndedEvent, ended);
  }, [refresh]);
  return <SessionContext.Provider value={{ account, blockedMessage: account ? blockedMessage : null, setAccount, refresh }}>{children}</SessionContext.Provider>;
}

export const useSession = () => useContext(SessionContext);
