import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

export interface ChartSeries {
  label: string;
  color: string;
  dash?: number[];
  width?: number;
}

/** A uPlot time-series chart (loaded with the performance page only). */
export default function Chart(props: { title: string; data: (number | null)[][]; series: ChartSeries[]; unit: string; height?: number }) {
  const el = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (!el.current) return;
    const width = Math.max(320, el.current.clientWidth);
    const plot = new uPlot(
      {
        width,
        height: props.height ?? 240,
        series: [{}, ...props.series.map((s) => ({ label: s.label, stroke: s.color, width: s.width ?? 2, ...(s.dash ? { dash: s.dash, points: { show: false } } : {}), spanGaps: false }))],
        axes: [{}, { label: props.unit, size: 60 }],
        scales: { x: { time: true } },
        legend: { show: true },
      },
      props.data as uPlot.AlignedData,
      el.current,
    );
    const onResize = () => el.current && plot.setSize({ width: Math.max(320, el.current.clientWidth), height: props.height ?? 240 });
    window.addEventListener('resize', onResize);
    return () => {
      window.removeEventListener('resize', onResize);
      plot.destroy();
    };
  }, [props.data, props.series]);
  return <div class="chart" ref={el} role="img" aria-label={props.title} />;
}
