import { memo } from 'react';

/** StatusBadge is a colored status word; data-status carries it for tests and CSS. */
export const StatusBadge = memo(function StatusBadge({ status, testId }: { status: string; testId?: string }) {
  return (
    <span className={`badge st-${status || 'pending'}`} data-status={status} data-testid={testId}>
      {status || 'pending'}
    </span>
  );
});
