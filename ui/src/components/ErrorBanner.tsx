/** ErrorBanner shows an API (or any) error where the browser tests look for it. */
export function ErrorBanner({ error, onRetry }: { error: Error | string | null | undefined; onRetry?: () => void }) {
  if (!error) return null;
  return (
    <div className="error-banner" role="alert" data-testid="error">
      <span>{typeof error === 'string' ? error : error.message}</span>
      {onRetry && (
        <button type="button" className="link" onClick={onRetry}>
          retry
        </button>
      )}
    </div>
  );
}
