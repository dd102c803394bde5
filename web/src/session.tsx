import { createContext, type ReactNode, useCallback, useContext, useEffect, useState } from 'react';
import { type Account, api, sessionEndedEvent } from './api.ts';

interface SessionState {
  /** undefined while loading the session, null when signed out. */
  account: Account | null | undefined;
  setAccount(account: Account | null): void;
  refresh(): Promise<void>;
}

const SessionContext = createContext<SessionState>({ account: undefined, setAccount: () => {}, refresh: async () => {} });

export function SessionProvider({ children }: { children: ReactNode }) {
  const [account, setAccount] = useState<Account | null | undefined>(undefined);
  const refresh = useCallback(async () => {
    try {
      // Also sets the nova_csrf cookie the fetch wrapper sends back on every change.
      const session = await api<{ account: Account | null }>('/api/web/session');
      setAccount(session.account);
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
  return <SessionContext.Provider value={{ account, setAccount, refresh }}>{children}</SessionContext.Provider>;
}

export const useSession = () => useContext(SessionContext);
