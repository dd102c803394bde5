/** Previous / "1–20 of 57" / Next for a list read with limit and offset. */
export function Pager(props: { label: string; offset: number; limit: number; shown: number; total: number; onOffset(offset: number): void }) {
  const { label, offset, limit, shown, total, onOffset } = props;
  return (
    <nav className="pager" aria-label={label}>
      <button type="button" className="btn btn-small" disabled={offset === 0} onClick={() => onOffset(Math.max(0, offset - limit))}>
        Previous
      </button>
      <span className="muted">
        {offset + 1}–{offset + shown} of {total}
      </span>
      <button type="button" className="btn btn-small" disabled={offset + limit >= total} onClick={() => onOffset(offset + limit)}>
        Next
      </button>
    </nav>
  );
}
