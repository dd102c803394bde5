import { useState } from 'react';
import { useAsync } from '../use-async.ts';
import { consoleGet, type QueryValue } from './console-api.ts';
import type { Paging } from './components/DataTable.tsx';

/**
 * One page of a console list read with limit and offset: useAsync's { data, error, loading, reload }
 * plus the `paging` a PagedTable moves with. `deps` names what `path` and `query` depend on.
 */
export function usePagedList<T>(path: string, query: Record<string, QueryValue>, limit: number, deps: unknown[]) {
  const [offset, setOffset] = useState(0);
  const list = useAsync(() => consoleGet<T>(path, { ...query, limit, offset }), [...deps, offset]);
  const paging: Paging = { offset, limit, onOffset: setOffset };
  return { ...list, paging };
}
