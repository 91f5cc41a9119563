import { execFile } from 'node:child_process';

/** Run `rabbitmqctl` (works as root on the test machine); resolves with stdout. */
export function rabbitmqctl(args: readonly string[]): Promise<string> {
  return new Promise((res, rej) => {
    execFile('rabbitmqctl', [...args], { timeout: 60_000 }, (err, stdout, stderr) => {
      if (err) rej(new Error(`rabbitmqctl ${args.join(' ')}: ${err.message}\n${stderr}`));
      else res(stdout);
    });
  });
}

/**
 * Pids of the RabbitMQ connections whose `connection_name` client property is exactly `name`
 * (only our own connections are ever closed: the machine's RabbitMQ is shared).
 */
export async function connectionsNamed(name: string): Promise<string[]> {
  const out = await rabbitmqctl(['list_connections', '-q', 'pid', 'client_properties']);
  const needle = `{"connection_name","${name}"}`;
  return out
    .split('\n')
    .filter((l) => l.includes(needle))
    .map((l) => l.split('\t')[0] ?? '')
    .filter((p) => p.startsWith('<'));
}

/** Local TCP ports of a process's connections to port 5672 (from `ss -tnp`). */
function portsOfPid(pid: number): Promise<number[]> {
  return new Promise((res, rej) => {
    execFile('ss', ['-Htnp', 'dst', '127.0.0.1:5672'], (err, stdout) => {
      if (err) {
        rej(new Error(`ss: ${err.message}`));
        return;
      }
      const ports: number[] = [];
      for (const l of stdout.split('\n')) {
        if (!l.includes(`pid=${String(pid)},`)) continue;
        const local = l.trim().split(/\s+/)[3] ?? ''; // State Recv-Q Send-Q Local Peer
        const port = Number(local.slice(local.lastIndexOf(':') + 1));
        if (Number.isInteger(port)) ports.push(port);
      }
      res(ports);
    });
  });
}

/** Pids of the RabbitMQ connections opened by OS process `pid` (matched by its client ports). */
export async function connectionsOfProcess(pid: number): Promise<string[]> {
  const ports = new Set(await portsOfPid(pid));
  const out = await rabbitmqctl(['list_connections', '-q', 'pid', 'peer_port']);
  return out
    .split('\n')
    .map((l) => l.split('\t'))
    .filter(([p, port]) => p?.startsWith('<') === true && ports.has(Number(port)))
    .map(([p]) => p ?? '');
}

/** `rabbitmqctl close_connection <pid> <reason>`: what a broker-side cut does. */
export async function closeConnections(pids: readonly string[], reason: string): Promise<void> {
  for (const p of pids) await rabbitmqctl(['close_connection', p, reason]);
}

/**
 * Close, with one `rabbitmqctl eval`, every RabbitMQ connection of OS process `pid` (matched by
 * its client ports): a cut of all its connections at once, as a broker restart does, and one
 * Erlang VM start instead of one per connection.
 */
export async function closeConnectionsOfProcess(pid: number, reason: string): Promise<number> {
  const ports = await portsOfPid(pid);
  if (ports.length === 0) return 0;
  const expr =
    `Ports = [${ports.join(',')}], ` +
    `Pids = [proplists:get_value(pid, I) || I <- rabbit_networking:connection_info_all([pid, peer_port]), ` +
    `lists:member(proplists:get_value(peer_port, I), Ports)], ` +
    `[rabbit_networking:close_connection(P, ${JSON.stringify(reason)}) || P <- Pids], length(Pids).`;
  const out = await rabbitmqctl(['eval', expr]);
  return Number(out.trim());
}
