import { createContext, type ReactNode, useCallback, useContext, useEffect, useState } from 'react';
import { type ConsoleSession, consoleApi, consoleForbiddenEvent, rememberCsrfToken, type SignInStage, type StaffMember } from './console-api.ts';

interface ConsoleSessionState {
  /** undefined while loading, null when nobody is signed in to the console. */
  staff: StaffMember | null | undefined;
  stage: SignInStage | null;
  /** Re-reads GET /api/console/session (after sign-in steps, or when the server said 403). */
  refresh(): Promise<void>;
  setSession(session: { staff: StaffMember | null; stage: SignInStage | null }): void;
}

const ConsoleSessionContext = createContext<ConsoleSessionState>({
  staff: undefined,
  stage: null,
  refresh: async () => {},
  setSession: () => {},
});

/** The staff session of the console: its own cookie, never the customer website's session. */
export function ConsoleSessionProvider({ children }: { children: ReactNode }) {
  const [state, setState] = useState<{ staff: StaffMember | null | undefined; stage: SignInStage | null }>({ staff: undefined, stage: null });
  const refresh = useCallback(async () => {
    try {
      // Also sets the nova_console_csrf cookie the fetch wrapper echoes on every change.
      const session = await consoleApi<ConsoleSession>('/session');
      rememberCsrfToken(session.csrf_token);
      setState({ staff: session.staff, stage: session.stage });
    } catch {
      setState({ staff: null, stage: null });
    }
  }, []);
  useEffect(() => {
    void refresh();
    // A 403 means either the session ended or the role may not do this; the session tells which.
    const forbidden = () => void refresh();
    window.addEventListener(consoleForbiddenEvent, forbidden);
    return () => window.removeEventListener(consoleForbiddenEvent, forbidden);
  }, [refresh]);
  const setSession = useCallback((session: { staff: StaffMember | null; stage: SignInStage | null }) => setState(session), []);
  return <ConsoleSessionContext.Provider value={{ ...state, refresh, setSession }}>{children}</ConsoleSessionContext.Provider>;
}

export const useConsoleSession = () => useContext(ConsoleSessionContext);

/** The signed-in staff member of a console page (the shell renders pages only for one). */
export function useStaff(): StaffMember {
  const { staff } = useConsoleSession();
  if (!staff) throw new Error('useStaff outside a signed-in console page');
  return staff;
}

/** Where sign-in sends a visitor afterwards: only back into the console, never elsewhere. */
export function safeNext(next: string | null): string {
  return next && (next === '/console' || next.startsWith('/console/')) && !next.startsWith('/console/signin') && !next.startsWith('//')
    ? next
    : '/console';
}
