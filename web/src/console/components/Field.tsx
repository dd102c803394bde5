import type { ReactNode } from 'react';

/** A form control with its label: the text above it, or beside it when `inline`; `grow` takes the row's free width. */
export function Field({ label, grow, inline, children }: { label: ReactNode; grow?: boolean; inline?: boolean; children: ReactNode }) {
  const className = `field${grow ? ' grow' : ''}${inline ? ' inline' : ''}`;
  return (
    <label className={className}>
      <span>{label}</span>
      {children}
    </label>
  );
}
