import { useEffect, useId, useRef } from 'react';
import uPlot from 'uplot';
// Bundled from node_modules and served by our own server: the strict CSP allows no CDN.
import 'uplot/dist/uPlot.min.css';
import './Chart.css';

export interface ChartSeries {
  label: string;
  /** One value per x; null leaves a gap (a day without data). */
  values: (number | null)[];
  color: string;
  /** Formats a value for the tooltip legend and the table fallback. */
  format?: (value: number) => string;
  /** Which y axis: 'y' (left, default) or 'y2' (right, e.g. a rate next to counts). */
  scale?: 'y' | 'y2';
}

/** Days as "YYYY-MM-DD" (UTC) → unix seconds, what uPlot's time axis expects. */
function dayToSeconds(day: string): number {
  return Date.parse(`${day.slice(0, 10)}T00:00:00Z`) / 1000;
}

/**
 * A small time-series line chart (uPlot) over days, with the same numbers as a table for screen
 * readers and tests: a canvas alone says nothing to assistive technology.
 */
export function Chart({
  title,
  days,
  series,
  height = 220,
  yRange,
}: {
  title: string;
  days: string[];
  series: ChartSeries[];
  height?: number;
  /** A fixed left axis (e.g. ratings 0–5) instead of one that follows the data. */
  yRange?: [number, number];
}) {
  const id = useId();
  const box = useRef<HTMLDivElement>(null);

  useEffect(() => {
    const target = box.current;
    if (!target || days.length === 0) return;
    const hasRight = series.some((s) => s.scale === 'y2');
    const options: uPlot.Options = {
      width: Math.max(240, target.clientWidth),
      height,
      tzDate: (ts) => uPlot.tzDate(new Date(ts * 1000), 'Etc/UTC'),
      legend: { show: true },
      cursor: { drag: { x: false, y: false } },
      scales: { x: { time: true }, y: { range: (_u, min, max) => yRange ?? [Math.min(0, min), max > 0 ? max * 1.1 : 1] }, y2: { range: (_u, _min, max) => [0, max > 0 ? max * 1.1 : 1] } },
      axes: [
        { stroke: '#5b6178', grid: { stroke: '#e2e5ef' } },
        { stroke: '#5b6178', grid: { stroke: '#e2e5ef' }, size: 56 },
        ...(hasRight ? [{ scale: 'y2', side: 1 as const, stroke: '#5b6178', grid: { show: false }, size: 56 }] : []),
      ],
      series: [
        { label: 'Day', value: (_u: uPlot, v: number | null) => (v === null ? '—' : new Date(v * 1000).toISOString().slice(0, 10)) },
        ...series.map((s) => ({
          label: s.label,
          stroke: s.color,
          width: 2,
          scale: s.scale ?? 'y',
          spanGaps: false,
          points: { show: days.length < 40 },
          value: (_u: uPlot, v: number | null) => (v === null ? '—' : s.format ? s.format(v) : String(v)),
        })),
      ],
    };
    const data: uPlot.AlignedData = [days.map(dayToSeconds), ...series.map((s) => s.values)];
    const chart = new uPlot(options, data, target);
    // Follow the container's width (the console's columns resize with the window).
    const observer = new ResizeObserver(() => {
      const width = Math.max(240, target.clientWidth);
      if (width !== chart.width) chart.setSize({ width, height });
    });
    observer.observe(target);
    return () => {
      observer.disconnect();
      chart.destroy();
    };
  }, [days, series, height, yRange]);

  return (
    <figure className="chart" aria-labelledby={`${id}-title`}>
      <figcaption id={`${id}-title`} className="chart-title">
        {title}
      </figcaption>
      {days.length === 0 ? (
        <p className="muted">No data for this period yet.</p>
      ) : (
        <>
          <div ref={box} className="chart-canvas" aria-hidden="true" data-testid="chart-canvas" />
          <details className="chart-data">
            <summary>Show the numbers</summary>
            <div className="table-wrap">
              <table className="table compact" aria-label={`${title} by day`}>
                <thead>
                  <tr>
                    <th scope="col">Day</th>
                    {series.map((s) => (
                      <th key={s.label} scope="col" className="num">
                        {s.label}
                      </th>
                    ))}
                  </tr>
                </thead>
                <tbody>
                  {days.map((day, i) => (
                    <tr key={day}>
                      <th scope="row">{day}</th>
                      {series.map((s) => {
                        const v = s.values[i];
                        return (
                          <td key={s.label} className="num">
                            {v === null || v === undefined ? '—' : s.format ? s.format(v) : v}
                          </td>
                        );
                      })}
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          </details>
        </>
      )}
    </figure>
  );
}
