/**
 * Which TCP ports a process group listens on, read from /proc (Linux only; null elsewhere). Used to
 * tell "the app listens on 3000 instead of PORT" within seconds instead of waiting out the
 * readiness timeout.
 */

import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

function groupPids(pgid: number): number[] {
  const pids: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      // Fields after the command (which may contain spaces) start after the last ')'.
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(fields[2]) === pgid) pids.push(Number(name));
    } catch {
      // gone meanwhile
    }
  }
  return pids;
}

function socketInodes(pid: number): Set<string> {
  const inodes = new Set<string>();
  try {
    for (const fd of readdirSync(`/proc/${pid}/fd`)) {
      try {
        const match = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
        if (match?.[1]) inodes.add(match[1]);
      } catch {
        // closed meanwhile
      }
    }
  } catch {
    // not ours to read, or gone
  }
  return inodes;
}

/** Listening TCP ports of every process in the group, or null when /proc cannot tell. */
export function listeningPorts(pgid: number | undefined): number[] | null {
  if (pgid === undefined || process.platform !== 'linux') return null;
  try {
    const inodes = new Set<string>();
    for (const pid of groupPids(pgid)) for (const inode of socketInodes(pid)) inodes.add(inode);
    const ports = new Set<number>();
    for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
      let text = '';
      try {
        text = readFileSync(table, 'utf8');
      } catch {
        continue;
      }
      for (const line of text.split('\n').slice(1)) {
        const cols = line.trim().split(/\s+/);
        // local_address is cols[1] (hex ip:port), st is cols[3] (0A = LISTEN), inode is cols[9].
        if (cols[3] !== '0A' || !cols[9] || !inodes.has(cols[9])) continue;
        const port = Number.parseInt((cols[1] ?? '').split(':').pop() ?? '', 16);
        if (Number.isInteger(port) && port > 0) ports.add(port);
      }
    }
    return [...ports].sort((a, b) => a - b);
  } catch {
    return null;
  }
}
