// Best-of-n timing for the benchmarks. Wall time is what the targets are about; CPU time (all
// threads of this process, user + system) is given too because the machine is shared: it
// shows the cost of the work itself when other processes compete for the cores.
const cpuMs = (c) => (c.user + c.system) / 1000;

/** Runs `f` (sync) `n` times: the best wall and CPU milliseconds, and the last result. */
export function best(n, f) {
  let t = Infinity, cpu = Infinity, out;
  for (let i = 0; i < n; i++) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    out = f();
    t = Math.min(t, performance.now() - t0);
    cpu = Math.min(cpu, cpuMs(process.cpuUsage(c0)));
  }
  return { ms: t, cpu, out };
}

/** As `best`, awaiting `f` each time. */
export async function bestAsync(n, f) {
  let t = Infinity, cpu = Infinity, out;
  for (let i = 0; i < n; i++) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    out = await f();
    t = Math.min(t, performance.now() - t0);
    cpu = Math.min(cpu, cpuMs(process.cpuUsage(c0)));
  }
  return { ms: t, cpu, out };
}
