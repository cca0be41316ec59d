/**
 * A Lambda-like sandbox made of what a fresh machine of this kind has (util-linux's
 * `unshare` and `setpriv`, a cgroup-v1 memory controller), to run the Lambda tier the way
 * Lambda runs it:
 *
 * - a private mount namespace in which every file system is read-only except a fresh
 *   512 MB tmpfs at /tmp (Lambda's ephemeral storage default);
 * - /dev/shm an empty read-only tmpfs: nothing can be put in shared memory there;
 * - the Chromium layer's staged directory mounted read-only at /opt, as the layer is;
 * - a non-root user (Lambda's sbx_user1051 is uid 993);
 * - Lambda's environment variables, and no others from this process;
 * - the function's memory size as a hard limit (a memory cgroup), where the machine has one.
 *
 * What it cannot be: Firecracker, Lambda's seccomp filter, its fd and process limits, and
 * its missing user namespaces. Those stay for a real invocation to show.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Lambda's function user. */
export const LAMBDA_UID = 993;

/** Why the sandbox can't run here, or undefined when it can. */
export const lambdaSandboxUnavailable = (): string | undefined => {
  if (process.platform !== 'linux') return 'the Lambda-like sandbox needs Linux namespaces';
  if (process.getuid?.() !== 0)
    return 'the Lambda-like sandbox needs root (to mount and drop to a non-root user)';
  for (const tool of ['/usr/bin/unshare', '/usr/bin/setpriv']) {
    if (!existsSync(tool)) return `${tool} (util-linux) is missing`;
  }
  const probe = spawnSync('/usr/bin/unshare', ['--mount', '--', '/bin/true']);
  if (probe.status !== 0) return `unshare --mount fails here: ${probe.stderr.toString().trim()}`;
  return undefined;
};

/** The environment Lambda's nodejs22.x runtime gives a function (values as on AWS). */
export const lambdaEnvironment = (functionName: string, memoryMb: number): Record<string, string> => ({
  AWS_LAMBDA_FUNCTION_NAME: functionName,
  AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(memoryMb),
  AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
  AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand',
  AWS_LAMBDA_LOG_GROUP_NAME: `/aws/lambda/${functionName}`,
  AWS_LAMBDA_LOG_STREAM_NAME: '2026/12/01/[$LATEST]sandbox',
  AWS_LAMBDA_RUNTIME_API: '127.0.0.1:9001',
  // @sparticuz/chromium reads this to decide it is on Lambda (and then sets up its AL2023 libs).
  AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs22.x',
  AWS_REGION: 'us-east-1',
  AWS_DEFAULT_REGION: 'us-east-1',
  LAMBDA_TASK_ROOT: '/var/task',
  LAMBDA_RUNTIME_DIR: '/var/runtime',
  _HANDLER: `${functionName}.handler`,
  LANG: 'en_US.UTF-8',
  TZ: ':UTC',
  PATH: '/var/lang/bin:/usr/local/bin:/usr/bin/:/bin:/opt/bin',
  LD_LIBRARY_PATH:
    '/var/lang/lib:/lib64:/usr/lib64:/var/runtime:/var/runtime/lib:/var/task:/var/task/lib:/opt/lib',
  NODE_PATH: '/opt/nodejs/node22/node_modules:/opt/nodejs/node_modules:/var/runtime/node_modules',
});

/** Runs inside the new mount namespace as root, then becomes the function's user. */
const SANDBOX_SCRIPT = `
set -eu
# Every mount read-only, except the kernel's own file systems.
for mp in $(awk '{print $5}' /proc/self/mountinfo | sort -u); do
  case "$mp" in /proc|/proc/*|/sys|/sys/*|/dev|/dev/pts|/dev/pts/*) continue ;; esac
  mount -o remount,bind,ro "$mp" 2>/dev/null || true
done
# The fresh /tmp hides whatever lives under the host's /tmp (a checkout, a staged layer):
# keep the host's /tmp reachable at /mnt first, and bind those paths back, read-only.
mount --bind /tmp /mnt
mount -o remount,bind,ro /mnt
mount -t tmpfs -o "size=\${BF_SANDBOX_TMP_MB}m,mode=1777" tmpfs /tmp
from_host() { case "$1" in /tmp/*) echo "/mnt/\${1#/tmp/}" ;; *) echo "$1" ;; esac; }
case "$BF_SANDBOX_CWD" in
  /tmp/*)
    mkdir -p "$BF_SANDBOX_CWD"
    mount --bind "$(from_host "$BF_SANDBOX_CWD")" "$BF_SANDBOX_CWD"
    mount -o remount,bind,ro "$BF_SANDBOX_CWD"
    ;;
esac
if [ -d /dev/shm ]; then mount -t tmpfs -o ro,size=4k,mode=755 tmpfs /dev/shm; fi
if [ -n "\${BF_SANDBOX_OPT:-}" ]; then
  mount --bind "$(from_host "$BF_SANDBOX_OPT")" /opt
  mount -o remount,bind,ro /opt
fi
if [ -n "\${BF_SANDBOX_CGROUP:-}" ]; then echo $$ > "$BF_SANDBOX_CGROUP/cgroup.procs"; fi
cd "$BF_SANDBOX_CWD"
nnp=""; if [ -n "\${BF_SANDBOX_NNP:-}" ]; then nnp="--no-new-privs"; fi
unset BF_SANDBOX_TMP_MB BF_SANDBOX_OPT BF_SANDBOX_CGROUP BF_SANDBOX_CWD BF_SANDBOX_NNP
exec /usr/bin/setpriv --reuid=${LAMBDA_UID} --regid=${LAMBDA_UID} --clear-groups --pdeathsig KILL $nnp -- "$@"
`;

/** A child memory cgroup (v1) of this process's own, limited to `memoryMb`, or undefined. */
const memoryCgroup = (memoryMb: number): string | undefined => {
  try {
    const line = readFileSync('/proc/self/cgroup', 'utf8')
      .split('\n')
      .find((l) => l.split(':')[1] === 'memory');
    const base = '/sys/fs/cgroup/memory';
    if (line === undefined || !existsSync(join(base, 'memory.limit_in_bytes'))) return undefined;
    const dir = join(base, line.split(':')[2] ?? '/', `bf-lambda-${process.pid}-${Date.now()}`);
    mkdirSync(dir);
    writeFileSync(join(dir, 'memory.limit_in_bytes'), String(memoryMb * 1024 * 1024));
    return dir;
  } catch {
    return undefined;
  }
};

export interface LambdaSandboxRun {
  code: number | null;
  stdout: string;
  stderr: string;
  /** Whether the memory limit was enforced (a memory cgroup could be made). */
  memoryLimited: boolean;
  /** The cgroup's peak usage, when limited. */
  peakMemoryMb?: number;
}

export interface LambdaSandboxOptions {
  /** The program and its arguments, run as the function's user. */
  command: string[];
  /** Added to Lambda's environment (the function's configuration). */
  env: Record<string, string>;
  functionName: string;
  memoryMb: number;
  /** Mounted read-only at /opt: the staged layer. */
  layerDir?: string;
  tmpMb?: number;
  /** Start with no_new_privs set, as a process under a seccomp filter like Lambda's may be. */
  noNewPrivs?: boolean;
  cwd: string;
  timeoutMs: number;
}

/** Runs `command` in the sandbox and answers its output once it exits (or is killed at the timeout). */
export const runInLambdaSandbox = (options: LambdaSandboxOptions): Promise<LambdaSandboxRun> => {
  const cgroup = memoryCgroup(options.memoryMb);
  const child = spawn(
    '/usr/bin/unshare',
    [
      '--mount',
      '--propagation',
      'private',
      '--',
      '/bin/sh',
      '-c',
      SANDBOX_SCRIPT,
      'sandbox',
      ...options.command,
    ],
    {
      env: {
        ...lambdaEnvironment(options.functionName, options.memoryMb),
        ...options.env,
        BF_SANDBOX_TMP_MB: String(options.tmpMb ?? 512),
        BF_SANDBOX_OPT: options.layerDir ?? '',
        BF_SANDBOX_CGROUP: cgroup ?? '',
        BF_SANDBOX_CWD: options.cwd,
        BF_SANDBOX_NNP: options.noNewPrivs === true ? '1' : '',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => {
    stdout += d.toString();
  });
  child.stderr.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      let peakMemoryMb: number | undefined;
      if (cgroup !== undefined) {
        try {
          peakMemoryMb = Math.round(
            Number(readFileSync(join(cgroup, 'memory.max_usage_in_bytes'), 'utf8')) / 1024 / 1024,
          );
          rmdirSync(cgroup);
        } catch {
          // A straggler still in the cgroup: it goes with the next boot.
        }
      }
      resolve({
        code,
        stdout,
        stderr,
        memoryLimited: cgroup !== undefined,
        ...(peakMemoryMb === undefined ? {} : { peakMemoryMb }),
      });
    });
  });
};
