// What every run tab gets from the run pages' frame (RunLayout): a module of its own, so the
// tabs and the frame that imports them do not import each other.
import type { Run } from '../api/types';
import type { LiveState } from '../lib/live';

export interface RunPageProps {
  id: string;
  run: Run | undefined;
  live: LiveState;
  running: boolean; // the run can still change: tabs refresh
}
