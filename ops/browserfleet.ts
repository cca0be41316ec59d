/**
 * `browserfleet <command>`, the package's command line (bin: ops/bin/browserfleet.mjs).
 *
 *   browserfleet mcp      bridges stdio to the platform's /mcp, for desktop MCP clients
 *
 * Reads BROWSERFLEET_URL (default http://127.0.0.1:3000, `npm start`'s) and
 * BROWSERFLEET_API_KEY.
 */
import { z } from 'zod';
import { runMcpBridge } from './mcp-bridge.js';

const USAGE = `usage: browserfleet <command>
  mcp    bridge stdio to the platform's /mcp (env: BROWSERFLEET_URL, BROWSERFLEET_API_KEY)`;

const envSchema = z.object({
  BROWSERFLEET_URL: z.url({ protocol: /^https?$/ }).default('http://127.0.0.1:3000'),
  BROWSERFLEET_API_KEY: z.string({ error: 'is required: the API key to call the platform with' }).min(1),
});

const main = async (argv: string[]): Promise<number> => {
  const [command] = argv;
  if (command === undefined || command === '--help' || command === '-h') {
    process.stderr.write(`${USAGE}\n`);
    return command === undefined ? 2 : 0;
  }
  if (command !== 'mcp') {
    process.stderr.write(`browserfleet: unknown command "${command}"\n${USAGE}\n`);
    return 2;
  }
  const env = envSchema.safeParse(process.env);
  if (!env.success) {
    for (const issue of env.error.issues)
      process.stderr.write(`browserfleet: ${issue.path.join('.')} ${issue.message}\n`);
    return 2;
  }
  // stdout carries the protocol: everything else goes to stderr.
  await runMcpBridge({
    baseUrl: env.data.BROWSERFLEET_URL,
    apiKey: env.data.BROWSERFLEET_API_KEY,
    log: (line) => process.stderr.write(`browserfleet mcp: ${line}\n`),
  });
  return 0;
};

process.exitCode = await main(process.argv.slice(2));
