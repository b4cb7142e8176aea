/**
 * `<dataDir>/runtime.json`: the processes the gateway is running right now (pid, what it is, its
 * port). Rewritten on every change, emptied on a clean stop. After a crash of the gateway the next
 * start reads it and stops leftovers — only processes that carry this data folder's marker
 * variable (checked in /proc on Linux), so a recycled pid is never killed. ProcessTracker keeps
 * the file in step with the children this gateway runs.
 */

import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { LOCAL_ID_VARIABLE } from './env.js';
import { killGroup, type GroupProcess } from './processes.js';

export interface ProcessRecord {
  pid: number;
  kind: 'build' | 'app' | 'engine';
  /** Deployment id (build, app) or dependency row id (engine). */
  id: string;
  port?: number;
  service_id?: string;
}

const RUNTIME_FILE = 'runtime.json';

function writeProcessFile(dataDir: string, records: ProcessRecord[]): void {
  const file = path.join(dataDir, RUNTIME_FILE);
  const tmp = `${file}.${process.pid}.tmp`;
  try {
    writeFileSync(tmp, `${JSON.stringify({ pid: process.pid, processes: records }, null, 2)}\n`, { mode: 0o600 });
    renameSync(tmp, file);
  } catch {
    // Best effort: the file is a diagnostic and a crash-recovery aid, never the source of truth.
  }
}

function readProcessFile(dataDir: string): ProcessRecord[] {
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

/** The children this gateway runs right now, mirrored into the process file on every change. */
export class ProcessTracker {
  private readonly tracked = new Map<GroupProcess, ProcessRecord>();

  constructor(private readonly dataDir: string) {}

  /** Records a started child; the returned function forgets it (call it when the child exits). */
  track(child: GroupProcess, record: Omit<ProcessRecord, 'pid'>): () => void {
    if (child.pid === undefined) return () => undefined;
    this.tracked.set(child, { pid: child.pid, ...record });
    this.write();
    return () => {
      if (this.tracked.delete(child)) this.write();
    };
  }

  /** Stops every tracked child still running (builds mostly: apps and engines stop on their own). */
  stopAll(graceMs: number): Array<Promise<unknown>> {
    return [...this.tracked.keys()].map((child) => child.stop(graceMs));
  }

  clear(): void {
    this.tracked.clear();
    this.write();
  }

  write(): void {
    writeProcessFile(this.dataDir, [...this.tracked.values()]);
  }
}
