/** Progress is a labeled bar of used/max; over 80% it warns, at 100% it is an error. */
export function Progress({ label, used, max, text }: { label: string; used: number; max: number; text: string }) {
  const f = max > 0 ? Math.min(1, Math.max(0, used / max)) : 0;
  const level = f >= 1 ? 'full' : f >= 0.8 ? 'high' : 'ok';
  return (
    <div className="progress" data-testid="budget" data-fraction={f.toFixed(4)}>
      <div className="progress-label">
        <span>{label}</span>
        <span className="muted">{text}</span>
      </div>
      <div className="progress-track" role="progressbar" aria-label={label} aria-valuemin={0} aria-valuemax={100} aria-valuenow={Math.round(f * 100)}>
        <div className={`progress-fill ${level}`} style={{ width: `${(f * 100).toFixed(2)}%` }} />
      </div>
    </div>
  );
}
