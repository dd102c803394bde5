import type { ReactNode } from 'react';
import { Pager } from '../../components/Pager.tsx';

/** A header cell: its text, right-aligned for figures, or read only by screen readers. */
export type Column = string | { label: string; num?: boolean; hidden?: boolean };

/** A right-aligned column of amounts or counts. */
export const numeric = (label: string): Column => ({ label, num: true });

/** The last column, of row buttons: no visible heading, named for screen readers. */
export const actionsColumn: Column = { label: 'Actions', hidden: true };

/** A named table (tests and screen readers find it by `label`) with one header row; `children` are its body rows. */
export function DataTable({ label, columns, compact, children }: { label: string; columns: Column[]; compact?: boolean; children: ReactNode }) {
  return (
    <div className="table-wrap">
      <table className={compact ? 'table compact' : 'table'} aria-label={label}>
        <thead>
          <tr>
            {columns.map((column) => {
              const { label: text, num, hidden } = typeof column === 'string' ? { label: column } : column;
              return (
                <th key={text} scope="col" className={num ? 'num' : undefined}>
                  {hidden ? <span className="visually-hidden">{text}</span> : text}
                </th>
              );
            })}
          </tr>
        </thead>
        <tbody>{children}</tbody>
      </table>
    </div>
  );
}

/** Where a list read with limit and offset is, and how to move. */
export interface Paging {
  offset: number;
  limit: number;
  onOffset(offset: number): void;
}

/** A DataTable of one page of a longer list, with Previous / "1–20 of 57" / Next under it. */
export function PagedTable<T>(props: {
  label: string;
  columns: Column[];
  compact?: boolean;
  rows: T[];
  total: number;
  paging: Paging;
  pagerLabel: string;
  children(row: T): ReactNode;
}) {
  const { label, columns, compact, rows, total, paging, pagerLabel, children } = props;
  return (
    <>
      <DataTable label={label} columns={columns} compact={compact}>
        {rows.map(children)}
      </DataTable>
      <Pager label={pagerLabel} offset={paging.offset} limit={paging.limit} shown={rows.length} total={total} onOffset={paging.onOffset} />
    </>
  );
}
