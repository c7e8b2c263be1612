// The pid of a redis-server, from its own `INFO server`, so the bench can pin it and
// account its CPU (it is started by test-support, which does not hand out pids).

export class RedisPidError extends Error {
  constructor(where: string) {
    super(`no process_id in INFO server of ${where}`);
    this.name = 'RedisPidError';
  }
}

/** `process_id` of an `INFO server` reply; `where` names the node in the error. */
export function redisPidFromInfo(info: string, where: string): number {
  const pid = Number(/process_id:(\d+)/.exec(info)?.[1]);
  if (!Number.isInteger(pid) || pid <= 0) throw new RedisPidError(where);
  return pid;
}
