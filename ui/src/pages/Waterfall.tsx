import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { barGeometry, layerColor, timeTicks, visibleRows, windowRange, type FlatSpan, type Waterfall as WaterfallData } from '../lib/waterfall.ts';
import { formatDuration } from '../lib/time.ts';

const ROW = 26;
const VIEWPORT_ROWS = 22;

/**
 * The waterfall: one row per span (depth-first, children by start), a bar per span coloured by
 * layer, the critical path drawn over the bars. Rows are virtualised (only those in view are in
 * the DOM), so a 10,000-span workflow scrolls as well as a 10-span one.
 */
export function WaterfallView(props: {
  data: WaterfallData;
  selected: string | null;
  onSelect: (key: string) => void;
}) {
  const { data } = props;
  const [collapsed, setCollapsed] = useState<ReadonlySet<string>>(() => new Set());
  const [scrollTop, setScrollTop] = useState(0);
  const box = useRef<HTMLDivElement>(null);
  const visible = useMemo(() => visibleRows(data, collapsed), [data, collapsed]);
  const viewport = ROW * Math.min(VIEWPORT_ROWS, Math.max(visible.length, 1));
  const [first, last] = windowRange(visible.length, ROW, scrollTop, viewport);
  const total = data.endMs - data.startMs;
  const ticks = timeTicks(total);
  const layers = useMemo(() => [...new Set(data.rows.map((r) => r.span.layer))].sort(), [data]);

  // a mark for `pnpm bench` (time from navigation to the waterfall drawn)
  useEffect(() => {
    performance.mark('flowscope:waterfall-drawn', { detail: { spans: data.rows.length } });
  }, [data]);

  // bring a selected span into view when it is chosen from elsewhere (errors, suspects)
  useEffect(() => {
    if (!props.selected || !box.current) return;
    const idx = data.byKey.get(props.selected);
    if (idx === undefined) return;
    const pos = visible.indexOf(idx);
    if (pos < 0) {
      // reveal: expand the collapsed ancestors
      const next = new Set(collapsed);
      let p = (data.rows[idx] as FlatSpan).parent;
      while (p >= 0) {
        next.delete((data.rows[p] as FlatSpan).key);
        p = (data.rows[p] as FlatSpan).parent;
      }
      setCollapsed(next);
      return;
    }
    const top = pos * ROW;
    const el = box.current;
    if (top < el.scrollTop || top + ROW > el.scrollTop + el.clientHeight) el.scrollTop = Math.max(0, top - el.clientHeight / 2);
  }, [props.selected, visible]);

  const toggle = (key: string) => {
    const next = new Set(collapsed);
    if (next.has(key)) next.delete(key);
    else next.add(key);
    setCollapsed(next);
  };
  const collapseAll = () => setCollapsed(new Set(data.rows.filter((r) => r.childCount > 0 && r.depth >= 1).map((r) => r.key)));

  return (
    <div class="waterfall">
      <div class="wf-toolbar">
        <span class="muted">
          {visible.length.toLocaleString('en-US')} of {data.rows.length.toLocaleString('en-US')} spans shown
        </span>
        <span class="wf-legend" aria-hidden="true">
          {layers.map((l) => (
            <span key={l}>
              <span class="swatch" style={{ background: layerColor(l) }} /> {l}
            </span>
          ))}
          <span>
            <span class="legend-critical" /> critical path
          </span>
          <span>
            <span class="err-mark">!</span>error
          </span>
        </span>
        <button type="button" class="btn btn-small" onClick={() => setCollapsed(new Set())}>
          Expand all
        </button>
        <button type="button" class="btn btn-small" onClick={collapseAll}>
          Collapse all
        </button>
      </div>
      <div class="wf-axis" aria-hidden="true">
        <div class="wf-label-col">Service · operation</div>
        <div class="wf-bar-col">
          {ticks.map((t) => (
            <span key={t} class="wf-tick" style={{ left: `${total > 0 ? (t / total) * 100 : 0}%` }}>
              {formatDuration(t)}
            </span>
          ))}
        </div>
      </div>
      <div
        class="wf-scroll"
        ref={box}
        style={{ height: `${viewport}px` }}
        onScroll={(e) => setScrollTop((e.currentTarget as HTMLDivElement).scrollTop)}
        tabIndex={0}
        aria-label="Span timeline"
        role="region"
      >
        <ul class="wf-rows" role="list" aria-label="Spans" style={{ height: `${visible.length * ROW}px` }}>
          {visible.slice(first, last).map((idx, i) => {
            const r = data.rows[idx] as FlatSpan;
            const s = r.span;
            const g = barGeometry(r.startMs, r.endMs, data);
            const isCollapsed = collapsed.has(r.key);
            const onCritical = r.critical.length > 0;
            const label = `${s.component} ${s.name}, ${formatDuration(s.duration_ms)}${s.is_error ? ', error' : ''}${onCritical ? ', on the critical path' : ''}`;
            return (
              <li
                key={r.key}
                class={`wf-row${props.selected === r.key ? ' selected' : ''}${s.is_error ? ' is-error' : ''}`}
                style={{ top: `${(first + i) * ROW}px` }}
                aria-setsize={visible.length}
                aria-posinset={first + i + 1}
              >
                <div class="wf-label-col" style={{ paddingLeft: `${Math.min(r.depth, 30) * 12 + 4}px` }}>
                  {r.childCount > 0 ? (
                    <button
                      type="button"
                      class="wf-toggle"
                      aria-expanded={!isCollapsed}
                      aria-label={`${isCollapsed ? 'Expand' : 'Collapse'} ${s.name} (${r.subtreeEnd - idx - 1} spans below)`}
                      onClick={() => toggle(r.key)}
                    >
                      {isCollapsed ? '▸' : '▾'}
                    </button>
                  ) : (
                    <span class="wf-toggle-space" />
                  )}
                  <button type="button" class="wf-select" aria-label={label} aria-pressed={props.selected === r.key} onClick={() => props.onSelect(r.key)}>
                    {s.is_error && <span class="err-mark" aria-hidden="true">!</span>}
                    {!s.is_error && isCollapsed && r.errorInSubtree && <span class="err-mark err-mark-soft" aria-hidden="true">!</span>}
                    <span class="wf-service">{s.component}</span> <span class="wf-name">{s.name}</span>
                  </button>
                </div>
                <div class="wf-bar-col">
                  <span
                    class={`wf-bar${s.is_error ? ' wf-bar-error' : ''}`}
                    style={{ left: `${g.left * 100}%`, width: `${g.width * 100}%`, background: layerColor(s.layer) }}
                  />
                  {r.critical.map(([a, b], j) => {
                    const c = barGeometry(a, b, data, 0.001);
                    return <span key={j} class="wf-critical" style={{ left: `${c.left * 100}%`, width: `${c.width * 100}%` }} />;
                  })}
                  <span class="wf-dur" style={g.left > 0.8 ? { right: `${(1 - g.left) * 100 + 0.5}%` } : { left: `${(g.left + g.width) * 100 + 0.5}%` }}>
                    {formatDuration(s.duration_ms)}
                  </span>
                </div>
              </li>
            );
          })}
        </ul>
      </div>
    </div>
  );
}
