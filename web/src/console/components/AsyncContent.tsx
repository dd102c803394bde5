import type { ReactNode } from 'react';
import { ErrorBox, Loading } from '../../components/States.tsx';

/** What `useAsync` gives a section. */
export interface AsyncState<T> {
  data?: T;
  error?: string;
  loading: boolean;
  reload(): void;
}

/**
 * A section's loaded data, or what stands in for it: "Loading …" the first time, the error with
 * Try again, `empty` when `isEmpty(data)`. A reload keeps showing the data it replaces.
 */
export function AsyncContent<T>(props: {
  state: AsyncState<T>;
  /** Shown as "Loading {what}…". */
  what: string;
  /** Put before the server's message, e.g. "We could not load the numbers". */
  failure?: string;
  isEmpty?(data: T): boolean;
  empty?: ReactNode;
  children(data: T): ReactNode;
}) {
  const { state, what, failure, isEmpty, empty, children } = props;
  if (state.loading && !state.data) return <Loading what={what} />;
  if (state.error !== undefined || state.data === undefined) {
    const reason = state.error ?? 'no answer';
    return <ErrorBox message={failure ? `${failure}: ${reason}` : reason} onRetry={state.reload} />;
  }
  return <>{isEmpty?.(state.data) ? empty : children(state.data)}</>;
}
