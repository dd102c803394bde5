import { useCallback, useEffect, useState } from 'react';
import { errorMessage } from './api.ts';

/** Loads data for a page: { data, error, loading, reload } with stale answers ignored. */
export function useAsync<T>(load: () => Promise<T>, deps: unknown[]) {
  const [state, setState] = useState<{ data?: T; error?: string; loading: boolean }>({ loading: true });
  const [tick, setTick] = useState(0);
  // The caller names what the load depends on, like useEffect's dependency list.
  const stableLoad = useCallback(load, deps);
  useEffect(() => {
    let current = true;
    setState((s) => ({ data: s.data, loading: true }));
    stableLoad().then(
      (data) => current && setState({ data, loading: false }),
      (error) => current && setState({ error: errorMessage(error), loading: false }),
    );
    return () => {
      current = false;
    };
  }, [stableLoad, tick]);
  const reload = useCallback(() => setTick((n) => n + 1), []);
  return { ...state, reload, setData: (data: T) => setState({ data, loading: false }) };
}
