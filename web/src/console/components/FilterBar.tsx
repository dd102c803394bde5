import type { ReactNode } from 'react';

/** The row of filters above a list, a search landmark named `label` ("Filter numbers"). */
export function FilterBar({ label, children }: { label: string; children: ReactNode }) {
  return (
    <div className="filters" role="search" aria-label={label}>
      {children}
    </div>
  );
}
