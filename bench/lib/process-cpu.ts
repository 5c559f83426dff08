// CPU time of a local process from /proc/<pid>/stat (utime + stime), for benches that measure a
// server or a database backend beside themselves.

import { readFileSync } from 'node:fs';

// Linux's USER_HZ, in which /proc/<pid>/stat counts CPU time, is 100 on every common build.
const CLOCK_TICKS_PER_SECOND = 100;

/** utime + stime in seconds; throws when the process cannot be read. */
export function readProcessCpuSeconds(pid: number): number {
  // Fields after the command name (which may hold spaces) start at state, field 3.
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_SECOND;
}

/** As readProcessCpuSeconds, or 0 when it cannot be read (a server on another host). */
export function processCpuSeconds(pid: number): number {
  try {
    return readProcessCpuSeconds(pid);
  } catch {
    return 0;
  }
}
