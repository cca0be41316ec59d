/**
 * The bench's headline figures against issue 15's targets: the table `npm run bench`
 * prints, and the targets as .bench/screenshot.json records them.
 */

/** `at most` or `at least` a value; a figure without a target is shown, not judged. */
interface Target {
  op: '<=' | '>=';
  value: number;
}

/** Today's AWS calls per task when the target was set; the target is half of it. */
const REQUESTS_PER_TASK_BEFORE = 18.1;

export const TARGETS = {
  workerRatio: { op: '>=', value: 0.95 },
  endToEndRatio: { op: '>=', value: 0.8 },
  addedP50Ms: { op: '<=', value: 50 },
  requestsPerTask: { op: '<=', value: REQUESTS_PER_TASK_BEFORE / 2 },
  idleRssMb: { op: '<=', value: 300 },
  sessionLiveP50Ms: { op: '<=', value: 100 },
  lambdaColdMs: { op: '<=', value: 800 },
} as const satisfies Record<string, Target>;

export interface Figure {
  name: string;
  /** What it measures, in a few words. */
  label: string;
  value: number | null | undefined;
  unit?: string;
  target?: Target;
  /** Why there is no value, when there isn't. */
  note?: string;
}

const met = (f: Figure): string => {
  if (f.target === undefined || f.value === null || f.value === undefined) return '';
  const ok = f.target.op === '<=' ? f.value <= f.target.value : f.value >= f.target.value;
  return ok ? 'met' : 'not met';
};

/** The figures as rows: name, what it is, value, target, met. */
export const table = (figures: Figure[]): string => {
  const rows = [
    ['figure', 'what', 'measured', 'target', ''],
    ...figures.map((f) => [
      f.name,
      f.label,
      f.value === null || f.value === undefined
        ? `n/a${f.note === undefined ? '' : ` (${f.note})`}`
        : `${f.value}${f.unit ?? ''}`,
      f.target === undefined ? '' : `${f.target.op} ${Number(f.target.value.toFixed(2))}${f.unit ?? ''}`,
      met(f),
    ]),
  ];
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => r[i]?.length ?? 0))) ?? [];
  return rows
    .map(
      (r) =>
        `  ${r
          .map((cell, i) => cell.padEnd(widths[i] ?? 0))
          .join('  ')
          .trimEnd()}`,
    )
    .join('\n');
};
