import { createReadStream, existsSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { EVENTS_FILE, MANIFEST_FILE } from './events.js';

/**
 * Finds and filters session records by reading them. (The state-store
 * index of the session-records issue will answer the same questions
 * without reading every record.)
 */

export interface SessionSummary {
  id: string;
  dir: string;
  started: string;
  ended: string | null;
  sealed: boolean;
  subject: string;
  kind: string;
  issuer: string;
  target: string;
  client: string;
  commands: number;
  allowed: number;
  denied: number;
  review: number;
  errors: number;
}

export interface SessionFilter {
  subject?: string;
  target?: string;
  /** ISO 8601; sessions that started at or after. */
  since?: string;
  /** ISO 8601; sessions that started before. */
  until?: string;
  /** Sessions with at least one decision of this action. */
  decision?: 'allow' | 'deny' | 'review';
  /** Sessions with a command whose text contains this (case-insensitive). */
  text?: string;
}

interface Line {
  type: string;
  data: Record<string, unknown>;
}

/** Every record directory below `root` (`<root>/<yyyy-mm-dd>/<session-id>`), oldest day first. */
export async function recordDirectories(root: string): Promise<string[]> {
  const dirs: string[] = [];
  const days = (await readdir(root).catch(() => [] as string[]))
    .filter((d) => /^\d{4}-\d{2}-\d{2}$/.test(d))
    .sort();
  for (const day of days) {
    for (const id of (await readdir(join(root, day))).sort()) {
      if (existsSync(join(root, day, id, EVENTS_FILE))) dirs.push(join(root, day, id));
    }
  }
  return dirs;
}

/** Reads one record's events, skipping a torn last line (a crashed gateway's). */
export async function* readEvents(dir: string): AsyncGenerator<Line> {
  const lines = createInterface({
    input: createReadStream(join(dir, EVENTS_FILE)),
    crlfDelay: Number.POSITIVE_INFINITY,
  });
  for await (const line of lines) {
    try {
      yield JSON.parse(line) as Line;
    } catch {
      return;
    }
  }
}

/** The summary of one record, or null when it is not one that `filter` asks for. */
export async function summarize(
  dir: string,
  filter: SessionFilter = {},
): Promise<SessionSummary | null> {
  let summary: SessionSummary | null = null;
  let decisionMatch = filter.decision === undefined;
  let textMatch = filter.text === undefined;
  const needle = filter.text?.toLowerCase();
  const counts = { commands: 0, allowed: 0, denied: 0, review: 0, errors: 0 };
  let ended: string | null = null;
  for await (const e of readEvents(dir)) {
    if (e.type === 'session.start') {
      const d = e.data as {
        session: { id: string; started: string };
        identity: { subject: string; kind: string; issuer: string };
        target: { name: string };
        client: { address: string };
      };
      summary = {
        id: d.session.id,
        dir,
        started: d.session.started,
        ended: null,
        sealed: existsSync(join(dir, MANIFEST_FILE)),
        subject: d.identity.subject,
        kind: d.identity.kind,
        issuer: d.identity.issuer,
        target: d.target.name,
        client: d.client.address,
        ...counts,
      };
      if (!matchesStart(summary, filter)) return null;
    } else if (e.type === 'command') {
      counts.commands++;
      if (needle && String(e.data.raw).toLowerCase().includes(needle)) textMatch = true;
    } else if (e.type === 'decision') {
      const action = e.data.action as 'allow' | 'deny' | 'review';
      counts[action === 'allow' ? 'allowed' : action === 'deny' ? 'denied' : 'review']++;
      if (action === filter.decision) decisionMatch = true;
    } else if (e.type === 'result' && e.data.error) counts.errors++;
    else if (e.type === 'session.end') ended = String(e.data.ended);
  }
  if (!summary || !decisionMatch || !textMatch) return null;
  return { ...summary, ...counts, ended };
}

function matchesStart(s: SessionSummary, f: SessionFilter): boolean {
  if (f.subject !== undefined && s.subject !== f.subject) return false;
  if (f.target !== undefined && s.target !== f.target) return false;
  if (f.since !== undefined && Date.parse(s.started) < Date.parse(f.since)) return false;
  if (f.until !== undefined && Date.parse(s.started) >= Date.parse(f.until)) return false;
  return true;
}

/** The records below `root` that match `filter`, oldest first. */
export async function findSessions(
  root: string,
  filter: SessionFilter = {},
): Promise<SessionSummary[]> {
  const out: SessionSummary[] = [];
  for (const dir of await recordDirectories(root)) {
    const s = await summarize(dir, filter);
    if (s) out.push(s);
  }
  return out.sort((a, b) => (a.started < b.started ? -1 : a.started > b.started ? 1 : 0));
}
