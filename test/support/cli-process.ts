/** The package's bin (`browserfleet`, ops/bin/browserfleet.mjs) run as a process, as a user runs it. */
import { execFile } from 'node:child_process';
import { join } from 'node:path';

export const BIN = join(import.meta.dirname, '../../ops/bin/browserfleet.mjs');

export interface Ran {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `browserfleet …args` with `env` over this process's environment; never rejects. */
export const runCli = (args: string[], env: Record<string, string> = {}): Promise<Ran> =>
  new Promise((resolve) => {
    execFile(
      process.execPath,
      [BIN, ...args],
      {
        env: { ...process.env, ...env },
        timeout: 60_000,
        maxBuffer: 16 * 1024 * 1024,
        encoding: 'buffer',
      },
      (error, stdout, stderr) =>
        resolve({
          code: error === null ? 0 : typeof error.code === 'number' ? error.code : -1,
          stdout: stdout.toString('utf8'),
          stderr: stderr.toString('utf8'),
        }),
    );
  });

/** The environment `browserfleet admin` needs to reach a test cloud's state table. */
export const adminEnv = (cloud: {
  names: { stateTable: string };
  endpoints: { dynamodb: string };
}): Record<string, string> => ({
  STATE_TABLE_NAME: cloud.names.stateTable,
  AWS_ENDPOINT_URL_DYNAMODB: cloud.endpoints.dynamodb,
  // The operator's allow-list, as the test cloud's: receivers and fixtures are on 127.0.0.1.
  EGRESS_ALLOW: '127.0.0.1',
});
