// Node only: the `npm run xenstored -- --socket PATH` daemon.
import { XenStore } from '../state';
import { listenUnix } from './socketServer';
import { Quotas, isQuotaName } from '../quota';

const USAGE = 'usage: xenstored --socket PATH [--quota NAME=VALUE]... [--busy-poll MICROSECONDS] [--log]';

/** Parses arguments, starts the server and prints "xenstored: listening on PATH" when ready; returns the exit code on bad usage. */
export async function main(argv: string[]): Promise<number> {
  let socket = '';
  const quotas: Partial<Quotas> = {};
  let log = false;
  let busyPoll = 0;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--socket' && i + 1 < argv.length) socket = argv[++i];
    else if (a.startsWith('--socket=')) socket = a.substring(9);
    else if (a === '--log') log = true;
    else if (a === '--busy-poll' && i + 1 < argv.length) {
      const n = Number(argv[++i]);
      if (!Number.isInteger(n) || n < 0 || n > 10000) {
        process.stderr.write('xenstored: bad --busy-poll "' + argv[i] + '" (0 to 10000 microseconds)\n' + USAGE + '\n');
        return 2;
      }
      busyPoll = n;
    }
    else if (a === '--quota' && i + 1 < argv.length) {
      const [name, val] = argv[++i].split('=');
      const n = Number(val);
      if (!isQuotaName(name) || !Number.isInteger(n) || n < 0) {
        process.stderr.write('xenstored: bad quota "' + argv[i] + '"\n' + USAGE + '\n');
        return 2;
      }
      quotas[name] = n;
    } else if (a === '--help' || a === '-h') {
      process.stdout.write(USAGE + '\n');
      return 0;
    } else {
      process.stderr.write('xenstored: unknown argument "' + a + '"\n' + USAGE + '\n');
      return 2;
    }
  }
  if (!socket) {
    process.stderr.write('xenstored: --socket PATH is required\n' + USAGE + '\n');
    return 2;
  }
  const store = new XenStore({ quotas, hooks: { log: (l) => process.stderr.write(l + '\n') } });
  store.logging = log;
  let srv;
  try {
    srv = await listenUnix(store, socket, { busyPollMicros: busyPoll });
  } catch (e) {
    process.stderr.write('xenstored: cannot listen on ' + socket + ': ' + (e as Error).message + '\n');
    return 1;
  }
  const stop = (): void => {
    srv.close().then(() => process.exit(0));
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  process.stdout.write('xenstored: listening on ' + socket + '\n');
  return -1;
}
