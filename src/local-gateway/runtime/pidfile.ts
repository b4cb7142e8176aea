/**
 * `<dataDir>/runtime.json`: the processes the gateway is running right now (pid, what it is, its
 * port). Rewritten on every change, emptied on a clean stop. After a crash of the gateway the next
 * start reads it and stops leftovers — only processes that carry this data folder's marker
 * variable (checked in /proc on Linux), so a recycled pid is never killed.
 */

import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { LOCAL_ID_VARIABLE } from './env.js';
import { killGroup } from './processes.js';

export interface ProcessRecord {
  pid: number;
  kind: 'build' | 'app' | 'engine';
  /** Deployment id (build, app) or dependency row id (engine). */
  id: string;
  port?: number;
  service_id?: string;
}

export const RUNTIME_FILE = 'runtime.json';

export function writeProcessFile(dataDir: string, records: ProcessRecord[]): void {
  const file = path.join(dataDir, RUNTIME_FILE);
  const tmp = `${file}.${process.pid}.tmp`;
  try {
    writeFileSync(tmp, `${JSON.stringify({ pid: process.pid, processes: records }, null, 2)}\n`, { mode: 0o600 });
    renameSync(tmp, file);
  } catch {
    // Best effort: the file is a diagnostic and a crash-recovery aid, never the source of truth.
  }
}

export function readProcessFile(dataDir: string): ProcessRecord[] {
  try {
    const parsed = JSON.parse(readFileSync(path.join(dataDir, RUNTIME_FILE), 'utf8')) as { processes?: unknown };
    return Array.isArray(parsed.processes) ? (parsed.processes as ProcessRecord[]).filter((p) => Number.isInteger(p?.pid) && p.pid > 1) : [];
  } catch {
    return [];
  }
}

function carriesMarker(pid: number, id: string): boolean {
  try {
    const environ = readFileSync(`/proc/${pid}/environ`, 'latin1');
    return environ.split('\0').includes(`${LOCAL_ID_VARIABLE}=${id}`);
  } catch {
    return false;
  }
}

/** Stops processes a crashed previous run left behind; returns how many were stopped. */
export function stopLeftovers(dataDir: string): number {
  let stopped = 0;
  for (const record of readProcessFile(dataDir)) {
    if (record.pid === process.pid) continue;
    if (!carriesMarker(record.pid, record.id)) continue;
    if (killGroup(record.pid, 'SIGKILL')) stopped += 1;
  }
  return stopped;
}
