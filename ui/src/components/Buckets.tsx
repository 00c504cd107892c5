// Spend buckets (cost reports): a table and a bar chart of cost per key.
import { useRef, type ReactNode } from 'react';
import { Bar, BarChart, CartesianGrid, Tooltip, XAxis, YAxis } from 'recharts';
import type { Bucket } from '../api/types';
import { int, money, usd } from '../lib/format';
import { useWidth } from '../lib/hooks';
import { chartColors, useTheme } from '../lib/theme';

export function BucketTable({ buckets, keyLabel, linkOf }: { buckets: readonly Bucket[]; keyLabel: string; linkOf?: (key: string) => string | undefined }) {
  if (!buckets.length) return <p className="muted">No model calls.</p>;
  return (
    <table className="table compact">
      <thead>
        <tr>
          <th>{keyLabel}</th>
          <th className="num">calls</th>
          <th className="num">input</th>
          <th className="num">cached read</th>
          <th className="num">cache write</th>
          <th className="num">output</th>
          <th className="num">reasoning</th>
          <th className="num">cost</th>
        </tr>
      </thead>
      <tbody>
        {buckets.map((b) => {
          const link = linkOf?.(b.key);
          return (
            <tr key={b.key}>
              <td className="mono">{link ? <a href={link}>{b.key}</a> : b.key}</td>
              <td className="num">{int(b.calls)}</td>
              <td className="num">{int(b.tokens.input)}</td>
              <td className="num">{int(b.tokens.cached_read)}</td>
              <td className="num">{int(b.tokens.cache_write)}</td>
              <td className="num">{int(b.tokens.output)}</td>
              <td className="num">{int(b.tokens.reasoning)}</td>
              <td className="num" title={b.unknown_price_calls ? `${b.unknown_price_calls} call(s) without a price` : undefined}>
                {money(b.cost_usd, b.cost_known)}
              </td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}

/** ChartBox measures its width so charts get fixed sizes (no zero-size warnings). */
export function ChartBox({ height, children }: { height: number; children: (width: number) => ReactNode }) {
  const ref = useRef<HTMLDivElement>(null);
  const width = useWidth(ref);
  return (
    <div ref={ref} className="chart-box" style={{ height }}>
      {width > 0 && children(width)}
    </div>
  );
}

/** CostBars is a horizontal bar per bucket (the most expensive `limit`). */
export function CostBars({ buckets, limit = 12 }: { buckets: readonly Bucket[]; limit?: number }) {
  const c = chartColors(useTheme());
  const data = [...buckets].sort((a, b) => b.cost_usd - a.cost_usd).slice(0, limit).map((b) => ({ key: b.key, cost: b.cost_usd }));
  if (!data.length) return null;
  const height = 40 + data.length * 26;
  return (
    <ChartBox height={height}>
      {(width) => (
        <BarChart width={width} height={height} data={data} layout="vertical" margin={{ top: 4, right: 16, bottom: 4, left: 4 }}>
          <CartesianGrid stroke={c.grid} horizontal={false} />
          <XAxis type="number" tickFormatter={(v: number) => usd(v)} stroke={c.text} fontSize={11} />
          <YAxis type="category" dataKey="key" width={Math.min(180, width / 3)} stroke={c.text} fontSize={11} interval={0} />
          <Tooltip
            formatter={(v) => [usd(Number(v)), 'cost']}
            contentStyle={{ background: c.tooltipBg, borderColor: c.tooltipBorder }}
            cursor={{ fill: c.grid, opacity: 0.4 }}
          />
          <Bar dataKey="cost" fill={c.bar} isAnimationActive={false} />
        </BarChart>
      )}
    </ChartBox>
  );
}

/** BucketSection is a titled table with its chart beside it. */
export function BucketSection({ title, buckets, keyLabel, linkOf }: { title: string; buckets: readonly Bucket[]; keyLabel: string; linkOf?: (key: string) => string | undefined }) {
  return (
    <section className="card">
      <h3>{title}</h3>
      <div className="split">
        <div className="scroll-x">
          <BucketTable buckets={buckets} keyLabel={keyLabel} linkOf={linkOf} />
        </div>
        <CostBars buckets={buckets} />
      </div>
    </section>
  );
}

/** TokenKinds lists a bucket's token counts by kind. */
export function TokenKinds({ b }: { b: Bucket }) {
  const kinds: [string, number][] = [
    ['input', b.tokens.input],
    ['cached read', b.tokens.cached_read],
    ['cache write', b.tokens.cache_write],
    ['output', b.tokens.output],
    ['reasoning', b.tokens.reasoning],
  ];
  return (
    <dl className="stats">
      {kinds.map(([k, v]) => (
        <div key={k}>
          <dt>{k}</dt>
          <dd>{int(v)}</dd>
        </div>
      ))}
    </dl>
  );
}
