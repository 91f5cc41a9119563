import { readFile, rename, writeFile } from 'node:fs/promises';
import type { BeatCandidate, BeatEntry, BeatStore } from './store';

interface Saved {
  last_run_at: string | null;
  total_run_count: number;
}

/**
 * The default scheduler's bookkeeping (Celery's `PersistentScheduler` keeps it in a shelve file,
 * `beat_schedule_filename`, which only Python can read): last runs in a JSON file, written
 * atomically after every run, so a restart neither skips nor doubles a run. Without a path it
 * lives in memory only. New entries start counting from the beat's start, as Celery's do.
 */
export class FileBeatStore implements BeatStore {
  private entries: readonly BeatEntry[] = [];
  private saved = new Map<string, Saved>();

  constructor(private readonly path?: string) {}

  async setup(entries: readonly BeatEntry[], now: Date): Promise<void> {
    this.entries = entries;
    if (this.path) {
      const text = await readFile(this.path, 'utf8').catch(() => undefined);
      if (text !== undefined) {
        const data = JSON.parse(text) as { entries?: Record<string, Saved> };
        this.saved = new Map(Object.entries(data.entries ?? {}));
      }
    }
    for (const e of entries) {
      if (!this.saved.has(e.name)) {
        this.saved.set(e.name, { last_run_at: now.toISOString(), total_run_count: 0 });
      }
    }
    await this.flush();
  }

  candidates(): Promise<BeatCandidate[]> {
    return Promise.resolve(
      this.entries.map((entry) => {
        const s = this.saved.get(entry.name);
        return {
          entry,
          lastRunAt: s?.last_run_at ? new Date(s.last_run_at) : null,
          totalRunCount: s?.total_run_count ?? 0,
        };
      }),
    );
  }

  async recordRun(entry: BeatEntry, at: Date, totalRunCount: number): Promise<void> {
    this.saved.set(entry.name, { last_run_at: at.toISOString(), total_run_count: totalRunCount });
    await this.flush();
  }

  private async flush(): Promise<void> {
    if (!this.path) return;
    const tmp = `${this.path}.tmp`;
    await writeFile(tmp, JSON.stringify({ entries: Object.fromEntries(this.saved) }, null, 1));
    await rename(tmp, this.path);
  }
}
